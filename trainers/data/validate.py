"""``qmd-reward data validate``: a strict schema check of training files.

About shape only (SPEC section 1 training format): every problem of every line is reported,
so a file can be fixed in one pass. What the examples say is ``data audit``'s business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ._core import LINE_TYPES


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Validation:
    files: int = 0
    records: int = 0
    bad_lines: int = 0
    problems: int = 0


def json_type(value: Any) -> str:
    """The JSON name of a decoded value, so messages speak the file's language."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _loads_strict(raw: str) -> tuple[Any, list[str]]:
    """Decode one line, also returning what plain ``json.loads`` would silently accept.

    Python keeps the last of duplicate keys and accepts NaN/Infinity; other readers (and the
    person who wrote the line) may disagree, so both are reported.
    """
    notes: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                notes.append(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
        return dict(pairs)

    def constant(name: str) -> float:
        notes.append(f"{name} is not valid JSON")
        return float("nan")

    return json.loads(raw, object_pairs_hook=pairs_hook, parse_constant=constant), notes


def _output_problems(output: Any) -> list[str]:
    if not isinstance(output, list):
        return [f"'output' must be an array of [type, text] pairs, got {json_type(output)}"]
    if not output:
        return ["'output' is empty"]
    problems: list[str] = []
    for i, pair in enumerate(output):
        where = f"output[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            shape = f"{len(pair)} items" if isinstance(pair, list) else json_type(pair)
            problems.append(f"{where} is not a [type, text] pair ({shape})")
            continue
        kind, text = pair
        if not isinstance(kind, str):
            problems.append(f"{where}: type must be a string, got {json_type(kind)}")
        elif kind not in LINE_TYPES:
            problems.append(f"{where}: unknown type {kind!r} (expected lex, vec or hyde)")
        if not isinstance(text, str):
            problems.append(f"{where}: text must be a string, got {json_type(text)}")
        elif not text.strip():
            problems.append(f"{where}: empty text")
        elif "\n" in text or "\r" in text:
            # Each pair becomes one "type: text" line of the target; a break splits it in two.
            problems.append(f"{where}: text contains a line break")
    return problems


def record_problems(obj: Any) -> list[str]:
    """Every way one decoded line departs from ``{"query": str, "output": [[type, text]]}``."""
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {json_type(obj)}"]
    if obj.get("_meta") is True:
        return ["a _meta line is not a training record"]
    problems: list[str] = []
    if "query" not in obj:
        problems.append("missing 'query'")
    elif not isinstance(obj["query"], str):
        problems.append(f"'query' must be a string, got {json_type(obj['query'])}")
    elif not obj["query"].strip():
        problems.append("empty query")
    elif "\n" in obj["query"]:
        problems.append("query contains a line break")
    if "output" in obj:
        problems += _output_problems(obj["output"])
    elif "expansion" in obj:
        problems.append("missing 'output' (this is an eval record: 'expansion' text)")
    elif "messages" in obj:
        problems.append("missing 'output' (this is a chat record: 'messages')")
    else:
        problems.append("missing 'output'")
    return problems


def line_problems(raw: str) -> list[str]:
    if not raw.strip():
        return ["blank line"]
    try:
        obj, notes = _loads_strict(raw)
    except json.JSONDecodeError as exc:
        return [f"invalid JSON: {exc.msg} (column {exc.colno})"]
    return notes + record_problems(obj)


def _decoded_lines(path: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text or None when the bytes are not UTF-8); a final newline ends no line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield number, None


def validate_files(paths: Iterable[str], stats: Validation) -> Iterator[Problem]:
    """Yield problems as they are found (files stream); ``stats`` is filled in on the way."""
    for path in paths:
        stats.files += 1
        try:
            for number, text in _decoded_lines(path):
                stats.records += 1
                reasons = ["not valid UTF-8"] if text is None else line_problems(text)
                if reasons:
                    stats.bad_lines += 1
                    stats.problems += len(reasons)
                for reason in reasons:
                    yield Problem(path, number, reason)
        except OSError as exc:
            stats.problems += 1
            yield Problem(path, 0, f"cannot read: {exc.strerror or exc}")
