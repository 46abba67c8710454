"""The one scorer: text -> parsed expansion -> rubric dimensions -> score card."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from types import MappingProxyType

from . import rubric
from .entities import EntityDetector, default_detector
from .expansion import parse_expansion, split_only_mode
from .rubric import QueryInfo
from .scorecard import FAILED, ScoreCard, rating_for
from .text import content_words

ECHO_CAP = 0.5


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class Scorer:
    """Holds configuration and the per-query caches; reuse one across many calls.

    GRPO scores several completions of one prompt, so everything that depends only on the
    query (entities, key terms) is computed once per distinct query.
    """

    def __init__(self, entity_detector: EntityDetector | None = None, cache_size: int = 8192):
        self.entity_detector = entity_detector or default_detector()
        self._queries: _LRU = _LRU(cache_size)
        self._cards: _LRU = _LRU(cache_size)

    # -- query analysis ----------------------------------------------------------------

    def analyse(self, query: str) -> QueryInfo:
        info = self._queries.get(query)
        if info is None:
            self._analyse_many([query])
            info = self._queries[query]
        return info

    def _analyse_many(self, queries: Iterable[str]) -> None:
        todo = list(dict.fromkeys(q for q in queries if q not in self._queries))
        if not todo:
            return
        parts = [split_only_mode(q) for q in todo]
        found = self.entity_detector.detect_many([p.text for p in parts])
        for raw, part, entities in zip(todo, parts, found):
            self._queries.put(
                raw,
                QueryInfo(
                    raw=raw,
                    text=part.text,
                    only=part.only,
                    terms=part.terms,
                    key_terms=frozenset(content_words(part.text)),
                    entities=tuple(entities),
                ),
            )

    # -- scoring -----------------------------------------------------------------------

    def score(self, query: str, expansion: str) -> ScoreCard:
        if not isinstance(query, str) or not isinstance(expansion, str):
            raise TypeError(
                f"query and expansion must be str, got {type(query).__name__} and "
                f"{type(expansion).__name__}"
            )
        key = (query, expansion)
        card = self._cards.get(key)
        if card is None:
            card = self._score(self.analyse(query), expansion)
            self._cards.put(key, card)
        return card

    def score_batch(self, pairs: Sequence[tuple[str, str]]) -> list[ScoreCard]:
        """Score many (query, expansion) pairs; identical to scoring them one by one."""
        self._analyse_many(q for q, _ in pairs if isinstance(q, str))
        return [self.score(q, e) for q, e in pairs]

    def _score(self, q: QueryInfo, text: str) -> ScoreCard:
        exp = parse_expansion(text, query=q.text)
        dimensions_spec = rubric.ONLY_DIMENSIONS if q.only else rubric.FULL_DIMENSIONS
        failure = rubric.hard_failure(exp, q)
        if failure is not None:
            names = [n for n, _ in dimensions_spec if n != "hyde"]
            return ScoreCard(
                score=0.0,
                rating=FAILED,
                dimensions=MappingProxyType(dict.fromkeys(names, 0.0)),
                deductions=(failure,),
                entities=q.entities,
                max_points=float(sum(rubric.MAX_POINTS[n] for n in names)),
                only_mode=q.only,
            )
        dims: dict[str, float] = {}
        notes: list[str] = []
        for name, dimension in dimensions_spec:
            if name == "hyde" and not exp.hyde:
                continue
            points, more = dimension(exp, q)
            dims[name] = float(points)
            notes += more
        max_points = float(sum(rubric.MAX_POINTS[n] for n in dims))
        score = min(1.0, max(0.0, sum(dims.values()) / max_points))
        if not q.only:
            echoes = rubric.lex_echo_count(exp, q)
            # Every lex line being the query means BM25 got nothing new: half the cap again.
            cap = ECHO_CAP / 2 if echoes and echoes == len(exp.lex) else ECHO_CAP
            if echoes and score > cap:
                score = cap
                notes.insert(0, f"Score capped at {cap}: {echoes} lex line(s) echo the query.")
        return ScoreCard(
            score=round(score, 6),
            rating=rating_for(score),
            dimensions=MappingProxyType(dims),
            deductions=tuple(notes),
            entities=q.entities,
            max_points=max_points,
            only_mode=q.only,
        )


_default: Scorer | None = None


def score(query: str, expansion: str) -> ScoreCard:
    """Score one expansion with a shared default :class:`Scorer`."""
    global _default
    if _default is None:
        _default = Scorer()
    return _default.score(query, expansion)
