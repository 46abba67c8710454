"""``qmd-reward data audit``: score every example of training files and report on the lot.

The score distribution, the mean per dimension, the lowest examples, near-duplicate queries,
line-type counts and hyde lengths. Scoring goes through the judge's public API only
(:class:`~qmd_reward.Scorer`, :func:`~qmd_reward.parse_expansion`), so the verdicts are the
judge's, unchanged.
"""

from __future__ import annotations

import heapq
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from ._core import (
    LINE_TYPES,
    RATING_NAMES,
    SCORE_BATCH,
    Record,
    ScoreCard,
    Scorer,
    batched,
    histogram,
    parse_expansion,
    read_paths,
    result_record,
    split_only_mode,
    write_table,
)

NEAR_DUPLICATE_THRESHOLD = 90.0

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "Audit",
    "Audited",
    "Tally",
    "deciles",
    "hyde_buckets",
    "near_duplicates",
    "render_audit",
    "run_audit",
    "write_audit_output",
]


@dataclass
class Tally:
    """Running totals over the scored examples: counts, mean score, ratings, dimensions."""

    scored: int = 0
    errors: int = 0
    skipped: int = 0
    score_sum: float = 0.0
    ratings: Counter[str] = field(default_factory=Counter)
    dim_sum: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    dim_count: Counter[str] = field(default_factory=Counter)

    def add(self, card: ScoreCard) -> None:
        self.scored += 1
        self.score_sum += card.score
        self.ratings[card.rating] += 1
        for name, points in card.dimensions.items():
            self.dim_sum[name] += points
            self.dim_count[name] += 1

    @property
    def mean(self) -> float:
        return self.score_sum / self.scored if self.scored else 0.0

    def dimension_means(self) -> dict[str, float]:
        return {name: self.dim_sum[name] / self.dim_count[name] for name in self.dim_sum}


@dataclass(frozen=True)
class Audited:
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
    examples: list[Audited] = field(default_factory=list)
    summary: Tally = field(default_factory=Tally)
    # example index -> [(other example index, similarity)], both directions filled in
    duplicates: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    duplicate_pairs: list[tuple[int, int, float]] = field(default_factory=list)
    threshold: float = NEAR_DUPLICATE_THRESHOLD

    @property
    def scored(self) -> list[Audited]:
        return [e for e in self.examples if e.card is not None]

    def scores(self) -> list[float]:
        return [e.card.score for e in self.examples if e.card is not None]

    def lowest(self, k: int) -> list[Audited]:
        return heapq.nsmallest(k, self.scored, key=lambda e: e.card.score if e.card else 0.0)

    def type_count_table(self) -> dict[str, Counter[int]]:
        """Per line type: how many examples have 0, 1, 2, ... lines of it."""
        table: dict[str, Counter[int]] = {kind: Counter() for kind in LINE_TYPES}
        for example in self.scored:
            for kind, n in zip(LINE_TYPES, example.type_counts):
                table[kind][n] += 1
        return table

    def hyde_lengths(self) -> list[int]:
        return [n for e in self.scored for n in e.hyde_lengths]


def _examine(record: Record, card: ScoreCard | None) -> Audited:
    if card is None or record.expansion is None or record.query is None:
        return Audited(record, card)
    # Counting lines is parsing, not scoring: the parser is public, the rubric stays the judge's.
    parsed = parse_expansion(record.expansion)
    hyde = parsed.of_type("hyde")
    counts = (len(parsed.of_type("lex")), len(parsed.of_type("vec")), len(hyde))
    return Audited(record, card, counts, tuple(len(text) for text in hyde))


def run_audit(
    paths: Sequence[str],
    scorer: Scorer | None = None,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> Audit:
    scorer = scorer or Scorer()
    audit = Audit(threshold=threshold)
    for batch in batched(read_paths(paths), SCORE_BATCH):
        scorable = [r for r in batch if r.scorable]
        cards = iter(scorer.score_batch([(r.query or "", r.expansion or "") for r in scorable]))
        for record in batch:
            card = next(cards) if record.scorable else None
            if record.error:
                audit.summary.errors += 1
            elif record.skipped:
                audit.summary.skipped += 1
            elif card is not None:
                audit.summary.add(card)
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


# -- report ---------------------------------------------------------------------------------


def _bar(count: int, top: int, width: int = 40) -> str:
    return "#" * (round(width * count / top) if top else 0)


def render_audit(audit: Audit, out: TextIO, worst: int, duplicates: int) -> None:
    s = audit.summary
    w = out.write
    w(f"examples scored: {s.scored}   errors: {s.errors}   skipped: {s.skipped}\n")
    w(f"mean score: {s.mean:.4f}\n")
    w("ratings: " + ", ".join(f"{n} {s.ratings.get(n, 0)}" for n in RATING_NAMES) + "\n\n")
    scores = audit.scores()
    if scores:
        cuts = deciles(scores)
        labels = ["min", *(f"p{10 * k}" for k in range(1, 10)), "max"]
        values = [min(scores), *cuts, max(scores)]
        write_table(out, "score deciles", labels, [[f"{v:.3f}" for v in values]])
        counts = histogram(scores)
        top = max(counts)
        rows = [[f"{k / 10:.1f}-{(k + 1) / 10:.1f}", n, _bar(n, top)] for k, n in enumerate(counts)]
        write_table(out, "score histogram", ["score", ("examples", "right"), ""], rows)
        dims = s.dimension_means()
        write_table(
            out,
            "mean per dimension",
            ["dimension", ("mean", "right"), ("examples", "right")],
            [[name, f"{mean:.2f}", s.dim_count[name]] for name, mean in dims.items()],
        )
    table = audit.type_count_table()
    most = max([3, *(n for counter in table.values() for n in counter)])
    heads = [str(n) for n in range(most + 1)]
    write_table(
        out,
        "examples by number of lines of each type",
        ["type", *((h, "right") for h in heads)],
        [[kind, *(table[kind].get(n, 0) for n in range(most + 1))] for kind in LINE_TYPES],
    )
    lengths = audit.hyde_lengths()
    if lengths:
        buckets = hyde_buckets(lengths)
        ordered = sorted(lengths)
        w(
            f"hyde length (chars): n={len(lengths)} min={ordered[0]} "
            f"median={ordered[len(ordered) // 2]} max={ordered[-1]}\n"
        )
        write_table(out, "hyde length bands", ["chars", ("lines", "right")], list(buckets.items()))
    _render_duplicates(audit, out, duplicates)
    _render_lowest(audit, out, worst)


def _render_duplicates(audit: Audit, out: TextIO, limit: int) -> None:
    pairs = audit.duplicate_pairs
    involved = len(audit.duplicates)
    out.write(
        f"near-duplicate queries (token sort ratio >= {audit.threshold:g}): "
        f"{len(pairs)} pair(s), {involved} example(s)\n"
    )
    ranked = sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:limit]
    for i, j, similarity in ranked:
        a, b = audit.examples[i], audit.examples[j]
        out.write(f"  {similarity:5.1f}  {a.where} {a.record.query!r}\n")
        out.write(f"         {b.where} {b.record.query!r}\n")
    if len(pairs) > limit:
        out.write(f"  ... {len(pairs) - limit} more (see --output)\n")
    out.write("\n")


def _render_lowest(audit: Audit, out: TextIO, k: int) -> None:
    out.write(f"lowest-scoring examples (worst {k}):\n")
    for example in audit.lowest(k):
        card = example.card
        assert card is not None  # lowest() only returns scored examples
        out.write(
            f"  {card.score:.3f} {card.rating:<10} {example.where}  {example.record.query!r}\n"
        )
        for note in card.deductions:
            out.write(f"      - {note}\n")
        for line in (example.record.expansion or "").splitlines():
            out.write(f"      | {line}\n")
    out.write("\n")


def write_audit_output(audit: Audit, path: str) -> None:
    """One JSON line per input line, the shape of ``score --output`` plus ``near_duplicates``."""
    with open(path, "w", encoding="utf-8") as handle:
        for index, example in enumerate(audit.examples):
            row = result_record(example.record, example.card)
            row["near_duplicates"] = [
                {
                    "file": audit.examples[other].record.file,
                    "line": audit.examples[other].record.line,
                    "query": audit.examples[other].record.query,
                    "similarity": similarity,
                }
                for other, similarity in sorted(audit.duplicates.get(index, []))
            ]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
