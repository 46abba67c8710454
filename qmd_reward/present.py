"""How results are shown: tables, progress, score histograms and the JSON row of one result.

Part of the public surface: the ``score`` command, the evals and the data commands all show
their results through these, so a table looks the same whichever command printed it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

    from .records import Record
    from .scorecard import ScoreCard

Column = str | tuple[str, str]  # a name, or (name, "right") for numbers


def write_table(
    out: TextIO,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    rich: bool | None = None,
    header: bool = True,
) -> None:
    """A table: rich on a terminal, aligned plain text when piped (greppable, diffable)."""
    names = [c if isinstance(c, str) else c[0] for c in columns]
    right = [not isinstance(c, str) and c[1] == "right" for c in columns]
    cells = [[str(v) for v in row] for row in rows]
    if rich if rich is not None else out.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(title), show_header=header)
        for name, r in zip(names, right):
            table.add_column(Text(name), justify="right" if r else "left", overflow="fold")
        for row in cells:
            # Text, not str: "[...]" in a query or expansion is data, not rich markup.
            table.add_row(*(Text(cell) for cell in row))
        Console(file=out).print(table)
        return
    from rich.cells import cell_len  # display width: CJK queries take two columns a character

    widths = [max([cell_len(n), *(cell_len(row[i]) for row in cells)]) for i, n in enumerate(names)]

    def fmt(values: Sequence[str]) -> str:
        pads = [" " * (w - cell_len(v)) for v, w in zip(values, widths)]
        parts = [p + v if r else v + p for v, p, r in zip(values, pads, right)]
        return "  ".join(parts).rstrip()

    out.write(f"{title}\n")
    if header:
        out.write(f"  {fmt(names)}\n")
    for row in cells:
        out.write(f"  {fmt(row)}\n")


def progress(unit: str = " records", total: int | None = None) -> tqdm:
    """A progress bar on standard error, shown only when that is a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        mininterval=0.5,
    )


def histogram(scores: Iterable[float], bins: int = 10) -> list[int]:
    """Counts over equal bins of [0, 1]; a score of exactly 1.0 goes in the last bin."""
    counts = [0] * bins
    for value in scores:
        counts[min(bins - 1, max(0, int(value * bins)))] += 1
    return counts


def result_record(record: Record, card: ScoreCard | None = None) -> dict[str, Any]:
    """One input line's result as ``score --output`` writes it (``data audit`` adds to it)."""
    out: dict[str, Any] = {
        "file": record.file,
        "line": record.line,
        "query": record.query,
        "score": None,
        "rating": None,
        "dimensions": None,
        "deductions": None,
        "entities": None,
        "error": record.error,
    }
    if record.skipped:
        out["skipped"] = record.skipped
    if card is not None:
        out.update(
            score=card.score,
            rating=card.rating,
            dimensions=dict(card.dimensions),
            deductions=list(card.deductions),
            entities=list(card.entities),
        )
    return out
