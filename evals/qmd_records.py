"""The pure parts of ``qmd-reward eval qmd``: rows from QMD turned into results records.

No QMD and no model here, so all of it is tested offline. A results record is an eval
record (``{"query", "expansion"}``, what ``eval report`` and ``eval compare`` read) with:

- ``query_id``: the query's id in the corpus (its qrels key);
- ``qmd``: what QMD did: the expansion as typed lines, whether hybridQuery used it
  (``expansion_used``; false when its first BM25 probe was a strong signal and it skipped
  expansion), ``fallback`` (QMD's expansion failed and it searched a fallback list; the
  message), the ranked document ids, and MRR, nDCG@10 and recall@10 against the qrels;
- ``judge``: our judge's score card for the expansion.

A query QMD failed on keeps its record: ``error`` says why, and the record has no
``expansion`` when there was none to judge, so ``eval report`` lists it among the errors
instead of scoring an empty expansion. ``--no-expand`` records (QMD with the raw query
only) carry ``"raw": true`` and an empty expansion, since no model wrote one: compare them
with a model's records on a QMD metric (``eval compare --metric ndcg@10``), not on the
judge's score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qmd_reward.retrieval.metrics import ndcg, recall, reciprocal_rank

DEPTH = 10
METRICS = ("mrr", "ndcg@10", "recall@10")


def expansion_text(lines: Sequence[Mapping[str, Any]]) -> str:
    """QMD's expansion (``[{"type", "query"}]``) as the judge reads one: ``type: text``
    lines in QMD's order."""
    return "\n".join(f"{line['type']}: {line['query']}" for line in lines)


def note_path(result: Mapping[str, Any]) -> str:
    """The file's path inside its collection, from a hybridQuery row: ``file`` is a
    ``qmd://COLLECTION/PATH`` address (``display_path`` is ``COLLECTION/PATH``)."""
    where = str(result.get("file") or result.get("display_path") or "")
    where = where.removeprefix("qmd://")
    return where.split("/", 1)[1] if "/" in where else where


def ranking(results: Sequence[Mapping[str, Any]], by_path: Mapping[str, str]) -> list[str]:
    """Document ids in QMD's order; a file the map does not know keeps its path, marked."""
    return [by_path.get(note_path(row), f"?{note_path(row)}") for row in results]


def metrics(ranked: Sequence[str], relevant: Mapping[str, int]) -> dict[str, float]:
    """MRR, nDCG@10 and recall@10 of QMD's list against graded qrels (BEIR's linear gains)."""
    top = list(ranked[:DEPTH])
    return {
        "mrr": reciprocal_rank(top, relevant),
        "ndcg@10": ndcg(top, relevant, DEPTH),
        "recall@10": recall(top, relevant),
    }


def build_record(
    query_id: str,
    query: str,
    row: Mapping[str, Any],
    by_path: Mapping[str, str],
    relevant: Mapping[str, int],
    *,
    raw: bool,
    category: str | None = None,
) -> dict[str, Any]:
    """One results record from the node script's row for a query (see the module doc)."""
    record: dict[str, Any] = {"query": query, "query_id": query_id}
    if category:
        record["category"] = category
    lines = [dict(line) for line in row.get("expansion") or []]
    error = row.get("error")
    if not error or lines or raw:
        # Keep whatever expansion there was, even when the search after it failed.
        record["expansion"] = "" if raw else expansion_text(lines)
    if raw:
        record["raw"] = True
    qmd: dict[str, Any] = {"lines": lines}
    for key in ("expansion_used", "strong_signal", "fallback"):
        if key in row:
            qmd[key] = row[key]
    if error:
        record["error"] = str(error)
    else:
        ranked = ranking(row.get("results") or [], by_path)
        qmd["ranking"] = ranked
        qmd.update(metrics(ranked, relevant))
    record["qmd"] = qmd
    return record


def missing_record(query_id: str, query: str, reason: str) -> dict[str, Any]:
    """The record of a query QMD never answered (the script died or timed out first)."""
    return {"query": query, "query_id": query_id, "error": reason, "qmd": {"lines": []}}


def metric_of(record: Mapping[str, Any], name: str) -> float | None:
    """``record["qmd"][name]``, or None when QMD gave no ranking for the record."""
    qmd = record.get("qmd")
    value = qmd.get(name) if isinstance(qmd, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None with fewer than 3 pairs
    or when either side is constant."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two sequences of one length")
    if len(xs) < 3:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return float(cov / (vx * vy) ** 0.5)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
