"""A served scorer as a TRL reward function: ``GRPOTrainer(reward_funcs=[RemoteQMDReward(url)])``.

It is called exactly as :class:`~qmd_reward.trl.QMDReward` is, reads queries and completion
texts with the same code, and sends the batch to ``qmd-reward serve``, which scores it with
the same code again: the rewards are the ones a local ``QMDReward`` would give. It uses the
standard library's urllib only, and imports neither trl nor torch.

A completion the server cannot score gets 0.0, as in process. A server that cannot be
reached is different: after the retries it raises, because a run that silently trained on
zero rewards for hours would be worse than one that stops.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from .service import CONTEXT_FIELDS
from .trl import DEDUCTION_COLUMN, METRIC_PREFIX, NO_TEXT, build_items

log = logging.getLogger(__name__)

# Errors worth another try: the server restarting, a dropped connection, a slow answer.
_RETRYABLE = (urllib.error.URLError, ConnectionError, TimeoutError)


class RemoteRewardError(RuntimeError):
    """The server could not be reached, or refused the batch."""


def post_json(url: str, payload: Mapping[str, Any], timeout: float) -> Any:
    """POST ``payload`` as JSON and return the decoded answer; an HTTP error status raises
    :class:`RemoteRewardError` with the server's message."""
    data = json.dumps(payload, ensure_ascii=False, default=_plain).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", "")
        except Exception:
            message = ""
        raise RemoteRewardError(f"{url}: HTTP {exc.code} {message}".rstrip()) from None


def _plain(value: Any) -> Any:
    """A column value JSON cannot write as is: a numpy array or scalar, a set."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


class RemoteQMDReward:
    """The qmd-reward score of each completion, computed by a ``qmd-reward serve`` server.

    ``url`` is the server's base address (``http://127.0.0.1:8000``). ``retries`` more tries
    follow a connection failure, ``backoff`` seconds apart, doubling. With ``log_details``
    it reports the same ``qmd/<dimension>`` means and ``qmd_deduction`` column as QMDReward.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 1.0,
        log_details: bool = True,
    ) -> None:
        self.__name__ = "qmd"  # the same metric names as the in-process reward
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.log_details = log_details

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        completions = completions or []
        try:
            items = build_items(prompts, completions, kwargs)
        except Exception as exc:  # a malformed batch scores nothing, as in process
            log.error("qmd remote reward: unreadable batch, scored 0.0: %s", exc)
            return [0.0] * len(completions)
        # Items without a query or a text are not sent: in process they are not scored
        # either, so the batch the server sees (and its templates) is the same.
        todo = [i for i, it in enumerate(items) if it.query is not None and it.text is not None]
        scores = [0.0] * len(items)
        cards: list[Mapping[str, Any] | None] = [None] * len(items)
        if todo:
            answer = self._post([_payload(items[i]) for i in todo])
            for i, score, card in zip(todo, answer["scores"], answer["cards"], strict=True):
                scores[i] = float(score)
                cards[i] = card
        if self.log_details:
            _report(cards, kwargs)
        return scores

    def _post(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        url = self.url + "/score"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                answer = post_json(url, {"items": batch}, self.timeout)
                if not isinstance(answer, dict) or len(answer.get("scores", ())) != len(batch):
                    raise RemoteRewardError(f"{url}: an answer that does not fit the batch")
                return answer
            except _RETRYABLE as exc:
                if attempt == self.retries:
                    raise RemoteRewardError(
                        f"{url}: unreachable after {attempt + 1} tries: {exc}"
                    ) from exc
                log.warning("qmd remote reward: %s; retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises


def _payload(item: Any) -> dict[str, Any]:
    """One item of ``/score``: the query and text as the local reward read them."""
    found = {"query": item.query, "completion": item.text}
    found.update({k: v for k, v in item.context.items() if k in CONTEXT_FIELDS})
    return found


def _report(cards: Sequence[Mapping[str, Any] | None], kwargs: Mapping[str, Any]) -> None:
    """The metrics QMDReward.report logs, from the server's card summaries."""
    log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
    try:
        if callable(log_metric):
            sums: dict[str, list[float]] = {}
            for card in cards:
                for name, points in (card or {}).get("dimensions", {}).items():
                    sums.setdefault(name, []).append(float(points))
            for name, values in sums.items():
                log_metric(METRIC_PREFIX + name, sum(values) / len(values))
        if callable(log_extra):
            log_extra(
                DEDUCTION_COLUMN,
                [
                    NO_TEXT if card is None else (card.get("deductions") or [""])[0]
                    for card in cards
                ],
            )
    except Exception as exc:  # logging is a courtesy; never let it stop training
        log.error("qmd remote reward: logging failed: %s", exc)


__all__ = ["RemoteQMDReward", "RemoteRewardError", "post_json"]
