"""The scorer behind a request/response API, with no HTTP in it: JSON payloads in, JSON
payloads out, every malformed payload a :class:`BadRequest` with a message.

Two request shapes reach the same :class:`~qmd_reward.trl.QMDReward` code path, so a served
score equals the score in process for the same batch:

- ``/score``: ``{"items": [{"query", "completion", ...}, ...]}`` ->
  ``{"scores": [...], "cards": [...]}``.
- ``/get_reward``, OpenRLHF's remote reward model: ``{"query": [prompt + response, ...],
  "prompts": [prompt, ...], "labels": [...]}`` -> ``{"rewards", "scores", "extra_logs"}``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .prompts import extract_query
from .scorecard import ScoreCard
from .trl import QMDReward

# Item fields passed on to the reward as TRL dataset columns (relevance for retrieval).
CONTEXT_FIELDS = ("relevant_docs", "query_id")
# Where a templated prompt hands over to the model, when OpenRLHF sends no prompt to cut at.
_ASSISTANT_TURN = "<|im_start|>assistant"
# The empty thinking block Qwen3's template puts after that marker when thinking is off.
_EMPTY_THINK = re.compile(r"\A\s*<think>\s*</think>\s*")


class BadRequest(Exception):
    """A payload the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Bounds on one request. A GRPO step scores a few hundred completions of a few hundred
    characters each; the defaults leave room for ten times that and refuse the absurd."""

    max_bytes: int = 8 * 1024 * 1024
    max_items: int = 4096


def card_summary(card: ScoreCard | None) -> dict[str, Any] | None:
    """What a caller needs of a card to act on it; None for a completion the scorer could not
    score (its score is then 0.0, as in TRL)."""
    if card is None:
        return None
    return {
        "score": card.score,
        "rating": card.rating,
        "dimensions": dict(card.dimensions),
        "max_points": card.max_points,
        "penalties": dict(card.penalties),
        "deductions": list(card.deductions),
    }


class ScoringService:
    """Validates payloads and scores them with one shared reward.

    One lock around the scorer, not one scorer per thread: scoring is CPU-bound Python, so
    threads would not score in parallel anyway (the GIL), while a scorer per thread would
    repeat the query caches, the spaCy model and any retrieval index in every thread. For
    more throughput run more server processes (OpenRLHF shards a batch across several URLs).
    """

    def __init__(self, reward: QMDReward, limits: Limits | None = None) -> None:
        self.reward = reward
        self.limits = limits or Limits()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Build the scorer and load its models now, not on the first request."""
        with self._lock:
            self.reward.cards(None, ["lex: warm up"], query=["warm up"])

    def health(self) -> dict[str, Any]:
        from . import __version__

        return {
            "status": "ok",
            "version": __version__,
            "retrieval": getattr(self.reward.scorer, "retrieval", None) is not None,
            "max_items": self.limits.max_items,
            "max_bytes": self.limits.max_bytes,
        }

    # -- /score ---------------------------------------------------------------------------

    def score(self, payload: Any) -> dict[str, Any]:
        items = _field(payload, "items", list, "a list of items")
        self._check_count(len(items))
        queries: list[str | None] = []
        completions: list[Any] = []
        prompts: list[Any] = []
        context: dict[str, list[Any]] = {name: [] for name in CONTEXT_FIELDS}
        for i, item in enumerate(items):
            where = f"items[{i}]"
            if not isinstance(item, Mapping):
                raise BadRequest(f"{where}: expected an object, got {_kind(item)}")
            query, prompt = item.get("query"), item.get("prompt")
            if query is None and prompt is None:
                raise BadRequest(f"{where}: needs a 'query' (or a 'prompt' holding one)")
            if query is not None and not isinstance(query, str):
                raise BadRequest(f"{where}.query: expected a string, got {_kind(query)}")
            if prompt is not None and not isinstance(prompt, str | list):
                raise BadRequest(f"{where}.prompt: expected a string or messages")
            if "completion" not in item:
                raise BadRequest(f"{where}: missing 'completion'")
            completion = item["completion"]
            if not isinstance(completion, str | list):
                raise BadRequest(
                    f"{where}.completion: expected a string or a list of messages, "
                    f"got {_kind(completion)}"
                )
            docs = item.get("relevant_docs")
            if docs is not None and not isinstance(docs, list | dict):
                raise BadRequest(f"{where}.relevant_docs: expected a list of ids or an object")
            queries.append(query)
            prompts.append(prompt)
            completions.append(completion)
            for name in CONTEXT_FIELDS:
                context[name].append(item.get(name))
        cards = self._cards(prompts, completions, queries, context)
        return {
            "scores": [self.reward.value(card) for card in cards],
            "cards": [card_summary(card) for card in cards],
        }

    # -- /get_reward (OpenRLHF) -------------------------------------------------------------

    def openrlhf(self, payload: Any) -> dict[str, Any]:
        texts = _field(payload, "query", list, "a list of prompt + response texts")
        self._check_count(len(texts))
        prompts = payload.get("prompts")
        if prompts is not None and (not isinstance(prompts, list) or len(prompts) != len(texts)):
            raise BadRequest("'prompts' must be a list as long as 'query'")
        queries: list[str | None] = []
        completions: list[str] = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise BadRequest(f"query[{i}]: expected a string, got {_kind(text)}")
            prompt = prompts[i] if prompts is not None else None
            if prompt is not None and not isinstance(prompt, str):
                raise BadRequest(f"prompts[{i}]: expected a string, got {_kind(prompt)}")
            query, response = split_sequence(text, prompt)
            queries.append(query)
            completions.append(response)
        cards = self._cards([None] * len(texts), completions, queries, {})
        scores = [self.reward.value(card) for card in cards]
        # OpenRLHF turns every extra_logs value into a tensor; the score is all we add.
        return {"rewards": scores, "scores": scores, "extra_logs": {}}

    # -- shared ---------------------------------------------------------------------------

    def _check_count(self, count: int) -> None:
        if count > self.limits.max_items:
            raise BadRequest(
                f"{count} items in one request; at most {self.limits.max_items}", status=413
            )

    def _cards(
        self,
        prompts: list[Any],
        completions: list[Any],
        queries: list[str | None],
        context: Mapping[str, list[Any]],
    ) -> list[ScoreCard | None]:
        columns = {"query": queries, **context}
        with self._lock:
            return self.reward.cards(prompts, completions, **columns)


def split_sequence(text: str, prompt: str | None) -> tuple[str | None, str]:
    """(the QMD query, the response) of one OpenRLHF sequence: the prompt and the response
    decoded together, special tokens kept.

    With the prompt, the response is what follows it. Without (or when the decoded text does
    not start with it), the text is cut at its last assistant turn. The query is read from
    the prompt part as TRL prompts are read: after ``Expand this search query:``, or the
    whole prompt when it has no instruction. None when no prompt part can be found.
    """
    if prompt and text.startswith(prompt):
        return extract_query(prompt) or None, text[len(prompt) :]
    head, marker, tail = text.rpartition(_ASSISTANT_TURN)
    if not marker:
        return None, text
    # Only the template puts an empty think block right after the turn marker.
    return extract_query(head) or None, _EMPTY_THINK.sub("", tail.removeprefix("\n"), count=1)


def _field(payload: Any, name: str, kind: type, description: str) -> Any:
    if not isinstance(payload, Mapping):
        raise BadRequest(f"expected a JSON object, got {_kind(payload)}")
    if name not in payload:
        raise BadRequest(f"missing '{name}': {description}")
    value = payload[name]
    if not isinstance(value, kind):
        raise BadRequest(f"'{name}' must be {description}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    """A JSON value's type, in JSON's words."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__


__all__ = ["BadRequest", "Limits", "ScoringService", "card_summary", "split_sequence"]
