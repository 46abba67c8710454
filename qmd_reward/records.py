"""Read expansion records from JSONL, one record per input line, never losing a line.

Three formats are recognised per record (SPEC section 1):

* training: ``{"query": str, "output": [["lex", str], ...]}``
* eval: ``{"query": str, "expansion": str}`` (a ``{"_meta": true, ...}`` line is skipped)
* chat: ``{"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .parse import LINE_TYPES, expansion_from_pairs
from .prompts import extract_query


class RecordError(ValueError):
    """A record that cannot be scored; the message says why."""


@dataclass(frozen=True)
class Record:
    file: str
    line: int
    query: str | None = None
    expansion: str | None = None
    format: str | None = None
    error: str | None = None
    skipped: str | None = None  # why a line without an error is not scored
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scorable(self) -> bool:
        return self.error is None and self.skipped is None


def _training(obj: dict[str, Any]) -> str:
    output = obj["output"]
    if not isinstance(output, list):
        raise RecordError("'output' must be a list of [type, text] pairs")
    for i, pair in enumerate(output):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise RecordError(f"output[{i}] is not a [type, text] pair")
        kind, text = pair
        if not isinstance(kind, str) or not isinstance(text, str):
            raise RecordError(f"output[{i}] must hold two strings")
        if kind not in LINE_TYPES:
            raise RecordError(f"output[{i}] has unknown type {kind!r}")
    return expansion_from_pairs(output)


def _chat(obj: dict[str, Any]) -> tuple[str, str]:
    messages = obj["messages"]
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise RecordError("'messages' must be a list of objects")
    users = [m for m in messages if m.get("role") == "user"]
    assistants = [m for m in messages if m.get("role") == "assistant"]
    if not users or not assistants:
        raise RecordError("'messages' needs a user and an assistant message")
    user, assistant = users[-1].get("content"), assistants[-1].get("content")
    if not isinstance(user, str) or not isinstance(assistant, str):
        raise RecordError("message 'content' must be a string")
    return extract_query(user), assistant


def parse_record(obj: Any) -> tuple[str, str, str]:
    """Return (query, expansion text, format name) or raise :class:`RecordError`."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    if "messages" in obj:
        query, expansion = _chat(obj)
        return query, expansion, "chat"
    if "query" not in obj:
        raise RecordError("no 'query', and no 'messages' (unknown record format)")
    query = obj["query"]
    if not isinstance(query, str):
        raise RecordError(f"'query' must be a string, got {type(query).__name__}")
    if "expansion" in obj:
        if not isinstance(obj["expansion"], str):
            raise RecordError(
                f"'expansion' must be a string, got {type(obj['expansion']).__name__}"
            )
        return query, obj["expansion"], "eval"
    if "output" in obj:
        return query, _training(obj), "training"
    raise RecordError("record has a 'query' but no 'expansion' or 'output'")


def read_lines(name: str, lines: Iterable[str]) -> Iterator[Record]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            yield Record(name, number, skipped="blank line")
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Record(name, number, error=f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        if isinstance(obj, dict) and obj.get("_meta") is True:
            yield Record(name, number, format="meta", skipped="_meta line", data=obj)
            continue
        try:
            query, expansion, fmt = parse_record(obj)
        except RecordError as exc:
            yield Record(name, number, error=str(exc), data=obj if isinstance(obj, dict) else {})
            continue
        yield Record(name, number, query, expansion, fmt, data=obj)


def read_records(path: str) -> Iterator[Record]:
    """Stream the records of a JSONL file (``-`` is standard input)."""
    if path == "-":
        yield from read_lines("<stdin>", sys.stdin)
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        yield from read_lines(path, handle)


def read_paths(paths: Iterable[str]) -> Iterator[Record]:
    """The records of several files in order; an unreadable file becomes one error record
    (line 0) so callers report it and go on with the rest."""
    for path in paths:
        try:
            yield from read_records(path)
        except OSError as exc:
            yield Record(path, 0, error=f"cannot read: {exc.strerror or exc}")


def batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Records in lists of ``size``, so scoring can batch while the file still streams."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
