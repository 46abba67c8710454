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
    if line.kind != "lex":
        if not line.found:
            return f"no relevant document among its {line.matched} nearest"
        return f"relevant at rank {line.best_rank} ({', '.join(line.found)})"
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
    raw = "BM25 + vectors" if result.dense else "BM25"
    lines = [
        head,
        f"    raw query   rank {_rank(result.rank_before):>3}   "
        f"BM25 matched {result.raw_matched}   ({raw})",
        f"    expansion   rank {_rank(result.rank_after):>3}   "
        f"RR {result.rr_before:.3f} -> {result.rr_after:.3f}   "
        f"nDCG@10 {result.ndcg_before:.3f} -> {result.ndcg_after:.3f}   "
        f"points {result.points:.1f}",
        f"    relevant    {relevant_ranks(result)}",
    ]
    if result.skipped:
        lines.append("      (strong BM25 signal: QMD would not expand this query)")
    elif result.fallback:
        lines.append("      (no line survives QMD's filter: QMD searches its fallback expansion)")
    elif not result.lines:
        lines.append("      (no lines searched)")
    for line in result.lines:
        lines.append(f"      {line.kind:<4} {_printable(line.text):<40}  {line_status(line)}")
    return lines


def summary_lines(summary: Summary) -> list[str]:
    searched = "BM25 and vectors" if summary.dense else "BM25 only: vec and hyde not searched"
    lines = [
        f"queries judged: {summary.judged}   not judged (no relevance): {summary.skipped}",
        f"MRR       {summary.mrr_before:.3f} -> {summary.mrr_after:.3f}",
        f"nDCG@10   {summary.ndcg_before:.3f} -> {summary.ndcg_after:.3f}",
        f"recall@20 {summary.recall_before:.3f} -> {summary.recall_after:.3f}",
        f"helped {summary.helped} ({summary.share(summary.helped):.0%})   "
        f"hurt {summary.hurt} ({summary.share(summary.hurt):.0%})   "
        f"unchanged {summary.unchanged} ({summary.share(summary.unchanged):.0%})",
        f"mean retrieval points {summary.mean_points:.1f} / 20   ({searched})",
    ]
    if summary.not_expanded:
        lines.append(f"not expanded by QMD (strong BM25 signal): {summary.not_expanded}")
    if summary.fallback:
        lines.append(f"fallback expansion (no line survived QMD's filter): {summary.fallback}")
    return lines


TYPE_HEADER = (
    "type  queries lines dropped blind | own list: MRR nDCG@10 R@20 | "
    "raw query -> raw + this type: MRR, nDCG@10, R@20"
)


def type_lines(summary: Summary) -> list[str]:
    """Per line type: what its own lists find, and how they move the relevant documents
    when fused with the raw query's lists alone."""
    if not summary.by_type:
        return []
    rows = ["", "per line type", TYPE_HEADER]
    for t in summary.by_type:
        rows.append(
            f"{t.kind:<5} {t.queries:>7} {t.lines:>5} {t.dropped:>7} {t.blind:>5} | "
            f"{t.own_mrr:>13.3f} {t.own_ndcg:>7.3f} {t.own_recall:>4.3f} | "
            f"{t.mrr_before:.3f} -> {t.mrr_with:.3f}, {t.ndcg_before:.3f} -> {t.ndcg_with:.3f}, "
            f"{t.recall_before:.3f} -> {t.recall_with:.3f}"
        )
    return rows


class PlainReport:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def query(self, record: QueryRecord, result: RetrievalResult) -> None:
        print("\n".join(query_lines(record, result)), file=self.stream)

    def summary(self, summary: Summary) -> None:
        print("\n" + "\n".join(summary_lines(summary) + type_lines(summary)), file=self.stream)


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
                    f"    {line.kind:<4} ",
                    (_printable(line.text), "cyan"),
                    "  ",
                    (line_status(line), style),
                )
            )

    def summary(self, summary: Summary) -> None:
        table = Table(title="Retrieval gain")
        table.add_column("measure")
        table.add_column("raw query", justify="right")
        table.add_column("with expansion", justify="right")
        table.add_row("MRR", f"{summary.mrr_before:.3f}", f"{summary.mrr_after:.3f}")
        table.add_row("nDCG@10", f"{summary.ndcg_before:.3f}", f"{summary.ndcg_after:.3f}")
        table.add_row("recall@20", f"{summary.recall_before:.3f}", f"{summary.recall_after:.3f}")
        self.console.print(table)
        for line in (summary_lines(summary)[0], *summary_lines(summary)[4:]):
            self.console.print(Text(line))
        if summary.by_type:
            self.console.print(type_table(summary))


def type_table(summary: Summary) -> Table:
    table = Table(title="Per line type: raw query -> raw query + this type's lists")
    for name in ("type", "queries", "lines", "dropped", "blind"):
        table.add_column(name, justify="left" if name == "type" else "right")
    for name in ("own MRR", "own nDCG@10", "own R@20", "MRR", "nDCG@10", "R@20"):
        table.add_column(name, justify="right")
    for t in summary.by_type:
        table.add_row(
            t.kind,
            str(t.queries),
            str(t.lines),
            str(t.dropped),
            str(t.blind),
            f"{t.own_mrr:.3f}",
            f"{t.own_ndcg:.3f}",
            f"{t.own_recall:.3f}",
            f"{t.mrr_before:.3f} -> {t.mrr_with:.3f}",
            f"{t.ndcg_before:.3f} -> {t.ndcg_with:.3f}",
            f"{t.recall_before:.3f} -> {t.recall_with:.3f}",
        )
    return table
