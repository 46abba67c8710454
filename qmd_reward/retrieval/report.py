"""Print per-query outcomes and the summary: rich on a terminal, plain text otherwise."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qmd_reward.retrieval.judge import LineOutcome, RetrievalResult
from qmd_reward.retrieval.records import QueryRecord
from qmd_reward.retrieval.summary import Summary


def _rank(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def line_status(line: LineOutcome) -> str:
    if line.dropped:
        return "dropped: no query term"
    if line.error is not None:
        return f"matches nothing: {line.error}"
    if not line.matched:
        return "matched nothing"
    if not line.found:
        return f"matched {line.matched}, no relevant document in its top results"
    return f"matched {line.matched}, relevant at rank {line.best_rank} ({', '.join(line.found)})"


def _printable(text: str) -> str:
    # An invalid lex line may hold a line break; keep each report row on one line.
    return text.replace("\r", "\\r").replace("\n", "\\n")


def relevant_ranks(result: RetrievalResult) -> str:
    return ", ".join(f"{r.doc_id} {_rank(r.before)} -> {_rank(r.after)}" for r in result.relevant)


def query_lines(record: QueryRecord, result: RetrievalResult) -> list[str]:
    """The plain-text block for one query."""
    head = f"#{record.line_no} {record.query}"
    if not result.judged:
        return [f"{head}  (no relevant documents known: not judged)"]
    lines = [
        head,
        f"    raw query   rank {_rank(result.rank_before):>3}   matched {result.raw_matched}",
        f"    expansion   rank {_rank(result.rank_after):>3}   "
        f"RR {result.rr_before:.3f} -> {result.rr_after:.3f}   "
        f"nDCG@10 {result.ndcg_before:.3f} -> {result.ndcg_after:.3f}   "
        f"points {result.points:.1f}",
        f"    relevant    {relevant_ranks(result)}",
    ]
    if not result.lines:
        lines.append("      (no lex lines)")
    for line in result.lines:
        lines.append(f"      lex  {_printable(line.text):<40}  {line_status(line)}")
    return lines


def summary_lines(summary: Summary) -> list[str]:
    return [
        f"queries judged: {summary.judged}   not judged (no relevance): {summary.skipped}",
        f"MRR       {summary.mrr_before:.3f} -> {summary.mrr_after:.3f}",
        f"nDCG@10   {summary.ndcg_before:.3f} -> {summary.ndcg_after:.3f}",
        f"helped {summary.helped} ({summary.share(summary.helped):.0%})   "
        f"hurt {summary.hurt} ({summary.share(summary.hurt):.0%})   "
        f"unchanged {summary.unchanged} ({summary.share(summary.unchanged):.0%})",
        f"mean retrieval points {summary.mean_points:.1f} / 20",
    ]


class PlainReport:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def query(self, record: QueryRecord, result: RetrievalResult) -> None:
        print("\n".join(query_lines(record, result)), file=self.stream)

    def summary(self, summary: Summary) -> None:
        print("\n" + "\n".join(summary_lines(summary)), file=self.stream)


class RichReport:
    """Colours the outcome; user text goes in as plain Text so brackets are never markup."""

    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream, highlight=False)

    def query(self, record: QueryRecord, result: RetrievalResult) -> None:
        if not result.judged:
            self.console.print(Text(f"#{record.line_no} {record.query}  (not judged)", "dim"))
            return
        colour = "green" if result.helped else "red" if result.hurt else "yellow"
        self.console.print(
            Text.assemble(
                (f"#{record.line_no} {record.query}", "bold"),
                f"  rank {_rank(result.rank_before)} -> ",
                (_rank(result.rank_after), colour),
                f"  RR {result.rr_before:.2f} -> {result.rr_after:.2f}  ",
                (f"{result.points:.1f} pts", colour),
            )
        )
        self.console.print(Text(f"    relevant: {relevant_ranks(result)}", "dim"))
        for line in result.lines:
            style = "green" if line.found else "dim" if line.dropped or not line.matched else ""
            self.console.print(
                Text.assemble(
                    "    lex ", (_printable(line.text), "cyan"), "  ", (line_status(line), style)
                )
            )

    def summary(self, summary: Summary) -> None:
        table = Table(title="Retrieval gain")
        table.add_column("measure")
        table.add_column("raw query", justify="right")
        table.add_column("with expansion", justify="right")
        table.add_row("MRR", f"{summary.mrr_before:.3f}", f"{summary.mrr_after:.3f}")
        table.add_row("nDCG@10", f"{summary.ndcg_before:.3f}", f"{summary.ndcg_after:.3f}")
        self.console.print(table)
        for line in (summary_lines(summary)[0], *summary_lines(summary)[3:]):
            self.console.print(Text(line))
