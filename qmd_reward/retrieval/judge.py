"""Judge an expansion by what its lex lines do to QMD's ranking of the relevant documents.

"Before" is the raw query searched alone, as QMD searches it; "after" is QMD's fusion of
that list (weight 2) with one list per lex line that survives the query-term filter
(weight 1). The points reward moving relevant documents up and charge for pushing them
down, so an expansion that only adds noise scores below neutral.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qmd_reward.ftsquery import parse_lex_line
from qmd_reward.retrieval.fusion import EXPANSION_WEIGHT, RAW_QUERY_WEIGHT, RRF_K, fuse
from qmd_reward.retrieval.index import BM25Index
from qmd_reward.retrieval.linefilter import line_survives
from qmd_reward.retrieval.metrics import best_rank, ndcg, reciprocal_rank, retrieval_points
from qmd_reward.retrieval.querytext import base_query

# QMD's FTS search returns 20 rows per query; a document past that is never seen.
DEFAULT_DEPTH = 20
NEUTRAL_POINTS = 10.0
_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class LineOutcome:
    """What one lex line contributed.

    ``dropped``: QMD's query-term filter removed it before searching. ``error``: why QMD
    matches nothing for it (unbalanced quotes, only negations...), else None.
    ``matched``: documents it matched. ``found``: relevant documents in its result list;
    ``best_rank``: 1-based rank of the best of them in that list.
    """

    text: str
    dropped: bool
    error: str | None
    matched: int
    found: tuple[str, ...]
    best_rank: int | None


@dataclass(frozen=True)
class DocRank:
    """1-based rank of one relevant document without and with the expansion (None: absent)."""

    doc_id: str
    grade: int
    before: int | None
    after: int | None


@dataclass(frozen=True)
class RetrievalResult:
    """Ranking of the relevant documents without and with the expansion.

    ``judged`` is False when no relevant document of the query is in the corpus; the
    points are then neutral (10) and the before/after figures are 0.
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

    @property
    def helped(self) -> bool:
        return self.judged and self.points > NEUTRAL_POINTS + 1e-9

    @property
    def hurt(self) -> bool:
        return self.judged and self.points < NEUTRAL_POINTS - 1e-9


@dataclass(frozen=True)
class _Search:
    ranked: tuple[int, ...]
    matched: int
    error: str | None


class RetrievalJudge:
    """Scores expansions against one index; caches every line it has searched."""

    def __init__(
        self,
        index: BM25Index,
        *,
        depth: int = DEFAULT_DEPTH,
        k: int = RRF_K,
        raw_weight: float = RAW_QUERY_WEIGHT,
        line_weight: float = EXPANSION_WEIGHT,
        cache_size: int = _CACHE_SIZE,
    ) -> None:
        self.index = index
        self.depth = depth
        self.k = k
        self.raw_weight = raw_weight
        self.line_weight = line_weight
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, bool], _Search] = OrderedDict()

    def evaluate(
        self,
        query: str,
        lex_lines: Sequence[str],
        relevant: Mapping[str, int] | Sequence[str],
    ) -> RetrievalResult:
        """Compare the raw query's ranking with the fused ranking of query + lex lines.

        ``relevant`` is a qrels mapping (doc id -> grade, grades <= 0 ignored) or a list
        of relevant doc ids (grade 1). Ids missing from the corpus are ignored.
        """
        query = base_query(str(query))
        if isinstance(lex_lines, str):
            # One line passed bare: iterating it would judge every character as a line.
            lex_lines = [lex_lines]
        grades = self._grades(relevant)
        raw = self._search(query, strict=False)
        lists: list[tuple[Sequence[int], float]] = [(raw.ranked, self.raw_weight)]
        outcomes = []
        for line in lex_lines:
            text = str(line)
            if not line_survives(text, query):
                outcomes.append(LineOutcome(text, True, None, 0, (), None))
                continue
            # hybridQuery searches an expansion line as it is: no validation of quotes.
            found = self._search(text, strict=False)
            if found.ranked:
                lists.append((found.ranked, self.line_weight))
            outcomes.append(self._outcome(text, found, grades))
        fused = fuse(lists, self.k)[: self.depth]
        return self._result(raw.ranked, fused, raw.matched, grades, tuple(outcomes))

    def search(self, line: str, *, strict: bool = True) -> list[str]:
        """The top ``depth`` document ids for one line (cached)."""
        return [self.index.doc_ids[n] for n in self._search(line, strict=strict).ranked]

    def _result(
        self,
        before: Sequence[int],
        after: Sequence[int],
        raw_matched: int,
        grades: dict[int, int],
        lines: tuple[LineOutcome, ...],
    ) -> RetrievalResult:
        if not grades:
            return RetrievalResult(
                NEUTRAL_POINTS, 0.0, 0.0, 0.0, 0.0, None, None, raw_matched, False, lines
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

    def _outcome(self, text: str, found: _Search, grades: dict[int, int]) -> LineOutcome:
        hits = tuple(self.index.doc_ids[n] for n in found.ranked if n in grades)
        return LineOutcome(
            text=text,
            dropped=False,
            error=found.error,
            matched=found.matched,
            found=hits,
            best_rank=best_rank(found.ranked, grades),
        )

    def _grades(self, relevant: Mapping[str, int] | Sequence[str]) -> dict[int, int]:
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
        docs, _, matched = self.index.ranked(query, limit=self.depth)
        result = _Search(tuple(docs.tolist()), matched, query.error)
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result
