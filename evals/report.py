"""``eval report``: score one results file and summarise it per category, dimension and rating."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from qmd_reward import RATING_NAMES, SCORE_BATCH, ScoreCard, Scorer, dimension_max
from qmd_reward.present import histogram, write_table
from qmd_reward.records import Record, read_records
from qmd_reward.summary import Summary

from .queries import UNCATEGORISED, category_map, read_queries


@dataclass(frozen=True)
class Row:
    where: str
    query: str
    expansion: str
    category: str
    card: ScoreCard


@dataclass
class Report:
    source: str
    meta: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    errors: list[str] = field(default_factory=list)  # "FILE:LINE: reason"
    category_order: list[str] = field(default_factory=list)  # as in the queries file

    @property
    def model(self) -> str:
        return str(self.meta.get("model", "")) if self.meta else ""

    def categories(self) -> list[tuple[str, int, float]]:
        """(category, n, mean score): query-file order, then others by name, uncategorised last."""
        scores: dict[str, list[float]] = defaultdict(list)
        for row in self.rows:
            scores[row.category].append(row.card.score)
        known = [c for c in self.category_order if c in scores]
        rest = sorted(c for c in scores if c not in known and c != UNCATEGORISED)
        tail = [UNCATEGORISED] if UNCATEGORISED in scores and UNCATEGORISED not in known else []
        return [(c, len(scores[c]), sum(scores[c]) / len(scores[c])) for c in known + rest + tail]

    def dimensions(self) -> list[tuple[str, float, float, int]]:
        """(dimension, mean points, maximum points, records that have it)."""
        s = self.summary
        return [
            (name, mean, dimension_max(name, None), s.dim_count[name])
            for name, mean in s.dimension_means().items()
        ]

    def ratings(self) -> list[tuple[str, int]]:
        return [(name, self.summary.ratings.get(name, 0)) for name in RATING_NAMES]

    def worst(self, k: int) -> list[Row]:
        # Stable sort: among equal scores the earlier line comes first.
        return sorted(self.rows, key=lambda row: row.card.score)[:k]

    def histogram(self, bins: int = 20) -> list[int]:
        return histogram((row.card.score for row in self.rows), bins)


def _category(record: Record, categories: dict[str, str]) -> str:
    given = record.data.get("category")
    if isinstance(given, str) and given.strip():
        return given.strip()
    query = record.query or ""
    return categories.get(query) or categories.get(query.strip()) or UNCATEGORISED


def build_report(
    path: str, queries_path: str | Path | None = None, scorer: Scorer | None = None
) -> Report:
    """Score every record of ``path``; categories come from the record, else the query file."""
    scorer = scorer or Scorer()
    report = Report(source=path)
    categories: dict[str, str] = {}
    if queries_path is not None and Path(queries_path).is_file():
        categories = category_map(queries_path)
        report.category_order = list(dict.fromkeys(c for c, _ in read_queries(queries_path)))
    pending: list[Record] = []

    def flush() -> None:
        cards = scorer.score_batch([(r.query or "", r.expansion or "") for r in pending])
        for record, card in zip(pending, cards):
            where = f"{record.file}:{record.line}"
            report.summary.add(where, record.query or "", card)
            report.rows.append(
                Row(
                    where,
                    record.query or "",
                    record.expansion or "",
                    _category(record, categories),
                    card,
                )
            )
        pending.clear()

    for record in read_records(path):
        if record.format == "meta" and not report.meta:
            report.meta = dict(record.data)
        if record.error:
            report.summary.errors += 1
            report.errors.append(f"{record.file}:{record.line}: {record.error}")
        elif record.skipped:
            report.summary.skipped += 1
        else:
            pending.append(record)
            if len(pending) >= SCORE_BATCH:
                flush()
    flush()
    return report


def render_text(report: Report, out: TextIO, worst: int = 10, rich: bool | None = None) -> None:
    """Tables for people: rich on a terminal, plain aligned text when piped."""
    rich = out.isatty() if rich is None else rich
    s = report.summary
    head: list[Sequence[object]] = [
        ["file", report.source],
        *([["model", report.model]] if report.model else []),
        ["records scored", s.scored],
        ["errors / skipped", f"{s.errors} / {s.skipped}"],
        ["mean score", f"{s.mean:.4f}"],
    ]
    write_table(out, "eval report", ["", ""], head, rich, header=False)
    write_table(
        out,
        "per category",
        ["category", ("n", "right"), ("mean score", "right")],
        [[c, n, f"{mean:.3f}"] for c, n, mean in report.categories()],
        rich,
    )
    write_table(
        out,
        "mean per dimension",
        ["dimension", ("mean", "right"), ("max", "right"), ("records", "right")],
        [[name, f"{mean:.2f}", top, n] for name, mean, top, n in report.dimensions()],
        rich,
    )
    write_table(out, "ratings", ["rating", ("count", "right")], report.ratings(), rich)
    _render_worst(report.worst(worst), out, rich)


def _render_worst(rows: Sequence[Row], out: TextIO, rich: bool) -> None:
    if rich:
        write_table(
            out,
            f"worst {len(rows)} expansions",
            [("score", "right"), "query", "expansion", "deductions"],
            [
                [
                    f"{r.card.score:.3f}",
                    f"{r.query}\n[{r.category}]",
                    r.expansion,
                    "\n".join(f"- {d}" for d in r.card.deductions) or "-",
                ]
                for r in rows
            ],
            rich=True,
        )
        return
    # Multi-line cells do not align as plain columns; blocks stay readable and greppable.
    out.write(f"worst {len(rows)} expansions\n")
    for r in rows:
        out.write(
            f"  {r.card.score:.3f} {r.card.rating:<10} {r.where}  [{r.category}] {r.query!r}\n"
        )
        for note in r.card.deductions:
            out.write(f"      - {note}\n")
        for line in r.expansion.splitlines():
            out.write(f"      | {line}\n")
