"""The records the ``retrieval`` command judges, read by the package's one record reader.

Any record format the scorer reads (training, eval, chat) works; a record may name its
relevant documents (``relevant_docs``) or its qrels query (``query_id``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qmd_reward import records as core
from qmd_reward.parse import parse_expansion


@dataclass(frozen=True)
class QueryRecord:
    line_no: int
    query: str
    lex_lines: tuple[str, ...]
    relevant_docs: tuple[str, ...] | None = None
    query_id: str | None = None
    # Every line as (type, text), in order: what the judge searches with dense retrieval.
    lines: tuple[tuple[str, str], ...] = ()


def _relevant(data: dict[str, Any]) -> tuple[str, ...] | None:
    value = data.get("relevant_docs")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(doc_id) for doc_id in value)
    return None


def query_record(record: core.Record) -> QueryRecord:
    """The retrieval view of a scorable record: its query, lines and relevance hints."""
    parsed = parse_expansion(record.expansion or "")
    lex = tuple(line.text for line in parsed.lines if line.type == "lex" and line.text)
    query_id = record.data.get("query_id")
    return QueryRecord(
        line_no=record.line,
        query=record.query or "",
        lex_lines=lex,
        relevant_docs=_relevant(record.data),
        query_id=None if query_id is None else str(query_id),
        lines=tuple((line.type, line.text) for line in parsed.lines if line.text),
    )


def read_records(path: str | Path) -> Iterator[QueryRecord]:
    """The scorable records of a JSONL file (lines with errors are skipped here)."""
    for record in core.read_records(str(path)):
        if record.scorable:
            yield query_record(record)
