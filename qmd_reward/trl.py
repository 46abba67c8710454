"""The scorer as a TRL reward function: ``GRPOTrainer(reward_funcs=[QMDReward()])``.

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` are the dataset's other columns (one value per completion) plus
``trainer_state``, ``log_metric(name, value)`` and ``log_extra(column, values)``. It must
return one float per completion. This module imports neither trl nor torch: it only speaks
that calling convention.

A reward function that raises stops a training run hours in, so every completion, however
broken, gets a finite number: failures score 0.0 and are logged once per kind of error.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from .prompts import extract_query
from .rules import DIMENSIONS, dimension_max
from .scorecard import ScoreCard
from .scorer import Scorer

if TYPE_CHECKING:
    from .retrieval.relevance import RelevanceSource

log = logging.getLogger(__name__)

METRIC_PREFIX = "qmd/"
DEDUCTION_COLUMN = "qmd_deduction"
NO_TEXT = "No completion text."

# Keyword arguments TRL adds that are not dataset columns.
_TRL_KWARGS = frozenset({"trainer_state", "log_metric", "log_extra", "environments"})
# Columns carried with each completion: the example's own output and its relevant documents.
_CONTEXT_COLUMNS = ("reference", "relevant_docs", "query_id")
# Where chat parsers (TRL's ``parse_response``) put the model's thinking.
_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")


# -- getting text out of TRL's prompt and completion shapes -------------------------------


def _content_text(content: Any) -> str:
    """Message content as text: a string, or a list of ``{"type": "text", ...}`` blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            block.get("text", "") if isinstance(block, dict) else block
            for block in content
            if isinstance(block, dict | str)
        ]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _assistant_text(message: Mapping[str, Any]) -> str:
    """The text the model produced in one message, thinking and tool calls included.

    A response parser may have moved a ``<think>`` block out of ``content``; it is put back so
    the rubric still sees (and charges for) thinking. Tool calls become raw lines, which the
    rubric rejects as unprefixed: an expansion model should never call tools.
    """
    text = _content_text(message.get("content"))
    for key in _REASONING_KEYS:
        reasoning = message.get(key)
        if isinstance(reasoning, str) and reasoning.strip():
            text = f"<think>\n{reasoning}\n</think>\n\n{text}"
            break
    calls = message.get("tool_calls")
    if calls:
        text += "\n<tool_call>" + json.dumps(calls, default=str, ensure_ascii=False)
    return text


def completion_text(completion: Any) -> str | None:
    """The generated text of one completion (a string or a list of messages), else None."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, list) and completion:
        messages = [m for m in completion if isinstance(m, Mapping)]
        if not messages:
            return None
        produced = [m for m in messages if m.get("role", "assistant") == "assistant"]
        return "".join(_assistant_text(m) for m in produced or messages)
    return None


def prompt_query(prompt: Any) -> str | None:
    """The query of a prompt: a user message, a templated prompt string or a message list.

    In a message list the last user turn holds the query. A templated string can end in the
    empty ``<think>\\n\\n</think>`` block that Qwen3's template adds when thinking is off; that
    block belongs to the prompt, and :func:`extract_query` drops it with the rest of the markup.
    """
    if isinstance(prompt, str):
        return extract_query(prompt)
    if isinstance(prompt, Mapping):
        prompt = [prompt]
    if isinstance(prompt, list):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        if users:
            return extract_query(_content_text(users[-1].get("content")))
    return None


# -- scoring a batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One completion to score, with what the dataset said about its query."""

    query: str | None
    text: str | None
    context: Mapping[str, Any]  # reference / relevant_docs / query_id for this completion


def _column(kwargs: Mapping[str, Any], name: str, index: int) -> Any:
    values = kwargs.get(name)
    if isinstance(values, list | tuple) and index < len(values):
        return values[index]
    return None


def build_items(
    prompts: Sequence[Any] | None, completions: Sequence[Any], columns: Mapping[str, Any]
) -> list[Item]:
    items = []
    prompts = prompts if prompts is not None else []
    for i, completion in enumerate(completions):
        # The dataset's own query column is exact; parsing the prompt is the fallback.
        query = _column(columns, "query", i)
        if not isinstance(query, str) or not query.strip():
            query = prompt_query(prompts[i]) if i < len(prompts) else None
        context = {
            name: value
            for name in _CONTEXT_COLUMNS
            if (value := _column(columns, name, i)) is not None
        }
        items.append(Item(query, completion_text(completion), context))
    return items


class QMDReward:
    """The qmd-reward score (0..1) of each completion, as a TRL reward function.

    ``scorer_factory`` builds the :class:`Scorer` on first use (and again after unpickling,
    because the scorer's caches are not worth shipping to another process).
    ``log_details`` reports per-dimension means (``qmd/format``, ...) through TRL's
    ``log_metric`` and each completion's main deduction through ``log_extra``.
    """

    def __init__(
        self,
        scorer_factory: Callable[[], Scorer] = Scorer,
        *,
        log_details: bool = True,
        relevance: RelevanceSource | None = None,
    ) -> None:
        self.__name__ = "qmd"  # TRL names the reward's metrics after this
        self.scorer_factory = scorer_factory
        self.log_details = log_details
        # Where each completion's relevant documents come from (query_id, the pseudo-relevance
        # of references); a ``relevant_docs`` column needs none. The scorer holds the judge.
        self.relevance = relevance
        self._scorer: Scorer | None = None
        self._logged_errors: set[str] = set()

    @classmethod
    def with_references(cls, rows: Iterable[tuple[str, str]], **options: Any) -> QMDReward:
        """A reward with the retrieval dimension, judged against pseudo-relevance: every
        (query, reference expansion) row's passage is a document, relevant to its own query.
        This is what GRPO uses when its dataset has a ``reference`` column."""
        from .retrieval import Corpus
        from .retrieval.relevance import RelevanceSource

        corpus, pseudo = Corpus.from_references(rows)
        return cls._with_corpus(corpus, RelevanceSource(corpus, pseudo), **options)

    @classmethod
    def with_corpus(cls, path: str, **options: Any) -> QMDReward:
        """A reward with the retrieval dimension over a BEIR-style corpus; completions find
        their relevant documents through ``relevant_docs`` or ``query_id`` columns."""
        from .retrieval import Corpus
        from .retrieval.relevance import RelevanceSource

        corpus = Corpus.from_beir(path)
        return cls._with_corpus(corpus, RelevanceSource(corpus), **options)

    @classmethod
    def _with_corpus(
        cls, corpus: Any, relevance: Any, embedder: Any = "auto", **options: Any
    ) -> QMDReward:
        """``embedder``: "auto" searches vec and hyde lines by vectors when the dense extra is
        installed (as QMD does), "none" keeps retrieval to BM25, or an Embedder or a model
        folder (see :mod:`qmd_reward.retrieval.embedding`)."""
        from .retrieval import RetrievalJudge

        judge = RetrievalJudge.for_corpus(corpus, embedder=embedder)
        return cls(partial(Scorer, retrieval=judge), relevance=relevance, **options)

    # -- pickling: drop the scorer and its caches, rebuild on first use ------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_scorer"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = self.scorer_factory()
        return self._scorer

    # -- TRL entry point -----------------------------------------------------------------

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        cards = self.cards(prompts, completions or [], **kwargs)
        if self.log_details:
            self.report(cards, kwargs)
        return [self.value(card) for card in cards]

    def value(self, card: ScoreCard | None) -> float:
        if card is None or not math.isfinite(card.score):
            return 0.0
        return float(card.score)

    def cards(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], **columns: Any
    ) -> list[ScoreCard | None]:
        """One score card per completion; None where it could not be scored."""
        try:
            items = build_items(prompts, completions, columns)
        except Exception as exc:  # malformed batch structure: score nothing, never raise
            self._log_once(exc)
            return [None] * len(completions)
        return self._score(items)

    def _score(self, items: list[Item]) -> list[ScoreCard | None]:
        todo = [i for i, it in enumerate(items) if it.query is not None and it.text is not None]
        out: list[ScoreCard | None] = [None] * len(items)
        try:
            for i, card in zip(todo, self._score_items([items[i] for i in todo]), strict=True):
                out[i] = card
        except Exception:
            # One bad completion must not cost the batch: score one by one and zero the culprit.
            for i in todo:
                try:
                    out[i] = self._score_items([items[i]])[0]
                except Exception as exc:
                    self._log_once(exc)
        return out

    def _score_items(self, items: list[Item]) -> list[ScoreCard]:
        """The one place the dataset's context reaches the scorer: relevant documents are
        passed only to a scorer with a retrieval judge, and only where there are some."""
        judged = getattr(self.scorer, "retrieval", None) is not None
        batch: list[tuple[str, str] | tuple[str, str, Any]] = []
        for item in items:
            assert item.query is not None and item.text is not None  # _score passes only these
            relevant = self._relevant(item) if judged else None
            pair = (item.query, item.text)
            batch.append(pair if relevant is None else (*pair, relevant))
        return self.scorer.score_batch(batch)

    def _relevant(self, item: Item) -> Any:
        docs = item.context.get("relevant_docs")
        if self.relevance is None:
            return docs or None
        from .retrieval.records import QueryRecord

        query_id = item.context.get("query_id")
        record = QueryRecord(
            line_no=0,
            query=item.query or "",
            lex_lines=(),
            relevant_docs=tuple(map(str, docs)) if isinstance(docs, list | tuple) else None,
            query_id=None if query_id is None else str(query_id),
        )
        return self.relevance.for_record(record)

    def _log_once(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:200]
        if key not in self._logged_errors:
            self._logged_errors.add(key)
            log.error("qmd reward scored a completion 0.0 after an error: %s", key, exc_info=exc)

    # -- reporting -----------------------------------------------------------------------

    def report(self, cards: Sequence[ScoreCard | None], kwargs: Mapping[str, Any]) -> None:
        """Per-dimension batch means to ``log_metric``; main deductions to ``log_extra``."""
        log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
        try:
            if callable(log_metric):
                for name, mean in dimension_means(cards).items():
                    log_metric(METRIC_PREFIX + name, mean)
            if callable(log_extra):
                log_extra(
                    DEDUCTION_COLUMN,
                    [NO_TEXT if card is None else card.main_deduction for card in cards],
                )
        except Exception as exc:  # logging is a courtesy; never let it stop training
            self._log_once(exc)

    # -- one reward function per dimension -----------------------------------------------

    def per_dimension(
        self, names: Sequence[str] | None = None, *, log_details: bool = True
    ) -> list[DimensionReward]:
        """One reward function per rubric dimension, for ``GRPOConfig.reward_weights``.

        Each returns that dimension's points divided by the most it can give, times the
        expansion's penalty factor (so a think block or a babbling line costs in every one of
        them), or None where the dimension does not apply (``retrieval`` without relevance
        information, ``vec`` for an ``/only:lex`` query): TRL leaves None out of the sum.
        All share this object's scorer and caches.
        With ``log_details`` the first one reports the batch details, so a trainer given only
        these functions still logs them; pass False when this object is also a reward.
        """
        chosen = list(names) if names is not None else list(DIMENSIONS)
        unknown = [n for n in chosen if n not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension(s) {unknown}; known: {list(DIMENSIONS)}")
        return [
            DimensionReward(self, name, log_details=log_details and i == 0)
            for i, name in enumerate(chosen)
        ]


def dimension_means(cards: Sequence[ScoreCard | None]) -> dict[str, float]:
    """Mean points of each dimension over the completions that have it."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for card in cards:
        if card is None:
            continue
        for name, points in card.dimensions.items():
            sums[name] = sums.get(name, 0.0) + float(points)
            counts[name] = counts.get(name, 0) + 1
    return {name: sums[name] / counts[name] for name in sums}


class DimensionReward:
    """One dimension as a reward: its share of the most it can give, times the penalty factor,
    in [0, 1]; None where the dimension does not apply."""

    def __init__(self, parent: QMDReward, dimension: str, *, log_details: bool = False) -> None:
        self.parent = parent
        self.dimension = dimension
        self.log_details = log_details
        self.__name__ = f"qmd_{dimension}"

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        cards = self.parent.cards(prompts, completions or [], **kwargs)
        if self.log_details:
            self.parent.report(cards, kwargs)
        return [self.value(card) for card in cards]

    def value(self, card: ScoreCard | None) -> float | None:
        if card is None:
            return 0.0  # a completion that could not be scored earns nothing, in every part
        top = dimension_max(self.dimension, card.only_mode)
        points = card.dimensions.get(self.dimension)
        if top <= 0 or (points is None and self.dimension == "retrieval"):
            return None
        value = float(points or 0.0) / top * card.factor
        return value if math.isfinite(value) else 0.0


__all__ = [
    "DEDUCTION_COLUMN",
    "DimensionReward",
    "QMDReward",
    "completion_text",
    "dimension_means",
    "prompt_query",
]
