"""Training examples: load, deduplicate, split, and shape rows for SFT and GRPO.

Pure Python (no torch, no ``datasets``) so that the ``data prepare`` command and the trainers
share one definition of what an example is and which split it belongs to.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qmd_reward.prompts import conversation

from ._core import RecordError, parse_record, read_records


@dataclass(frozen=True)
class Example:
    """One query and its target expansion text, with where it came from."""

    query: str
    expansion: str
    category: str | None = None
    source: str = ""  # "file:line"
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Split:
    train: tuple[Example, ...]
    validation: tuple[Example, ...]


@dataclass(frozen=True)
class LoadReport:
    """What loading kept and dropped, so a surprising count can be explained."""

    read: int = 0
    kept: int = 0
    errors: tuple[str, ...] = ()
    skipped_labels: int = 0


def normalise_query(query: str) -> str:
    """The form under which two queries count as the same for deduplication and splitting.

    Case, Unicode width variants, runs of whitespace and trailing ``?``/``.``/``!`` do not make
    a different query; an ``/only:`` suffix does (it asks for a different output).
    """
    text = unicodedata.normalize("NFKC", query).casefold()
    text = " ".join(text.split())
    return text.rstrip("?.! ")


def _retrieval_extra(data: Mapping[str, Any]) -> dict[str, Any]:
    # One type per key across rows, or a columnar dataset refuses the mix (int and str ids).
    extra: dict[str, Any] = {}
    docs = data.get("relevant_docs")
    if isinstance(docs, list | tuple):
        extra["relevant_docs"] = [str(d) for d in docs]
    if data.get("query_id") is not None:
        extra["query_id"] = str(data["query_id"])
    return extra


def _category(data: Mapping[str, Any]) -> str | None:
    value = data.get("category")
    return value if isinstance(value, str) and value else None


def _example(query: str, expansion: str, data: Mapping[str, Any], source: str) -> Example:
    return Example(query, expansion, _category(data), source, _retrieval_extra(data))


def _label_rejected(data: Mapping[str, Any], keep_labels: Sequence[str] | None) -> bool:
    label = data.get("label")
    return keep_labels is not None and isinstance(label, str) and label not in keep_labels


def read_examples(
    paths: Iterable[str | Path], keep_labels: Sequence[str] | None = None
) -> tuple[list[Example], LoadReport]:
    """Read every scorable record of the given JSONL files (training, eval or chat format).

    ``keep_labels``: records that carry a ``label`` (example files mark good and broken
    outputs) are kept only when it is one of these; records without a label are kept.
    """
    examples: list[Example] = []
    read = skipped_labels = 0
    errors: list[str] = []
    for path in paths:
        for record in read_records(str(path)):
            if record.skipped and not record.error:
                continue  # blank and _meta lines are not examples
            read += 1
            if record.error:
                errors.append(f"{record.file}:{record.line}: {record.error}")
            elif _label_rejected(record.data, keep_labels):
                skipped_labels += 1
            else:
                source = f"{record.file}:{record.line}"
                examples.append(
                    _example(record.query or "", record.expansion or "", record.data, source)
                )
    return examples, LoadReport(read, len(examples), tuple(errors), skipped_labels)


def examples_from_objects(
    objects: Iterable[Any], name: str, keep_labels: Sequence[str] | None = None
) -> tuple[list[Example], LoadReport]:
    """The same as :func:`read_examples` for already-decoded records (a hub dataset's rows)."""
    examples: list[Example] = []
    read = skipped_labels = 0
    errors: list[str] = []
    for number, obj in enumerate(objects, start=1):
        read += 1
        try:
            query, expansion, _ = parse_record(obj)
        except RecordError as exc:
            errors.append(f"{name}:{number}: {exc}")
            continue
        if _label_rejected(obj, keep_labels):
            skipped_labels += 1
            continue
        examples.append(_example(query, expansion, obj, f"{name}:{number}"))
    return examples, LoadReport(read, len(examples), tuple(errors), skipped_labels)


def dedupe(examples: Iterable[Example]) -> list[Example]:
    """Keep the first example of each normalised query (files are read in the order given)."""
    seen: set[str] = set()
    kept = []
    for example in examples:
        key = normalise_query(example.query)
        if key and key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def split(examples: Sequence[Example], validation_fraction: float, seed: int) -> Split:
    """Deterministic train/validation split, stratified by ``category`` when present.

    Examples are grouped by normalised query first, so a query (even one that appears twice
    because deduplication was skipped) lands in exactly one split. Within each category the
    groups are shuffled with a generator seeded from ``seed`` and the category name, so
    adding a category does not reshuffle the others.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[normalise_query(example.query)].append(example)
    by_category: dict[str, list[str]] = defaultdict(list)
    for key, members in groups.items():
        by_category[members[0].category or ""].append(key)
    train_keys: set[str] = set()
    validation_keys: set[str] = set()
    for category in sorted(by_category):
        keys = sorted(by_category[category])
        random.Random(f"{seed}:{category}").shuffle(keys)
        count = round(len(keys) * validation_fraction)
        validation_keys.update(keys[:count])
        train_keys.update(keys[count:])
    train = tuple(e for e in examples if normalise_query(e.query) in train_keys)
    validation = tuple(e for e in examples if normalise_query(e.query) in validation_keys)
    return Split(_shuffled(train, seed), _shuffled(validation, seed))


def _shuffled(examples: Sequence[Example], seed: int) -> tuple[Example, ...]:
    # A fixed order independent of file order, so max_samples takes a fair sample.
    out = list(examples)
    random.Random(f"{seed}:order").shuffle(out)
    return tuple(out)


def limit(examples: Sequence[Example], max_samples: int | None) -> tuple[Example, ...]:
    if max_samples is None:
        return tuple(examples)
    if max_samples < 0:
        raise ValueError(f"max_samples must be >= 0, got {max_samples}")
    return tuple(examples[:max_samples])


def prepare_examples(
    examples: Sequence[Example],
    *,
    validation_fraction: float = 0.05,
    seed: int = 42,
    max_samples: int | None = None,
    max_validation_samples: int | None = None,
    deduplicate: bool = True,
) -> Split:
    """Deduplicate, split and cap.

    ``max_samples`` caps the training split and ``max_validation_samples`` the validation
    split, after splitting, so the same seed always keeps the same queries out of training.
    """
    pool = dedupe(examples) if deduplicate else list(examples)
    parts = split(pool, validation_fraction, seed)
    return Split(limit(parts.train, max_samples), limit(parts.validation, max_validation_samples))


def prepare(
    paths: Iterable[str | Path],
    *,
    keep_labels: Sequence[str] | None = None,
    **options: Any,
) -> tuple[Split, LoadReport]:
    """Files to train/validation examples; ``options`` are :func:`prepare_examples`'s."""
    examples, report = read_examples(paths, keep_labels)
    return prepare_examples(examples, **options), report


# -- rows -------------------------------------------------------------------------------------


def sft_row(example: Example) -> dict[str, Any]:
    """A chat-format row: the conversation QMD's expansion call has (node-llama-cpp's system
    turn, QMD's user turn) and the expansion as the assistant turn."""
    return {
        "messages": [
            *conversation(example.query),
            {"role": "assistant", "content": example.expansion},
        ]
    }


def grpo_row(example: Example) -> dict[str, Any]:
    """A prompt-only row; the example's own output rides along as ``reference``."""
    row: dict[str, Any] = {
        "prompt": conversation(example.query),
        "reference": example.expansion,
        "query": example.query,
    }
    row.update(example.extra)
    return row


def grpo_rows(examples: Iterable[Example]) -> list[dict[str, Any]]:
    """GRPO rows with the same keys in every row (a columnar dataset needs that)."""
    rows = [grpo_row(e) for e in examples]
    keys = {k for row in rows for k in row}
    for row in rows:
        for key in keys - row.keys():
            row[key] = None
    return rows


def write_jsonl(rows: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
