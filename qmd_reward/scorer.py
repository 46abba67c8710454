"""The scorer: text -> parsed expansion -> facts per (query, line) -> rules -> score card.

It orchestrates once and decides nothing itself: what a line earns and what a defect costs
are :mod:`qmd_reward.rules`. It keeps one cache per distinct query (the query's analysis,
whose entity detection is the real cost, and the facts of the lines seen with it), so the
completions of one GRPO prompt, which share lines, are judged line by line only once.

``score_batch`` also looks across queries: GRPO scores whole batches, and a line that is the
same words for several different queries once their own words are masked is a template.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from rapidfuzz import fuzz

from . import rules
from .facts import LineFacts, line_facts
from .parse import Expansion, parse_expansion
from .query import QueryInfo, analyse
from .scorecard import ScoreCard, rating_for
from .text import STOPWORDS, normalise, words
from .wordclass import read_word

if TYPE_CHECKING:
    from .detectors import EntityDetector
    from .retrieval import RetrievalJudge

Relevant = Union[Mapping[str, int], Sequence[str], None]  # noqa: UP007

# A lex line whose own list holds none of the relevant documents adds nothing to QMD's
# fusion but noise.
BLIND_LINE_FACTOR = 0.9
# Two lines this alike (rapidfuzz token-sort ratio) say the same thing.
NEAR_DUPLICATE_RATIO = 90
_LINE_CACHE = 4096
# How many records a file is scored in at once by every command that scores files: templates
# are looked for within a batch, so one size keeps their scores the same everywhere.
SCORE_BATCH = 256


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for one scoring call.

    Judging a batch allocates hundreds of thousands of small tuples that reference counting
    frees at once. The cyclic collector starts on allocation counts alone, so it would keep
    rescanning the long-lived objects (spaCy's pipeline, the word and line caches) for
    nothing: a quarter of the time of a batch of new queries (docs/benchmarks.md). The few
    cycles a call makes (spaCy's documents) wait for the first collection after it. A
    caller that has the collector off keeps it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _QueryCache:
    """A query's analysis, and the facts and value of each line seen with it."""

    def __init__(self, info: QueryInfo) -> None:
        self.info = info
        self.lines: OrderedDict[tuple[str, str], tuple[LineFacts, rules.LineResult]] = OrderedDict()

    def line(self, kind: str, text: str) -> tuple[LineFacts, rules.LineResult]:
        key = (kind, text)
        found = self.lines.get(key)
        if found is None:
            facts = line_facts(self.info, kind, text)
            found = self.lines[key] = (facts, rules.line_value(facts, self.info))
            if len(self.lines) > _LINE_CACHE:
                self.lines.popitem(last=False)
        return found


class _Read(NamedTuple):
    """One completion read against its query, before it is judged."""

    cache: _QueryCache
    parsed: Expansion
    facts: tuple[LineFacts, ...]
    results: tuple[rules.LineResult, ...]


def _templates(reads: Sequence[_Read]) -> frozenset[str]:
    """Skeletons that stand in expansions of two or more different queries of a batch."""
    if len({read.cache.info.text for read in reads}) < 2:
        return frozenset()  # one query (a GRPO group): nothing to compare with
    queries: dict[str, set[str]] = {}
    for read in reads:
        for f in read.facts:
            if f.skeleton is not None:
                queries.setdefault(f.skeleton, set()).add(read.cache.info.text)
    return frozenset(shape for shape, found in queries.items() if len(found) >= 2)


class Scorer:
    """Holds configuration and the per-query caches; reuse one across many calls."""

    def __init__(
        self,
        entity_detector: EntityDetector | None = None,
        cache_size: int = 4096,
        retrieval: RetrievalJudge | None = None,
    ) -> None:
        if entity_detector is None:
            from .detectors import default_detector

            entity_detector = default_detector()
        self.entity_detector = entity_detector
        # With a judge, records that name relevant documents get the retrieval dimension.
        self.retrieval = retrieval
        self.cache_size = cache_size
        self._queries: OrderedDict[str, _QueryCache] = OrderedDict()

    # -- queries ---------------------------------------------------------------------------

    def analyse(self, query: str) -> QueryInfo:
        """The analysis of ``query`` (cached)."""
        return self._cache(query).info

    def _cache(self, query: str) -> _QueryCache:
        found = self._queries.get(query)
        if found is None:
            self._analyse_many([query])
            found = self._queries[query]
        self._queries.move_to_end(query)
        return found

    def _analyse_many(self, queries: Iterable[str]) -> None:
        todo = list(dict.fromkeys(q for q in queries if q not in self._queries))
        if not todo:
            return
        from .parse import split_only_mode

        texts = [split_only_mode(q).text for q in todo]
        for raw, entities in zip(todo, self.entity_detector.detect_many(texts)):
            self._queries[raw] = _QueryCache(analyse(raw, tuple(entities)))
        while len(self._queries) > self.cache_size:
            self._queries.popitem(last=False)

    # -- scoring ---------------------------------------------------------------------------

    def score(self, query: str, expansion: str, relevant: Relevant = None) -> ScoreCard:
        """Score one expansion.

        ``relevant`` (document ids, or ids mapped to grades) adds the ``retrieval``
        dimension when the scorer has a retrieval judge.
        """
        with _collector_paused():
            return self._card(self._read(query, expansion), relevant, frozenset())

    def score_batch(
        self, pairs: Sequence[tuple[str, str] | tuple[str, str, Relevant]]
    ) -> list[ScoreCard]:
        """Score many ``(query, expansion[, relevant])`` tuples.

        Each is scored as :meth:`score` would, except that a line whose skeleton (its words
        with the query's own words masked) also stands in expansions of other queries of the
        batch is a template, and earns nothing.
        """
        with _collector_paused():
            return self._score_batch(pairs)

    def _score_batch(
        self, pairs: Sequence[tuple[str, str] | tuple[str, str, Relevant]]
    ) -> list[ScoreCard]:
        self._analyse_many(p[0] for p in pairs if isinstance(p[0], str))
        reads = [self._read(p[0], p[1]) for p in pairs]
        templates = _templates(reads)
        if self.retrieval is not None:
            # Embed every new vec and hyde line of the batch at once (when retrieval has
            # vectors): one model call, not one per completion.
            self.retrieval.prepare(
                (read.cache.info.text, [(f.kind, f.text) for f in read.facts])
                for read, p in zip(reads, pairs)
                if len(p) > 2 and p[2]
            )
        return [
            self._card(read, p[2] if len(p) > 2 else None, templates)
            for read, p in zip(reads, pairs)
        ]

    def _read(self, query: str, expansion: str) -> _Read:
        """An expansion parsed, with the facts and value of each line against its query."""
        if not isinstance(query, str) or not isinstance(expansion, str):
            raise TypeError(
                f"query and expansion must be str, got {type(query).__name__} and "
                f"{type(expansion).__name__}"
            )
        cache = self._cache(query)
        parsed = parse_expansion(expansion)
        seen = [cache.line(line.type, line.text) for line in parsed.lines]
        return _Read(cache, parsed, tuple(f for f, _ in seen), tuple(r for _, r in seen))

    def _card(self, read: _Read, relevant: Relevant, templates: frozenset[str]) -> ScoreCard:
        info, parsed, facts = read.cache.info, read.parsed, read.facts
        if not parsed.lines:
            return _failed(info, parsed)
        judged = rules.Judged(
            info,
            parsed,
            facts,
            read.results,
            repeats(parsed),
            tuple(f.skeleton is not None and f.skeleton in templates for f in facts),
        )
        verdict = rules.judge(judged)
        dims = dict(verdict.dimensions)
        factor = verdict.factor
        penalties = dict(verdict.penalties)
        notes = list(verdict.notes)
        max_points = verdict.max_points
        extras: dict[str, Any] = {}
        found = self._retrieval(info, facts, relevant)
        if found is not None:
            dims["retrieval"] = round(rules.RETRIEVAL_POINTS * retrieval_share(found), 4)
            max_points += rules.RETRIEVAL_POINTS
            blind = [o.text for o in found.blind]
            if blind:
                cost = BLIND_LINE_FACTOR ** len(blind)
                factor *= cost
                penalties["blind_line"] = cost
                notes.append(
                    "Lines whose own search finds none of the relevant documents: "
                    + ", ".join(map(rules.quote, blind))
                    + "."
                )
            notes += _retrieval_notes(found)
            extras["retrieval"] = {
                "rr_before": found.rr_before,
                "rr_after": found.rr_after,
                "ndcg_before": found.ndcg_before,
                "ndcg_after": found.ndcg_after,
            }
        score = sum(dims.values()) / max_points * factor
        return ScoreCard(
            score=round(score, 6),
            rating=rating_for(score),
            dimensions=MappingProxyType(dims),
            deductions=tuple(notes),
            entities=tuple(e.name for e in info.entities),
            max_points=max_points,
            only_mode=info.only,
            penalties=MappingProxyType(penalties),
            extras=MappingProxyType(extras),
            lines=verdict.lines,
        )

    def _retrieval(self, q: QueryInfo, facts: tuple[LineFacts, ...], relevant: Relevant):
        if self.retrieval is None or not relevant:
            return None
        lines = [(f.kind, f.text) for f in facts if f.text]
        result = self.retrieval.evaluate_lines(q.text, lines, relevant)
        return result if result.judged else None


def retrieval_share(result: Any) -> float:
    """The retrieval dimension's share, in (0, 1): half how the expansion moved the relevant
    documents (0.5 when it changed nothing), half where they end up (reciprocal rank and
    nDCG@10 after the expansion): lifting a note to rank 1 beats leaving it there, which
    beats pushing it down."""
    moved = result.points / 20.0
    reached = (result.rr_after + result.ndcg_after) / 2
    return 0.5 * moved + 0.5 * reached


def _retrieval_notes(result: Any) -> list[str]:
    def rank(value: int | None) -> str:
        return "not found" if value is None else f"rank {value}"

    if result.points < 10:
        return [
            "The expansion pushed the relevant document down "
            f"({rank(result.rank_before)} -> {rank(result.rank_after)})."
        ]
    if result.rank_after is None:
        return ["Neither the query nor the expansion finds a relevant document."]
    return []


def _failed(info: QueryInfo, parsed: Expansion) -> ScoreCard:
    """The one hard zero: an output with no line QMD could read."""
    reason = "No lex:/vec:/hyde: line that QMD could read."
    if parsed.invalid:
        reason = f"No lex:/vec:/hyde: line that QMD could read: {rules.quote(parsed.invalid[0])}."
    kinds = (info.only,) if info.only else ("lex", "vec", "hyde")
    return ScoreCard(
        score=0.0,
        rating=rating_for(0.0),
        dimensions=MappingProxyType(dict.fromkeys((*kinds, "format"), 0.0)),
        deductions=(reason,),
        entities=tuple(e.name for e in info.entities),
        max_points=100.0,
        only_mode=info.only,
    )


def repeats(parsed: Expansion) -> tuple[str | None, ...]:
    """For each line: "same" when it says what an earlier line of its type says, "other" when
    it copies a line of another type, else None. Of a vec line and a line of another type
    that are one text, the vec is the copy: a vec's job is to rephrase, the others' is not."""
    lines = parsed.lines
    found: list[str | None] = [None] * len(lines)
    for i, line in enumerate(lines):
        for j, earlier in enumerate(lines[:i]):
            if earlier.type == line.type:
                if found[i] != "same" and near_duplicate(line.text, earlier.text):
                    found[i] = "same"
            elif copy(line.text, earlier.text):
                copied = j if earlier.type == "vec" else i
                found[copied] = found[copied] or "other"
    return tuple(found)


@lru_cache(maxsize=16384)
def near_duplicate(a: str, b: str) -> bool:
    """Two lines that say the same: equal once normalised, the same stems in another order,
    or a rapidfuzz token-sort ratio of 90 or more.

    >>> near_duplicate("ssh key login", "login ssh keys"), near_duplicate("ssh", "ssh key")
    (True, False)
    """
    a_norm, b_norm = normalise(a), normalise(b)
    if not a_norm or not b_norm:
        return False
    if a_norm == b_norm:
        return True
    a_stems = _content_stems(a)
    if a_stems and a_stems == _content_stems(b):
        return True
    return fuzz.token_sort_ratio(a_norm, b_norm) >= NEAR_DUPLICATE_RATIO


@lru_cache(maxsize=16384)
def _content_stems(line: str) -> frozenset[str]:
    return frozenset(
        s for word in words(line) if word not in STOPWORDS for s in read_word(word).stems
    )


def copy(a: str, b: str) -> bool:
    """A line of one type that copies a line of another type (a vec that is the hyde): the
    same text, give or take a few characters.

    >>> copy("how do I log in with a key", "How do I log in with a key?")
    True
    """
    a_norm, b_norm = normalise(a), normalise(b)
    return bool(a_norm and b_norm) and fuzz.ratio(a_norm, b_norm) >= NEAR_DUPLICATE_RATIO


_default: Scorer | None = None


def score(query: str, expansion: str) -> ScoreCard:
    """Score one expansion with a shared default :class:`Scorer`."""
    global _default
    if _default is None:
        _default = Scorer()
    return _default.score(query, expansion)
