"""Aggregate judged records into before/after figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qmd_reward.retrieval.judge import RetrievalResult


@dataclass(frozen=True)
class Summary:
    judged: int
    skipped: int
    mrr_before: float
    mrr_after: float
    ndcg_before: float
    ndcg_after: float
    helped: int
    hurt: int
    mean_points: float

    @property
    def unchanged(self) -> int:
        return self.judged - self.helped - self.hurt

    def share(self, count: int) -> float:
        return count / self.judged if self.judged else 0.0


def summarise(results: Iterable[RetrievalResult]) -> Summary:
    results = list(results)
    judged = [r for r in results if r.judged]
    n = len(judged)

    def mean(values: Iterable[float]) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    return Summary(
        judged=n,
        skipped=len(results) - n,
        mrr_before=mean(r.rr_before for r in judged),
        mrr_after=mean(r.rr_after for r in judged),
        ndcg_before=mean(r.ndcg_before for r in judged),
        ndcg_after=mean(r.ndcg_after for r in judged),
        helped=sum(r.helped for r in judged),
        hurt=sum(r.hurt for r in judged),
        mean_points=mean(r.points for r in judged),
    )
