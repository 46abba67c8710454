"""Reciprocal rank fusion with QMD's weights and top-rank bonus."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

RRF_K = 60
RAW_QUERY_WEIGHT = 2.0
EXPANSION_WEIGHT = 1.0
# QMD rewards agreement at the very top: a document some list ranks first or in its
# top three keeps that advantage after fusion.
FIRST_PLACE_BONUS = 0.05
PODIUM_BONUS = 0.02

Doc = TypeVar("Doc", bound=Hashable)


def fuse(lists: Sequence[tuple[Sequence[Doc], float]], k: int = RRF_K) -> list[Doc]:
    """Fuse ``(ranking, weight)`` lists into one ranking, best first.

    Each list adds ``weight / (k + rank + 1)`` (rank from 0) to every document in it;
    the bonus goes by a document's best rank in any list. Ties keep first-seen order,
    as QMD's stable sort over insertion-ordered maps does.
    """
    scores: dict[Doc, float] = {}
    best: dict[Doc, int] = {}
    for ranking, weight in lists:
        for rank, doc in enumerate(ranking):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank + 1)
            if rank < best.get(doc, rank + 1):
                best[doc] = rank
    for doc, rank in best.items():
        if rank == 0:
            scores[doc] += FIRST_PLACE_BONUS
        elif rank <= 2:
            scores[doc] += PODIUM_BONUS
    return sorted(scores, key=lambda doc: -scores[doc])
