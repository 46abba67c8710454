"""``eval compare A B``: paired per-query differences between two result files.

Pairing by query removes the query mix from the comparison: only how each model handles the
same query counts. The confidence interval is a percentile bootstrap over queries, in pure
Python with a seeded ``random.Random`` so the same files and seed give the same interval on
every machine.
"""

from __future__ import annotations

import math
import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from qmd_reward import SCORE_BATCH, Scorer, batched
from qmd_reward.present import write_table
from qmd_reward.records import Record, read_records

TIE = 1e-9
RESAMPLES = 10_000


@dataclass
class Side:
    """One results file, reduced to one score per query (the mean when a query repeats)."""

    path: str
    label: str = ""
    scores: dict[str, list[float]] = field(default_factory=dict)
    expansions: dict[str, str] = field(default_factory=dict)  # the first one seen
    deductions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def mean(self, query: str) -> float:
        values = self.scores[query]
        return sum(values) / len(values)

    @property
    def repeated(self) -> int:
        return sum(1 for values in self.scores.values() if len(values) > 1)


@dataclass(frozen=True)
class Pair:
    query: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a


@dataclass
class Comparison:
    a: Side
    b: Side
    pairs: list[Pair]
    ci: tuple[float, float]
    seed: int
    resamples: int

    @property
    def deltas(self) -> list[float]:
        return [p.delta for p in self.pairs]

    @property
    def mean_delta(self) -> float:
        return math.fsum(self.deltas) / len(self.pairs) if self.pairs else 0.0

    @property
    def wins(self) -> int:
        return sum(1 for d in self.deltas if d >= TIE)

    @property
    def losses(self) -> int:
        return sum(1 for d in self.deltas if d <= -TIE)

    @property
    def ties(self) -> int:
        return sum(1 for d in self.deltas if abs(d) < TIE)

    @property
    def only_a(self) -> list[str]:
        return [q for q in self.a.scores if q not in self.b.scores]

    @property
    def only_b(self) -> list[str]:
        return [q for q in self.b.scores if q not in self.a.scores]

    def regressions(self, k: int) -> list[Pair]:
        return sorted((p for p in self.pairs if p.delta <= -TIE), key=lambda p: p.delta)[:k]

    def improvements(self, k: int) -> list[Pair]:
        return sorted((p for p in self.pairs if p.delta >= TIE), key=lambda p: -p.delta)[:k]


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), ``ordered`` sorted."""
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap_ci(
    values: Sequence[float], resamples: int = RESAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of ``values``."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    data = list(values)
    means = sorted(math.fsum(rng.choices(data, k=n)) / n for _ in range(resamples))
    tail = (1.0 - level) / 2
    return percentile(means, tail), percentile(means, 1.0 - tail)


def load_side(path: str, scorer: Scorer, metric: str | None = None) -> Side:
    """One file's scores per query: the judge's, or with ``metric`` the number each record
    carries under ``qmd`` (what `eval qmd` writes), so a raw-query baseline without an
    expansion compares with a model on QMD's retrieval."""
    side = Side(path)
    records = [r for r in read_records(path)]
    for record in records:
        if record.format == "meta" and not side.label:
            side.label = str(record.data.get("model") or "")
        if record.error:
            side.errors.append(f"{record.file}:{record.line}: {record.error}")
    scorable = [r for r in records if r.scorable]
    if metric is not None:
        _load_metric(side, scorable, metric)
        side.label = side.label or path
        return side
    cards = []
    for batch in batched(scorable, SCORE_BATCH):  # as `qmd-reward score` batches them
        cards += scorer.score_batch([(r.query or "", r.expansion or "") for r in batch])
    for record, card in zip(scorable, cards):
        query = record.query or ""
        side.scores.setdefault(query, []).append(card.score)
        side.expansions.setdefault(query, record.expansion or "")
        side.deductions.setdefault(query, card.deductions)
    side.label = side.label or path
    return side


def _load_metric(side: Side, records: Sequence[Record], metric: str) -> None:
    for record in records:
        qmd = record.data.get("qmd")
        value = qmd.get(metric) if isinstance(qmd, dict) else None
        if not isinstance(value, int | float):
            side.errors.append(f"{record.file}:{record.line}: no qmd {metric!r} value")
            continue
        query = record.query or ""
        side.scores.setdefault(query, []).append(float(value))
        side.expansions.setdefault(query, record.expansion or "")
        side.deductions.setdefault(query, ())


def compare_files(
    path_a: str,
    path_b: str,
    seed: int = 0,
    resamples: int = RESAMPLES,
    scorer: Scorer | None = None,
    metric: str | None = None,
) -> Comparison:
    scorer = scorer or Scorer()
    a, b = load_side(path_a, scorer, metric), load_side(path_b, scorer, metric)
    pairs = [Pair(q, a.mean(q), b.mean(q)) for q in a.scores if q in b.scores]
    ci = bootstrap_ci([p.delta for p in pairs], resamples, seed)
    return Comparison(a, b, pairs, ci, seed, resamples)


def _side_by_side(left: str, right: str, width: int = 48) -> list[str]:
    def wrap(text: str) -> list[str]:
        lines: list[str] = []
        for raw in text.splitlines() or [""]:
            lines += textwrap.wrap(raw, width, subsequent_indent="  ") or [""]
        return lines

    lhs, rhs = wrap(left), wrap(right)
    rows = max(len(lhs), len(rhs))
    lhs += [""] * (rows - len(lhs))
    rhs += [""] * (rows - len(rhs))
    return [f"{x:<{width}} | {y}".rstrip() for x, y in zip(lhs, rhs)]


def render_comparison(
    comp: Comparison, out: TextIO, top: int = 5, rich: bool | None = None
) -> None:
    rich = out.isatty() if rich is None else rich
    n = len(comp.pairs)
    low, high = comp.ci
    rows: list[Sequence[object]] = [
        ["A", comp.a.label],
        ["B", comp.b.label],
        ["paired queries", n],
        ["mean A", f"{sum(p.a for p in comp.pairs) / n:.4f}" if n else "-"],
        ["mean B", f"{sum(p.b for p in comp.pairs) / n:.4f}" if n else "-"],
        ["mean delta (B - A)", f"{comp.mean_delta:+.4f}"],
        [
            f"95% CI (bootstrap, {comp.resamples} resamples, seed {comp.seed})",
            f"[{low:+.4f}, {high:+.4f}]",
        ],
        ["wins / losses / ties (B vs A)", f"{comp.wins} / {comp.losses} / {comp.ties}"],
    ]
    for side, name in ((comp.a, "A"), (comp.b, "B")):
        if side.repeated:
            rows.append([f"queries repeated in {name}", f"{side.repeated} (scores averaged)"])
        if side.errors:
            rows.append([f"unscorable lines in {name}", len(side.errors)])
    write_table(out, "eval compare", ["", ""], rows, rich, header=False)
    regressions = comp.regressions(top)
    if not regressions:
        out.write("biggest regressions: none\n")
    elif rich:
        write_table(
            out,
            f"biggest regressions (top {len(regressions)})",
            [("delta", "right"), "query", "A expansion", "B expansion", "new in B"],
            [
                [
                    f"{p.delta:+.3f}\n{p.a:.3f} -> {p.b:.3f}",
                    p.query,
                    comp.a.expansions[p.query],
                    comp.b.expansions[p.query],
                    "\n".join(f"- {d}" for d in _new_deductions(comp, p.query)) or "-",
                ]
                for p in regressions
            ],
            rich=True,
        )
    else:
        out.write(f"biggest regressions (top {len(regressions)})\n")
        for p in regressions:
            out.write(f"  {p.delta:+.3f}  {p.query!r}  A {p.a:.3f} -> B {p.b:.3f}\n")
            for line in _side_by_side(
                f"[A]\n{comp.a.expansions[p.query]}", f"[B]\n{comp.b.expansions[p.query]}"
            ):
                out.write(f"      {line}\n")
            for note in _new_deductions(comp, p.query):
                out.write(f"      new in B: {note}\n")
    improvements = comp.improvements(top)
    if not improvements:
        out.write("biggest improvements: none\n")
    else:
        write_table(
            out,
            f"biggest improvements (top {len(improvements)})",
            [("delta", "right"), ("A", "right"), ("B", "right"), "query"],
            [[f"{p.delta:+.3f}", f"{p.a:.3f}", f"{p.b:.3f}", p.query] for p in improvements],
            rich,
        )
    for side, others, name in ((comp.a, comp.only_a, "A"), (comp.b, comp.only_b, "B")):
        if others:
            out.write(f"only in {name} ({side.path}): {len(others)} queries\n")
            for query in others:
                out.write(f"  {query!r}\n")


def _new_deductions(comp: Comparison, query: str) -> list[str]:
    """Deductions B has that A had not: usually the reason for the regression."""
    before = set(comp.a.deductions.get(query, ()))
    return [d for d in comp.b.deductions.get(query, ()) if d not in before]
