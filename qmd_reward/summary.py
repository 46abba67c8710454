"""Aggregate score cards while streaming, and render the summary for people."""

from __future__ import annotations

import heapq
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TextIO

from .scorecard import RATING_NAMES, ScoreCard


@dataclass
class Summary:
    """Running totals: memory stays flat however many records stream through."""

    worst_kept: int = 5
    scored: int = 0
    errors: int = 0
    skipped: int = 0
    score_sum: float = 0.0
    ratings: Counter = field(default_factory=Counter)
    dim_sum: defaultdict = field(default_factory=lambda: defaultdict(float))
    dim_count: Counter = field(default_factory=Counter)
    _worst: list = field(default_factory=list)  # max-heap by score via negation
    _seq: int = 0

    def add(self, where: str, query: str, card: ScoreCard) -> None:
        self.scored += 1
        self.score_sum += card.score
        self.ratings[card.rating] += 1
        for name, points in card.dimensions.items():
            self.dim_sum[name] += points
            self.dim_count[name] += 1
        self._seq += 1
        item = (-card.score, -self._seq, where, query, card.main_deduction, card.score)
        if len(self._worst) < self.worst_kept:
            heapq.heappush(self._worst, item)
        elif item > self._worst[0]:
            heapq.heapreplace(self._worst, item)

    @property
    def mean(self) -> float:
        return self.score_sum / self.scored if self.scored else 0.0

    def dimension_means(self) -> dict[str, float]:
        return {name: self.dim_sum[name] / self.dim_count[name] for name in self.dim_sum}

    def worst(self) -> list[tuple[str, str, float, str]]:
        ordered = sorted(self._worst, key=lambda item: (-item[0], -item[1]))
        return [(where, query, score, why) for _, _, where, query, why, score in ordered]

    def as_dict(self) -> dict:
        return {
            "records_scored": self.scored,
            "errors": self.errors,
            "skipped": self.skipped,
            "mean_score": self.mean,
            "ratings": {name: self.ratings.get(name, 0) for name in RATING_NAMES},
            "dimensions": self.dimension_means(),
        }


def render(summary: Summary, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if out.isatty():
        _render_rich(summary, out)
    else:
        _render_plain(summary, out)


def _render_plain(s: Summary, out: TextIO) -> None:
    out.write(f"records scored: {s.scored}\n")
    if s.errors or s.skipped:
        out.write(f"errors: {s.errors}  skipped: {s.skipped}\n")
    out.write(f"mean score: {s.mean:.4f}\n")
    out.write("ratings: ")
    out.write(", ".join(f"{n} {s.ratings.get(n, 0)}" for n in RATING_NAMES) + "\n")
    out.write("mean per dimension:\n")
    for name, mean in s.dimension_means().items():
        out.write(f"  {name:<10} {mean:7.2f}  (n={s.dim_count[name]})\n")
    if s.scored:
        out.write("worst records:\n")
        for where, query, score, why in s.worst():
            out.write(f"  {score:.3f}  {where}  {query!r}: {why or '-'}\n")


def _render_rich(s: Summary, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out)
    head = Table(title="qmd-reward score", show_header=False)
    head.add_row("records scored", str(s.scored))
    head.add_row("errors / skipped", f"{s.errors} / {s.skipped}")
    head.add_row("mean score", f"{s.mean:.4f}")
    for name in RATING_NAMES:
        head.add_row(f"  {name}", str(s.ratings.get(name, 0)))
    console.print(head)
    dims = Table(title="mean per dimension")
    dims.add_column("dimension")
    dims.add_column("mean", justify="right")
    dims.add_column("records", justify="right")
    for name, mean in s.dimension_means().items():
        dims.add_row(name, f"{mean:.2f}", str(s.dim_count[name]))
    console.print(dims)
    if s.scored:
        worst = Table(title="worst records")
        for column in ("score", "where", "query", "main deduction"):
            worst.add_column(column)
        for where, query, score, why in s.worst():
            worst.add_row(f"{score:.3f}", where, query, why or "-")
        console.print(worst)
