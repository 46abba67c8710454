"""Checks for training data: a strict schema validator and a scoring audit.

``validate`` is about shape only (SPEC section 1 training format) and reports every problem of
every line, so a file can be fixed in one pass. ``audit`` is about content: it scores each example
with the one :class:`~qmd_reward.scorer.Scorer` and looks for near-duplicate queries.
"""

from __future__ import annotations

import heapq
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .expansion import LINE_TYPES, parse_expansion, split_only_mode
from .records import Record, batched, read_paths
from .scorecard import ScoreCard
from .scorer import Scorer
from .summary import Summary

BATCH = 256
NEAR_DUPLICATE_THRESHOLD = 90.0

# -- validate -------------------------------------------------------------------------------


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


# -- audit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One input line and what the audit learned about it."""

    record: Record
    card: ScoreCard | None = None
    type_counts: tuple[int, int, int] = (0, 0, 0)  # lex, vec, hyde lines
    hyde_lengths: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.record.file}:{self.record.line}"


@dataclass
class Audit:
    examples: list[Example] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    # example index -> [(other example index, similarity)], both directions filled in
    duplicates: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    duplicate_pairs: list[tuple[int, int, float]] = field(default_factory=list)
    threshold: float = NEAR_DUPLICATE_THRESHOLD

    @property
    def scored(self) -> list[Example]:
        return [e for e in self.examples if e.card is not None]

    def scores(self) -> list[float]:
        return [e.card.score for e in self.examples if e.card is not None]

    def lowest(self, k: int) -> list[Example]:
        return heapq.nsmallest(k, self.scored, key=lambda e: e.card.score if e.card else 0.0)

    def type_count_table(self) -> dict[str, Counter]:
        """Per line type: how many examples have 0, 1, 2, ... lines of it."""
        table: dict[str, Counter] = {kind: Counter() for kind in LINE_TYPES}
        for example in self.scored:
            for kind, n in zip(LINE_TYPES, example.type_counts):
                table[kind][n] += 1
        return table

    def hyde_lengths(self) -> list[int]:
        return [n for e in self.scored for n in e.hyde_lengths]


def _examine(record: Record, card: ScoreCard | None) -> Example:
    if card is None or record.expansion is None or record.query is None:
        return Example(record, card)
    # Counting lines is parsing, not scoring: the parser is public, the rubric stays in rubric.py.
    parsed = parse_expansion(record.expansion, query=record.query)
    counts = (len(parsed.lex), len(parsed.vec), len(parsed.hyde))
    return Example(record, card, counts, tuple(len(text) for text in parsed.hyde))


def run_audit(
    paths: Sequence[str],
    scorer: Scorer | None = None,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    worst_kept: int = 10,
) -> Audit:
    scorer = scorer or Scorer()
    audit = Audit(summary=Summary(worst_kept=worst_kept), threshold=threshold)
    for batch in batched(read_paths(paths), BATCH):
        scorable = [r for r in batch if r.scorable]
        cards = iter(scorer.score_batch([(r.query or "", r.expansion or "") for r in scorable]))
        for record in batch:
            card = next(cards) if record.scorable else None
            if record.error:
                audit.summary.errors += 1
            elif record.skipped:
                audit.summary.skipped += 1
            elif card is not None:
                audit.summary.add(f"{record.file}:{record.line}", record.query or "", card)
            audit.examples.append(_examine(record, card))
    indexed = [(i, e.record.query) for i, e in enumerate(audit.examples) if e.card is not None]
    pairs = near_duplicates([q or "" for _, q in indexed], threshold)
    for a, b, similarity in pairs:
        i, j = indexed[a][0], indexed[b][0]
        audit.duplicate_pairs.append((i, j, similarity))
        audit.duplicates.setdefault(i, []).append((j, similarity))
        audit.duplicates.setdefault(j, []).append((i, similarity))
    return audit


def _sort_key(text: str) -> str:
    """What ``fuzz.token_sort_ratio`` compares: processed tokens in sorted order."""
    from rapidfuzz.utils import default_process

    return " ".join(sorted(default_process(text).split()))


def near_duplicates(
    queries: Sequence[str], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, similarity)``, ``i < j``, with token-sort similarity >= ``threshold``.

    Equal to comparing every pair with ``fuzz.token_sort_ratio`` but far fewer comparisons:
    the Indel ratio of strings of lengths a <= b is at most 200a/(a+b), so after sorting by
    length each query is only compared (in rapidfuzz's C++ loop) with the window of longer
    keys that could still reach the threshold. Queries with different ``/only:`` modes are
    different tasks and never compared.
    """
    from rapidfuzz import fuzz, process

    groups: dict[str | None, list[tuple[str, int]]] = defaultdict(list)
    for index, query in enumerate(queries):
        part = split_only_mode(query)
        key = _sort_key(part.text)
        if key:
            groups[part.only].append((key, index))
    found: list[tuple[int, int, float]] = []
    ratio_room = (200.0 - threshold) / threshold  # longest partner length / own length
    for members in groups.values():
        members.sort(key=lambda item: len(item[0]))
        keys = [key for key, _ in members]
        end = 0
        for pos, (key, index) in enumerate(members):
            longest = len(key) * ratio_room + 1e-9
            end = max(end, pos + 1)
            while end < len(keys) and len(keys[end]) <= longest:
                end += 1
            if end <= pos + 1:
                continue
            window = keys[pos + 1 : end]
            hits = process.extract(
                key, window, scorer=fuzz.ratio, score_cutoff=threshold, limit=None
            )
            for _, similarity, offset in hits:
                other = members[pos + 1 + offset][1]
                found.append((min(index, other), max(index, other), round(float(similarity), 1)))
    found.sort()
    return found


def deciles(scores: Sequence[float]) -> list[float]:
    """The nine cut points p10..p90 (inclusive method: they stay inside the data's range)."""
    if len(scores) < 2:
        return list(scores) * 9 if scores else []
    return statistics.quantiles(scores, n=10, method="inclusive")


def histogram(scores: Iterable[float], bins: int = 10) -> list[int]:
    """Counts over equal bins of [0, 1]; a score of exactly 1.0 goes in the last bin."""
    counts = [0] * bins
    for value in scores:
        counts[min(bins - 1, max(0, int(value * bins)))] += 1
    return counts


HYDE_BUCKETS = (("< 50", 0, 49), ("50-150", 50, 150), ("151-200", 151, 200), ("> 200", 201, None))


def hyde_buckets(lengths: Iterable[int]) -> dict[str, int]:
    """Hyde lengths in the SPEC's bands: 50-150 ideal, over 200 too long."""
    counts = dict.fromkeys((name for name, _, _ in HYDE_BUCKETS), 0)
    for n in lengths:
        for name, low, high in HYDE_BUCKETS:
            if n >= low and (high is None or n <= high):
                counts[name] += 1
                break
    return counts
