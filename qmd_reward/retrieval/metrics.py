"""Ranking quality measures and the retrieval dimension's points."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

NDCG_DEPTH = 10
MAX_POINTS = 20.0
# Scales the mixed gain before tanh: moving the relevant document from rank 2 to rank 1
# (gain about 0.43) is then worth about 8 of the 10 points above neutral.
GAIN_SCALE = 2.5


def best_rank(ranking: Sequence[Hashable], relevant: Mapping[Any, int]) -> int | None:
    """1-based rank of the first relevant document, or None when none was retrieved."""
    for position, doc in enumerate(ranking):
        if relevant.get(doc, 0) > 0:
            return position + 1
    return None


def reciprocal_rank(ranking: Sequence[Hashable], relevant: Mapping[Any, int]) -> float:
    rank = best_rank(ranking, relevant)
    return 0.0 if rank is None else 1.0 / rank


def ndcg(
    ranking: Sequence[Hashable], relevant: Mapping[Any, int], depth: int = NDCG_DEPTH
) -> float:
    """nDCG@depth with linear gains (trec_eval's convention, as BEIR reports it)."""
    gains = sorted((g for g in relevant.values() if g > 0), reverse=True)[:depth]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    if ideal <= 0:
        return 0.0
    dcg = sum(
        relevant.get(doc, 0) / math.log2(i + 2)
        for i, doc in enumerate(ranking[:depth])
        if relevant.get(doc, 0) > 0
    )
    return dcg / ideal


def recall(ranking: Sequence[Hashable], relevant: Mapping[Any, int]) -> float:
    """Share of the relevant documents (grade > 0) that ``ranking`` holds, whatever the
    grade: recall at the ranking's length (20 for QMD's lists)."""
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranking)) / len(wanted)


def mixed_gain(rr_before: float, rr_after: float, ndcg_before: float, ndcg_after: float) -> float:
    """Half the change in reciprocal rank plus half the change in nDCG@10, in [-1, 1]."""
    return 0.5 * (rr_after - rr_before) + 0.5 * (ndcg_after - ndcg_before)


def retrieval_points(
    rr_before: float, rr_after: float, ndcg_before: float, ndcg_after: float
) -> float:
    """Points for the retrieval dimension, 0 to 20, 10 when the expansion changes nothing.

    ``points = 10 + 10 * tanh(2.5 * gain)`` with
    ``gain = 0.5 * (RR_after - RR_before) + 0.5 * (nDCG@10_after - nDCG@10_before)``.
    tanh keeps the reward smooth and bounded; symmetric, so hurting retrieval costs as
    much as helping earns. Examples: not found -> rank 1 gives 19.9; rank 2 -> 1 gives
    about 18.0; rank 5 -> 4 about 11.2; rank 1 -> 2 about 2.0; rank 1 -> not found 0.1.
    """
    gain = mixed_gain(rr_before, rr_after, ndcg_before, ndcg_after)
    half = MAX_POINTS / 2
    return half + half * math.tanh(GAIN_SCALE * gain)
