"""The one scorer: text -> parsed expansion -> rubric dimensions -> score card."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import islice
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union

from . import rubric
from .checks import function_word, language, script
from .entities import EntityDetector, default_detector, term_index
from .expansion import DROPPING_ISSUES, LineIssue, parse_with_terms, split_only_mode
from .lexicon import rarity
from .rubric import QueryInfo
from .scorecard import FAILED, NO_EXTRAS, ScoreCard, new_card, rating_for
from .text import STOPWORDS, content_words, words

if TYPE_CHECKING:
    from .retrieval import RetrievalJudge

Relevant = Union[Mapping[str, int], Sequence[str], None]  # noqa: UP007

ECHO_CAP = 0.5
# An output whose lines are mostly babble is Failed whatever its sound lines earn.
DEGENERATE_CAP = 0.1
# One babbling line is the first sign of a drifting policy; GRPO must not find it cheap.
BABBLE_CAP = 0.4


def discriminating_terms(key_terms: frozenset[str]) -> frozenset[str]:
    """The rarest key terms: those within reach of the rarest one.

    'glacier ice core carbon dating' -> glacier, carbon, ...: the words that make the query
    about something in particular. Common words only count when nothing rarer is there.
    """
    if not key_terms:
        return key_terms
    weights = {term: rarity(term) for term in key_terms}
    top = max(weights.values())
    return frozenset(t for t, w in weights.items() if w >= 0.6 * top)


_FULL_WITHOUT_HYDE = tuple(d for d in rubric.FULL_DIMENSIONS if d[0] != "hyde")


def _with_max_points(spec: tuple) -> tuple[tuple, float]:
    """A set of dimensions with the points they can give."""
    return spec, float(sum(rubric.MAX_POINTS[name] for name, _ in spec))


_FULL, _FULL_NO_HYDE, _ONLY = map(
    _with_max_points, (rubric.FULL_DIMENSIONS, _FULL_WITHOUT_HYDE, rubric.ONLY_DIMENSIONS)
)


@lru_cache(maxsize=65536)
def _rated(score: float) -> tuple[float, str]:
    """``round(score, 6)`` and the score's rating: scores are ratios of a few point totals,
    so they repeat."""
    return round(score, 6), rating_for(score)


class _Cache(dict):
    """A dict that forgets its oldest quarter when it outgrows ``size`` (first in, first
    out): one eviction per many insertions, where popping the oldest each time costs on
    every completion once the cache is full."""

    def __init__(self, size: int, evicted: Callable[[Any], None] | None = None) -> None:
        super().__init__()
        self.size = size
        self.evicted = evicted  # called with each value the cache forgets

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.size:
            for old in list(islice(self, max(1, self.size // 4))):
                forgotten = self.pop(old)
                if self.evicted is not None:
                    self.evicted(forgotten)


class Scorer:
    """Holds configuration and the per-query caches; reuse one across many calls.

    GRPO scores several completions of one prompt, so everything that depends only on the
    query (entities, key terms) is computed once per distinct query.
    """

    def __init__(
        self,
        entity_detector: EntityDetector | None = None,
        cache_size: int = 8192,
        retrieval: RetrievalJudge | None = None,
    ):
        self.entity_detector = entity_detector or default_detector()
        # With a judge, records that name relevant documents get the retrieval dimension.
        self.retrieval = retrieval
        self._queries: _Cache = _Cache(cache_size, evicted=QueryInfo.release)
        self._cards: _Cache = _Cache(cache_size)

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
            lang = language(part.text)
            key_terms = frozenset(w for w in content_words(part.text) if not function_word(w, lang))
            weights = tuple(sorted((t, rarity(t)) for t in key_terms))
            discriminating = discriminating_terms(key_terms)
            vocabulary = tuple(sorted(key_terms | set(entities)))
            self._queries.put(
                raw,
                QueryInfo(
                    raw=raw,
                    text=part.text,
                    only=part.only,
                    terms=part.terms,
                    key_terms=key_terms,
                    discriminating=discriminating,
                    entities=tuple(entities),
                    language=lang,
                    weights=weights,
                    total_weight=sum(w for _, w in weights),
                    asked=frozenset(words(part.text)),
                    asked_text=f" {' '.join(words(part.text))} ",
                    known=key_terms | STOPWORDS,
                    latin=script(part.text) in ("latin", None),
                    anchors=rubric.anchoring_terms(discriminating),
                    vocabulary=vocabulary,
                    index=term_index(vocabulary),
                ),
            )

    # -- scoring -----------------------------------------------------------------------

    def score(self, query: str, expansion: str, relevant: Relevant = None) -> ScoreCard:
        """Score one expansion.

        ``relevant`` (document ids, or ids mapped to grades) adds the ``retrieval`` dimension
        when the scorer has a retrieval judge; without either, the dimension is absent.
        """
        if not isinstance(query, str) or not isinstance(expansion, str):
            raise TypeError(
                f"query and expansion must be str, got {type(query).__name__} and "
                f"{type(expansion).__name__}"
            )
        relevant_key = _relevant_key(relevant) if self.retrieval is not None else None
        key = (query, expansion, relevant_key)
        kept = self._cards.get(key)
        if kept is not None:
            return ScoreCard.from_tuple(kept)
        card = self._score(self.analyse(query), expansion, relevant_key)
        # Kept as plain values: the garbage collector stops tracking those, while a cache of
        # live cards would be traversed again and again during a long GRPO run.
        self._cards.put(key, card.as_tuple())
        return card

    def score_batch(self, pairs: Sequence[tuple[str, str] | tuple[str, str, Relevant]]):
        """Score many (query, expansion[, relevant]) tuples; identical to one by one."""
        self._analyse_many(p[0] for p in pairs if isinstance(p[0], str))
        return [self.score(*p) for p in pairs]

    def _retrieval(self, q: QueryInfo, exp, relevant: tuple | None):
        if self.retrieval is None or not relevant:
            return None
        lex = [line.text for line in exp.lines if line.type == "lex" and line.text]
        result = self.retrieval.evaluate(q.text, lex, dict(relevant))
        return result if result.judged else None

    def _score(self, q: QueryInfo, text: str, relevant: tuple | None = None) -> ScoreCard:
        exp = parse_with_terms(text, q.terms, q.readings)
        failure = rubric.hard_failure(exp, q)
        if failure is not None:
            spec = rubric.ONLY_DIMENSIONS if q.only else _FULL_WITHOUT_HYDE
            names = [n for n, _ in spec]
            return ScoreCard(
                score=0.0,
                rating=FAILED,
                dimensions=MappingProxyType(dict.fromkeys(names, 0.0)),
                deductions=(failure,),
                entities=q.entities,
                max_points=float(sum(rubric.MAX_POINTS[n] for n in names)),
                only_mode=q.only,
            )
        if q.only:
            spec, max_points = _ONLY
        else:
            spec, max_points = _FULL if exp.hyde else _FULL_NO_HYDE
        dims: dict[str, float] = {}
        notes: list[str] = []
        for name, dimension in spec:
            points, more = dimension(exp, q)
            dims[name] = float(points)
            notes += more
        extras: dict = {}
        found = self._retrieval(q, exp, relevant) if relevant else None
        if found is not None:
            dims["retrieval"] = round(found.points, 4)
            notes += rubric.retrieval_notes(found)
            extras["retrieval"] = {
                "rr_before": found.rr_before,
                "rr_after": found.rr_after,
                "ndcg_before": found.ndcg_before,
                "ndcg_after": found.ndcg_after,
            }
        if "retrieval" in dims:
            max_points += rubric.MAX_POINTS["retrieval"]
        score = min(1.0, max(0.0, sum(dims.values()) / max_points))
        bad = 0
        if exp.flawed:
            kept = written = 0
            for _, content, _, issues in exp.lines:
                if content:
                    written += 1
                    if LineIssue.DEGENERATE in issues:
                        bad += 1
                    if DROPPING_ISSUES.isdisjoint(issues):
                        kept += 1
        else:  # every line carries content and QMD keeps it
            kept = written = len(exp.lines)
        if bad:
            mostly = 2 * bad >= written
            cap = DEGENERATE_CAP if mostly else BABBLE_CAP
            if score > cap:
                score = cap
                notes.insert(0, f"Score capped at {cap}: {bad} line(s) are degenerate text.")
        if not kept and score > DEGENERATE_CAP:
            # QMD would discard every line and search with the raw query alone.
            score = DEGENERATE_CAP
            notes.insert(0, f"Score capped at {DEGENERATE_CAP}: QMD would drop every line.")
        elif rubric.off_topic(exp, q) and score > DEGENERATE_CAP:
            score = DEGENERATE_CAP
            notes.insert(0, f"Score capped at {DEGENERATE_CAP}: no line is about the query.")
        if not q.only:
            echoes = rubric.lex_echo_count(exp, q)
            # Every lex line being the query means BM25 got nothing new: half the cap again.
            cap = ECHO_CAP / 2 if echoes and echoes == len(exp.lex) else ECHO_CAP
            if echoes and all(rubric.only_query_words(v, q) for v in exp.vec + exp.hyde):
                cap = DEGENERATE_CAP  # nothing but the query, said again
            if echoes and score > cap and not bad:
                score = cap
                notes.insert(0, f"Score capped at {cap}: {echoes} lex line(s) echo the query.")
        return new_card(
            *_rated(score),
            MappingProxyType(dims),
            tuple(notes),
            q.entities,
            max_points,
            q.only,
            MappingProxyType(extras) if extras else NO_EXTRAS,
        )


def _relevant_key(relevant: Relevant) -> tuple | None:
    """Relevance in a hashable, order-free form: ((doc id, grade), ...)."""
    if not relevant:
        return None
    if isinstance(relevant, str):
        return ((relevant, 1),)
    if isinstance(relevant, Mapping):
        return tuple(sorted((str(k), int(v)) for k, v in relevant.items()))
    return tuple(sorted((str(doc), 1) for doc in relevant))


_default: Scorer | None = None


def score(query: str, expansion: str) -> ScoreCard:
    """Score one expansion with a shared default :class:`Scorer`."""
    global _default
    if _default is None:
        _default = Scorer()
    return _default.score(query, expansion)
