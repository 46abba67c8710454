"""The scorer as a verl custom reward function.

verl calls ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``
once per response (its ``naive`` reward manager), or ``compute_score_batch(data_sources=...,
solution_strs=..., ground_truths=..., extra_infos=...)`` once per batch (its ``batch``
manager), with ``custom_reward_function.reward_kwargs`` added as keyword arguments. Point
``custom_reward_function.path`` at ``pkg://qmd_reward.verl``. This module imports neither
verl nor torch: it only speaks that calling convention.

verl passes no prompt, so the query travels with the row: ``extra_info["query"]``, else
``ground_truth`` itself (a string, or a mapping with a ``"query"``). ``extra_info`` may also
carry ``relevant_docs`` or ``query_id`` for the retrieval dimension, judged when
``reward_kwargs`` name a ``corpus``.

Like the TRL reward it never raises: a response it cannot score gets 0.0.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .trl import QMDReward

log = logging.getLogger(__name__)

_CONTEXT_KEYS = ("relevant_docs", "query_id")

# verl's newer reward loop calls the function from an executor's threads, and the scorer's
# caches are not thread-safe: one lock, for the reason the server has one (scoring is
# CPU-bound Python; a scorer per thread would only repeat the caches and models).
_lock = threading.Lock()
_rewards: dict[tuple[str | None, str], QMDReward] = {}


def _reward(corpus: str | None, embedder: str) -> QMDReward:
    """One reward per (corpus, embedder) for the life of the worker process."""
    key = (corpus, embedder)
    if key not in _rewards:
        if corpus is None:
            _rewards[key] = QMDReward(log_details=False)
        else:
            _rewards[key] = QMDReward.with_corpus(corpus, embedder=embedder, log_details=False)
    return _rewards[key]


def row_query(ground_truth: Any, extra_info: Any) -> str | None:
    """The QMD query of a row: ``extra_info["query"]``, else the ground truth (a string, or a
    mapping's ``"query"``).

    >>> row_query("ssh key auth", {"split": "train"})
    'ssh key auth'
    >>> row_query({"query": "ssh key auth"}, None), row_query(None, {"query": "vpn setup"})
    ('ssh key auth', 'vpn setup')
    """
    for source in (extra_info, ground_truth):
        if isinstance(source, Mapping):
            found = source.get("query")
            if isinstance(found, str) and found.strip():
                return found
    if isinstance(ground_truth, str) and ground_truth.strip():
        return ground_truth
    return None


def _plain(value: Any) -> Any:
    """A list for a numpy array: verl's rows come from parquet, whose lists load as arrays."""
    return value.tolist() if hasattr(value, "tolist") else value


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[Any],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    *,
    corpus: str | None = None,
    embedder: str = "auto",
    **_: Any,
) -> list[float]:
    """The score (0..1) of each response of a batch, scored together as TRL's reward scores a
    batch (so a line that is a template across the batch's queries earns nothing).

    ``corpus`` (a BEIR folder, from ``reward_kwargs``) adds the retrieval dimension for rows
    whose ``extra_info`` names ``relevant_docs`` or a ``query_id``; ``embedder`` is as for
    ``qmd-reward score`` (auto, none, minilm or a model folder).
    """
    count = len(solution_strs)
    try:
        infos = list(extra_infos) if extra_infos is not None else [None] * count
        infos += [None] * (count - len(infos))
        truths = list(ground_truths) + [None] * (count - len(ground_truths))
        columns: dict[str, list[Any]] = {
            "query": [row_query(truth, info) for truth, info in zip(truths, infos)]
        }
        for key in _CONTEXT_KEYS:
            columns[key] = [
                _plain(info.get(key)) if isinstance(info, Mapping) else None for info in infos
            ]
        with _lock:
            reward = _reward(corpus, embedder)
            cards = reward.cards(None, list(solution_strs), **columns)
        return [reward.value(card) for card in cards]
    except Exception as exc:  # a reward that raises stops a run hours in
        log.error("qmd verl reward: a batch scored 0.0 after an error: %s", exc, exc_info=exc)
        return [0.0] * count


def compute_score(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    **kwargs: Any,
) -> float:
    """The score (0..1) of one response; verl's ``naive`` reward manager calls this.

    >>> compute_score("qmd", "lex: ssh-keygen ed25519\\nvec: log in to a server with an ssh key",
    ...               "ssh key authentication") > 0
    True
    >>> compute_score("qmd", "Sure! Here you go.", "ssh key authentication")
    0.0
    """
    return compute_score_batch(
        [data_source], [solution_str], [ground_truth], [extra_info], **kwargs
    )[0]


__all__ = ["compute_score", "compute_score_batch", "row_query"]
