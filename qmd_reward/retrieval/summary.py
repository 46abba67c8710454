"""Aggregate judged records into before/after figures, overall and per line type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qmd_reward.retrieval.judge import LINE_KINDS, RetrievalResult


@dataclass(frozen=True)
class TypeSummary:
    """What one line type's lists did, over the judged queries with such a line searched.

    ``*_before``: the raw query alone; ``*_with``: the raw query's lists fused with this
    type's lists only. ``own_*``: each searched line's own list, averaged over lines.
    ``blind``: searched lines whose own list holds no relevant document.
    """

    kind: str
    queries: int
    lines: int
    dropped: int
    blind: int
    own_mrr: float
    own_ndcg: float
    own_recall: float
    mrr_before: float
    mrr_with: float
    ndcg_before: float
    ndcg_with: float
    recall_before: float
    recall_with: float


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
    recall_before: float = 0.0
    recall_after: float = 0.0
    dense: bool = False
    fallback: int = 0
    by_type: tuple[TypeSummary, ...] = ()
    not_expanded: int = 0  # strong BM25 signal: QMD would not expand the query

    @property
    def unchanged(self) -> int:
        return self.judged - self.helped - self.hurt

    def share(self, count: int) -> float:
        return count / self.judged if self.judged else 0.0


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def summarise_type(kind: str, judged: list[RetrievalResult]) -> TypeSummary:
    # Queries QMD would not expand have no lines in its ranking: they are left out.
    expanded = [r for r in judged if not r.skipped]
    effects = [(r, e) for r in expanded for e in r.by_type if e.kind == kind]
    lines = [line for r in expanded for line in r.lines if line.kind == kind]
    searched = [line for line in lines if not line.dropped]
    return TypeSummary(
        kind=kind,
        queries=len(effects),
        lines=len(searched),
        dropped=len(lines) - len(searched),
        blind=sum(not line.found for line in searched),
        own_mrr=_mean(line.rr for line in searched),
        own_ndcg=_mean(line.ndcg for line in searched),
        own_recall=_mean(line.recall for line in searched),
        mrr_before=_mean(r.rr_before for r, _ in effects),
        mrr_with=_mean(e.rr for _, e in effects),
        ndcg_before=_mean(r.ndcg_before for r, _ in effects),
        ndcg_with=_mean(e.ndcg for _, e in effects),
        recall_before=_mean(r.recall_before for r, _ in effects),
        recall_with=_mean(e.recall for _, e in effects),
    )


def summarise(results: Iterable[RetrievalResult]) -> Summary:
    results = list(results)
    judged = [r for r in results if r.judged]
    n = len(judged)
    dense = any(r.dense for r in results)
    kinds = LINE_KINDS if dense else ("lex",)
    return Summary(
        judged=n,
        skipped=len(results) - n,
        mrr_before=_mean(r.rr_before for r in judged),
        mrr_after=_mean(r.rr_after for r in judged),
        ndcg_before=_mean(r.ndcg_before for r in judged),
        ndcg_after=_mean(r.ndcg_after for r in judged),
        helped=sum(r.helped for r in judged),
        hurt=sum(r.hurt for r in judged),
        mean_points=_mean(r.points for r in judged),
        recall_before=_mean(r.recall_before for r in judged),
        recall_after=_mean(r.recall_after for r in judged),
        dense=dense,
        fallback=sum(r.fallback for r in judged),
        not_expanded=sum(r.skipped for r in judged),
        by_type=tuple(summarise_type(kind, judged) for kind in kinds),
    )
