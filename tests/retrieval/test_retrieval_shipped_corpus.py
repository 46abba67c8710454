"""The shipped corpus is well formed, and its reference expansions measurably help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmd_reward.retrieval import BM25Index, Corpus, RetrievalJudge
from qmd_reward.retrieval.records import read_records
from qmd_reward.retrieval.summary import summarise

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "corpus"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_beir(SHIPPED)


@pytest.fixture(scope="module")
def judge(corpus: Corpus) -> RetrievalJudge:
    return RetrievalJudge(BM25Index.build(corpus, use_cache=False))


def test_sizes_and_references_are_consistent(corpus: Corpus) -> None:
    doc_ids = {doc.doc_id for doc in corpus.documents}
    assert len(doc_ids) >= 120
    assert len(corpus.queries) >= 30
    assert set(corpus.qrels) == set(corpus.queries)
    for judgements in corpus.qrels.values():
        assert judgements and set(judgements) <= doc_ids
    records = list(read_records(SHIPPED / "expansions.jsonl"))
    assert {record.query_id for record in records} == set(corpus.queries)
    for record in records:
        assert record.query == corpus.queries[record.query_id]
        assert 1 <= len(record.lex_lines) <= 3


def test_every_expansion_line_is_well_formed() -> None:
    for line in (SHIPPED / "expansions.jsonl").read_text(encoding="utf-8").splitlines():
        expansion = json.loads(line)["expansion"]
        for typed in expansion.splitlines():
            assert typed.split(": ", 1)[0] in {"lex", "vec", "hyde"}


def test_reference_expansions_raise_mrr(corpus: Corpus, judge: RetrievalJudge) -> None:
    records = list(read_records(SHIPPED / "expansions.jsonl"))
    results = [
        judge.evaluate(r.query, r.lex_lines, corpus.qrels[r.query_id or ""]) for r in records
    ]
    summary = summarise(results)
    assert summary.judged == len(records)
    assert summary.mrr_after > summary.mrr_before + 0.3
    assert summary.ndcg_after > summary.ndcg_before + 0.3
    assert summary.helped > 2 * summary.hurt


def test_template_expansions_gain_less(corpus: Corpus, judge: RetrievalJudge) -> None:
    # The filler pattern of weak training data: the query plus "overview" or "guide".
    records = list(read_records(SHIPPED / "expansions.jsonl"))
    reference = summarise(
        judge.evaluate(r.query, r.lex_lines, corpus.qrels[r.query_id or ""]) for r in records
    )
    template = summarise(
        judge.evaluate(
            r.query, [f"{r.query} overview", f"{r.query} guide"], corpus.qrels[r.query_id or ""]
        )
        for r in records
    )
    assert template.mrr_after == pytest.approx(template.mrr_before)
    assert reference.mean_points > template.mean_points + 3
