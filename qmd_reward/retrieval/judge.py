"""Judge an expansion by what its lines do to QMD's ranking of the relevant documents.

The fusion is QMD's ``hybridQuery`` (src/store.ts), reranker aside:

- "before" is what QMD finds with the raw query alone: its BM25 list (weight 2), fused with
  its vector list (weight 2) when dense retrieval is on;
- "after" adds one BM25 list per lex line and one vector list per vec or hyde line
  (weight 1 each), for the lines that survive QMD's query-term filter, in hybridQuery's
  order (the BM25 lists, then the vector lists), fused by RRF with k = 60 and the
  top-rank bonuses. When no line survives, QMD searches its fallback expansion instead
  (``hyde: Information about {query}``, ``lex: {query}``, ``vec: {query}``).
- QMD does not expand at all when the raw query's BM25 list already has a strong signal
  (``hasStrongSignal``: the top score, mapped to ``|bm25| / (1 + |bm25|)``, is at least
  0.85 and leads the second by at least 0.15). Then "after" is "before", whatever the lines
  say: the result is marked ``skipped``, no line is blind, and the points are neutral.

The points reward moving relevant documents up and charge for pushing them down, so an
expansion that only adds noise scores below neutral. Without an embedder, only lex lines
are searched, and vec and hyde lines are left out of the result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qmd_reward.ftsquery import parse_lex_line
from qmd_reward.retrieval.fusion import EXPANSION_WEIGHT, RAW_QUERY_WEIGHT, RRF_K, fuse
from qmd_reward.retrieval.index import BM25Index
from qmd_reward.retrieval.linefilter import line_survives
from qmd_reward.retrieval.metrics import (
    best_rank,
    ndcg,
    recall,
    reciprocal_rank,
    retrieval_points,
)
from qmd_reward.retrieval.querytext import base_query

if TYPE_CHECKING:
    from qmd_reward.retrieval.corpus import Corpus
    from qmd_reward.retrieval.dense import DenseIndex
    from qmd_reward.retrieval.embedding import Embedder

# QMD's FTS and vector searches return 20 rows per query; a document past that is never seen.
DEFAULT_DEPTH = 20
NEUTRAL_POINTS = 10.0
LINE_KINDS = ("lex", "vec", "hyde")
VECTOR_KINDS = ("vec", "hyde")
_CACHE_SIZE = 100_000
# Vector lists are keyed by text; a list is 20 ints, so this is a few MB.
_VECTOR_CACHE_SIZE = 50_000
# hybridQuery's STRONG_SIGNAL_MIN_SCORE and STRONG_SIGNAL_MIN_GAP (src/store.ts).
STRONG_SIGNAL_MIN_SCORE = 0.85
STRONG_SIGNAL_MIN_GAP = 0.15

Relevant = Mapping[str, int] | Sequence[str]
Lines = Sequence[tuple[str, str]]


def strong_signal(bm25_scores: Sequence[float]) -> bool:
    """Whether QMD skips expansion for a raw query whose BM25 list scores ``bm25_scores``
    (best first, positive): searchFTS maps each to ``x / (1 + x)``, and hybridQuery skips
    when the top one is at least 0.85 and at least 0.15 above the second (0 when alone).

    >>> strong_signal([12.0, 1.0]), strong_signal([12.0, 9.0]), strong_signal([4.0])
    (True, False, False)
    """
    if not len(bm25_scores):
        return False
    top, second = (s / (1 + s) for s in (*bm25_scores[:2], 0.0)[:2])
    return top >= STRONG_SIGNAL_MIN_SCORE and top - second >= STRONG_SIGNAL_MIN_GAP


@dataclass(frozen=True)
class LineOutcome:
    """What one expansion line contributed, through its own result list.

    ``kind``: lex (a BM25 list) or vec/hyde (a vector list). ``dropped``: QMD's query-term
    filter removed it before searching. ``error``: why QMD matches nothing for a lex line
    (only negations...), else None. ``matched``: documents it matched (a vector list: the
    documents it returned). ``found``: relevant documents in its list (top ``depth``);
    empty for a line QMD searches that finds none of them, whatever its type.
    ``best_rank``: 1-based rank of the best of them. ``rr``, ``ndcg``, ``recall``: its own
    list's reciprocal rank, nDCG@10 and recall at ``depth`` of the relevant documents.
    """

    text: str
    dropped: bool
    error: str | None
    matched: int
    found: tuple[str, ...]
    best_rank: int | None
    kind: str = "lex"
    rr: float = 0.0
    ndcg: float = 0.0
    recall: float = 0.0


@dataclass(frozen=True)
class DocRank:
    """1-based rank of one relevant document without and with the expansion (None: absent)."""

    doc_id: str
    grade: int
    before: int | None
    after: int | None


@dataclass(frozen=True)
class TypeEffect:
    """The raw query's lists fused with the lists of one line type only.

    Compare with the result's ``*_before`` figures to see what that type's lines did."""

    kind: str
    lines: int
    rr: float
    ndcg: float
    recall: float


@dataclass(frozen=True)
class RetrievalResult:
    """Ranking of the relevant documents without and with the expansion.

    ``judged`` is False when no relevant document of the query is in the corpus; the
    points are then neutral (10) and the before/after figures are 0. ``dense``: vector
    lists were part of the fusion. ``fallback``: no line survived QMD's filter, so "after"
    is QMD's fallback expansion. ``by_type``: for each line type with searched lines, the
    raw query's lists fused with that type's lists alone. ``skipped``: the raw query's BM25
    list has a strong signal, so QMD would not expand it and "after" is "before".
    """

    points: float
    rr_before: float
    rr_after: float
    ndcg_before: float
    ndcg_after: float
    rank_before: int | None
    rank_after: int | None
    raw_matched: int
    judged: bool
    lines: tuple[LineOutcome, ...]
    relevant: tuple[DocRank, ...] = ()
    recall_before: float = 0.0
    recall_after: float = 0.0
    dense: bool = False
    fallback: bool = False
    by_type: tuple[TypeEffect, ...] = ()
    skipped: bool = False

    @property
    def helped(self) -> bool:
        return self.judged and self.points > NEUTRAL_POINTS + 1e-9

    @property
    def hurt(self) -> bool:
        return self.judged and self.points < NEUTRAL_POINTS - 1e-9

    @property
    def blind(self) -> tuple[LineOutcome, ...]:
        """Lines QMD searched whose own list holds none of the relevant documents."""
        if not self.judged or self.skipped:
            return ()
        return tuple(line for line in self.lines if not line.dropped and not line.found)


@dataclass(frozen=True)
class _Search:
    ranked: tuple[int, ...]
    matched: int
    error: str | None
    top_scores: tuple[float, ...] = ()  # the best two BM25 scores (QMD's strong signal)


@dataclass(frozen=True)
class _List:
    source: str  # "fts" or "vec", as QMD's RankedListMeta
    kind: str  # "original", "lex", "vec" or "hyde": RankedListMeta.queryType
    search: _Search
    weight: float


@dataclass(frozen=True)
class _Plan:
    lines: list[tuple[str, str, _List | None]]  # (kind, text as given, its list; None: dropped)
    original: list[_List]  # the raw query's lists
    expansion: list[_List]  # the lists of the lines that survive
    added: list[_List]  # what "after" adds: the expansion's lists, or the fallback's
    fell_back: bool
    skipped: bool  # strong signal: QMD searches the raw query alone


class RetrievalJudge:
    """Scores expansions against one corpus; caches every line it has searched.

    ``embedder`` turns dense retrieval on: an :class:`~.embedding.Embedder`, a model folder,
    ``"minilm"`` (the packaged model) or ``"auto"`` (the packaged model when installed,
    else lex only, warned once). It needs the corpus's vectors: pass ``vectors`` (a
    :class:`~.dense.DenseIndex`) or ``corpus`` (embedded now, or loaded from the disk cache
    in ``cache_dir``). :meth:`for_corpus` builds both indexes.
    """

    def __init__(
        self,
        index: BM25Index,
        embedder: Embedder | str | Path | None = None,
        *,
        corpus: Corpus | None = None,
        vectors: DenseIndex | None = None,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        depth: int = DEFAULT_DEPTH,
        k: int = RRF_K,
        raw_weight: float = RAW_QUERY_WEIGHT,
        line_weight: float = EXPANSION_WEIGHT,
        cache_size: int = _CACHE_SIZE,
        fallback: bool = True,
        progress: bool = False,
    ) -> None:
        self.index = index
        self.depth = depth
        self.k = k
        self.raw_weight = raw_weight
        self.line_weight = line_weight
        self.fallback = fallback
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, bool], _Search] = OrderedDict()
        self._vector_cache: OrderedDict[str, _Search] = OrderedDict()
        self.embedder: Embedder | None = None
        self.vectors: DenseIndex | None = None
        if isinstance(embedder, (str, Path)):
            from qmd_reward.retrieval.embedding import load_embedder

            embedder = load_embedder(embedder, cache_dir)
        if embedder is None:
            return
        if vectors is None:
            if corpus is None:
                raise ValueError(
                    "dense retrieval needs the corpus's vectors: pass corpus= or vectors="
                )
            from qmd_reward.retrieval.dense import DenseIndex

            vectors = DenseIndex.build(
                corpus, embedder, cache_dir, use_cache=use_cache, progress=progress
            )
        if vectors.doc_ids != index.doc_ids:
            raise ValueError("the vector index and the BM25 index hold different documents")
        if vectors.model != embedder.name:
            raise ValueError(
                f"the vector index was built with {vectors.model!r}, not {embedder.name!r}"
            )
        self.embedder = embedder
        self.vectors = vectors

    @classmethod
    def for_corpus(
        cls,
        corpus: Corpus,
        *,
        embedder: Embedder | str | Path | None = "auto",
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        **options: Any,
    ) -> RetrievalJudge:
        """Build (or load from the disk cache) the BM25 index and, with an embedder, the
        vectors of ``corpus``. ``embedder="auto"``: dense when the extra is installed."""
        index = BM25Index.build(corpus, cache_dir, use_cache=use_cache)
        return cls(
            index, embedder, corpus=corpus, cache_dir=cache_dir, use_cache=use_cache, **options
        )

    @property
    def dense(self) -> bool:
        """True when vec and hyde lines, and the raw query, are searched by vector."""
        return self.vectors is not None

    # -- judging ------------------------------------------------------------------------

    def evaluate(
        self,
        query: str,
        lex_lines: Sequence[str],
        relevant: Relevant,
    ) -> RetrievalResult:
        """Compare the raw query's ranking with its fusion with the lex lines' lists.

        ``relevant`` is a qrels mapping (doc id -> grade, grades <= 0 ignored) or a list
        of relevant doc ids (grade 1). Ids missing from the corpus are ignored. With dense
        retrieval on, the raw query's vector list is part of both rankings. The fallback
        expansion never applies here: the other lines of the expansion are unknown.
        """
        if isinstance(lex_lines, str):
            # One line passed bare: iterating it would judge every character as a line.
            lex_lines = [lex_lines]
        pairs = [("lex", str(line)) for line in lex_lines]
        return self.evaluate_lines(query, pairs, relevant, fallback=False)

    def evaluate_lines(
        self,
        query: str,
        lines: Lines,
        relevant: Relevant,
        *,
        fallback: bool | None = None,
    ) -> RetrievalResult:
        """Judge every line of an expansion, given as ``(type, text)`` pairs.

        Types other than lex, vec and hyde are ignored, as QMD ignores them. Without
        dense retrieval, vec and hyde lines are not searched and are left out of
        ``lines``. ``fallback`` (default: the judge's) searches QMD's fallback expansion
        when no line survives the query-term filter.
        """
        query = base_query(str(query))
        grades = self._grades(relevant)
        plan = self._plan(query, lines, fallback)
        outcomes = []
        for kind, shown, found in plan.lines:
            if found is None:
                outcomes.append(LineOutcome(shown, True, None, 0, (), None, kind))
            else:
                outcomes.append(self._outcome(shown, kind, found.search, grades))
        before = self._fuse(plan.original)
        after = self._fuse(plan.original + plan.added)
        by_type: tuple[TypeEffect, ...] = ()
        if grades and not plan.skipped:
            by_type = tuple(
                self._type_effect(kind, plan.original, plan.expansion, grades)
                for kind in LINE_KINDS
                if any(item.kind == kind for item in plan.expansion)
            )
        raw_matched = plan.original[0].search.matched
        return self._result(
            before,
            after,
            raw_matched,
            grades,
            tuple(outcomes),
            plan.fell_back,
            by_type,
            plan.skipped,
        )

    def rankings(
        self, query: str, lines: Lines, *, fallback: bool | None = None
    ) -> tuple[list[str], list[str]]:
        """The fused top ``depth`` document ids without and with the expansion: what
        :meth:`evaluate_lines` measures."""
        plan = self._plan(base_query(str(query)), lines, fallback)
        ids = self.index.doc_ids
        before = [ids[n] for n in self._fuse(plan.original)]
        after = [ids[n] for n in self._fuse(plan.original + plan.added)]
        return before, after

    def _plan(self, query: str, lines: Lines, fallback: bool | None) -> _Plan:
        """Every list QMD's hybridQuery would fuse for ``query`` and ``lines``."""
        kept = self._typed(lines)
        raw = self._search(query, strict=False)
        skipped = strong_signal(raw.top_scores)
        use_fallback = self.fallback if fallback is None else fallback
        fell_back = (
            use_fallback
            and not skipped
            and not any(line_survives(text, query) for _, text, _ in kept)
        )
        if self.dense:
            self._embed_and_search(self._vector_texts(query, kept, fell_back))
        searched: list[tuple[str, str, _List | None]] = []
        expansion: list[_List] = []
        for kind, text, shown in kept:
            if kind in VECTOR_KINDS and not self.dense:
                continue
            if not line_survives(text, query):
                searched.append((kind, shown, None))
                continue
            found = self._list(kind, text)
            expansion.append(found)
            searched.append((kind, shown, found))
        original = [_List("fts", "original", raw, self.raw_weight)]
        if self.dense:
            original.append(_List("vec", "original", self._vector(query), self.raw_weight))
        # The lines are still searched, so a report can show what each would have found.
        added = [] if skipped else expansion
        if fell_back:
            added = [
                self._list(kind, text)
                for kind, text in self._fallback_lines(query)
                if kind == "lex" or self.dense
            ]
        return _Plan(searched, original, expansion, added, fell_back, skipped)

    def evaluate_many(self, items: Iterable[tuple[str, Lines, Relevant]]) -> list[RetrievalResult]:
        """:meth:`evaluate_lines` for many ``(query, lines, relevant)`` triples, embedding
        every new vector text of all of them in one batch."""
        items = list(items)
        self.prepare((query, lines) for query, lines, _ in items)
        return [self.evaluate_lines(query, lines, relevant) for query, lines, relevant in items]

    def prepare(self, items: Iterable[tuple[str, Lines]]) -> None:
        """Embed and search, in one batch, every vector text of ``(query, lines)`` pairs not
        searched before: the raw queries, their surviving vec and hyde lines, and QMD's
        fallback expansion where no line survives. A scorer calls this once per batch
        (a GRPO step's completions) before judging them one by one; without dense
        retrieval it does nothing."""
        if not self.dense:
            return
        texts: list[str] = []
        for query, lines in items:
            query = base_query(str(query))
            kept = self._typed(lines)
            fell_back = self.fallback and not any(line_survives(t, query) for _, t, _ in kept)
            texts += self._vector_texts(query, kept, fell_back)
        self._embed_and_search(texts)

    def search(self, line: str, *, strict: bool = True) -> list[str]:
        """The top ``depth`` document ids for one lex line (cached)."""
        return [self.index.doc_ids[n] for n in self._search(line, strict=strict).ranked]

    def search_vector(self, text: str) -> list[str]:
        """The top ``depth`` document ids for one vec or hyde text (cached)."""
        if not self.dense:
            raise RuntimeError("dense retrieval is off: this judge has no embedder")
        return [self.index.doc_ids[n] for n in self._vector(text).ranked]

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _typed(lines: Lines) -> list[tuple[str, str, str]]:
        """(kind, text QMD searches, text as given) for the lines of a known type."""
        if isinstance(lines, str):
            raise TypeError("lines must be (type, text) pairs, not one string")
        typed = []
        for line in lines:
            kind, text = str(line[0]).strip(), str(line[1])
            if kind in LINE_KINDS:
                typed.append((kind, text.strip(), text))
        return typed

    def _vector_texts(
        self, query: str, kept: list[tuple[str, str, str]], fell_back: bool
    ) -> list[str]:
        texts = [query]
        texts += [t for kind, t, _ in kept if kind in VECTOR_KINDS and line_survives(t, query)]
        if fell_back:
            texts += [t for kind, t in self._fallback_lines(query) if kind in VECTOR_KINDS]
        return texts

    def _list(self, kind: str, text: str) -> _List:
        if kind == "lex":
            # hybridQuery searches an expansion line as it is: no validation of quotes.
            return _List("fts", kind, self._search(text, strict=False), self.line_weight)
        return _List("vec", kind, self._vector(text), self.line_weight)

    def _vector(self, text: str) -> _Search:
        found = self._vector_cache.get(text)
        if found is None:
            self._embed_and_search([text])
            found = self._vector_cache[text]
        return found

    @staticmethod
    def _fallback_lines(query: str) -> list[tuple[str, str]]:
        """QMD's expansion when no line survives (expandQuery in src/llm.ts)."""
        return [("hyde", f"Information about {query}"), ("lex", query), ("vec", query)]

    def _fuse(self, lists: Sequence[_List]) -> list[int]:
        # hybridQuery pushes every BM25 list before the vector lists, each group in order;
        # the order decides ties (a stable sort over first-seen documents).
        ordered = sorted(lists, key=lambda item: item.source != "fts")
        ranked = [(item.search.ranked, item.weight) for item in ordered if item.search.ranked]
        return fuse(ranked, self.k)[: self.depth]

    def _type_effect(
        self, kind: str, original: list[_List], expansion: list[_List], grades: dict[int, int]
    ) -> TypeEffect:
        own = [item for item in expansion if item.kind == kind]
        fused = self._fuse(original + own)
        return TypeEffect(
            kind,
            len(own),
            reciprocal_rank(fused, grades),
            ndcg(fused, grades),
            recall(fused, grades),
        )

    def _embed_and_search(self, texts: Iterable[str]) -> None:
        assert self.embedder is not None and self.vectors is not None
        todo = [t for t in dict.fromkeys(texts) if t not in self._vector_cache]
        for text in dict.fromkeys(texts):
            if text in self._vector_cache:
                self._vector_cache.move_to_end(text)
        if not todo:
            return
        from qmd_reward.retrieval.embedding import format_query

        name = self.embedder.name
        vectors = np.asarray(self.embedder.embed([format_query(t, name) for t in todo]))
        for text, (docs, _) in zip(todo, self.vectors.search(vectors, self.depth)):
            ranked = tuple(docs.tolist())
            self._vector_cache[text] = _Search(ranked, len(ranked), None)
        # Never evict what this batch still needs.
        limit = max(_VECTOR_CACHE_SIZE, len(todo))
        while len(self._vector_cache) > limit:
            self._vector_cache.popitem(last=False)

    def _result(
        self,
        before: Sequence[int],
        after: Sequence[int],
        raw_matched: int,
        grades: dict[int, int],
        lines: tuple[LineOutcome, ...],
        fell_back: bool,
        by_type: tuple[TypeEffect, ...],
        skipped: bool,
    ) -> RetrievalResult:
        if not grades:
            return RetrievalResult(
                NEUTRAL_POINTS,
                0.0,
                0.0,
                0.0,
                0.0,
                None,
                None,
                raw_matched,
                False,
                lines,
                dense=self.dense,
                fallback=fell_back,
                skipped=skipped,
            )
        rr_before = reciprocal_rank(before, grades)
        rr_after = reciprocal_rank(after, grades)
        ndcg_before = ndcg(before, grades)
        ndcg_after = ndcg(after, grades)
        return RetrievalResult(
            points=retrieval_points(rr_before, rr_after, ndcg_before, ndcg_after),
            rr_before=rr_before,
            rr_after=rr_after,
            ndcg_before=ndcg_before,
            ndcg_after=ndcg_after,
            rank_before=best_rank(before, grades),
            rank_after=best_rank(after, grades),
            raw_matched=raw_matched,
            judged=True,
            lines=lines,
            relevant=self._doc_ranks(before, after, grades),
            recall_before=recall(before, grades),
            recall_after=recall(after, grades),
            dense=self.dense,
            fallback=fell_back,
            by_type=by_type,
            skipped=skipped,
        )

    def _doc_ranks(
        self, before: Sequence[int], after: Sequence[int], grades: dict[int, int]
    ) -> tuple[DocRank, ...]:
        position_before = {doc: i + 1 for i, doc in enumerate(before)}
        position_after = {doc: i + 1 for i, doc in enumerate(after)}
        return tuple(
            DocRank(
                self.index.doc_ids[doc], grade, position_before.get(doc), position_after.get(doc)
            )
            for doc, grade in sorted(grades.items(), key=lambda item: (-item[1], item[0]))
        )

    def _outcome(self, text: str, kind: str, found: _Search, grades: dict[int, int]) -> LineOutcome:
        hits = tuple(self.index.doc_ids[n] for n in found.ranked if n in grades)
        return LineOutcome(
            text=text,
            dropped=False,
            error=found.error,
            matched=found.matched,
            found=hits,
            best_rank=best_rank(found.ranked, grades),
            kind=kind,
            rr=reciprocal_rank(found.ranked, grades),
            ndcg=ndcg(found.ranked, grades),
            recall=recall(found.ranked, grades),
        )

    def _grades(self, relevant: Relevant | None) -> dict[int, int]:
        """Relevant documents by corpus position, with positive grades only."""
        if relevant is None:
            return {}
        if isinstance(relevant, Mapping):
            pairs = list(relevant.items())
        elif isinstance(relevant, str):
            pairs = [(relevant, 1)]
        else:
            pairs = [(doc_id, 1) for doc_id in relevant]
        grades: dict[int, int] = {}
        for doc_id, grade in pairs:
            number = self.index.doc_number(str(doc_id))
            try:
                value = int(grade)
            except (TypeError, ValueError):
                continue
            if number is not None and value > 0:
                grades[number] = max(value, grades.get(number, 0))
        return grades

    def _search(self, text: str, *, strict: bool) -> _Search:
        key = (text, strict)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        query = parse_lex_line(text, strict=strict)
        docs, scores, matched = self.index.ranked(query, limit=self.depth)
        result = _Search(tuple(docs.tolist()), matched, query.error, tuple(scores[:2].tolist()))
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result
