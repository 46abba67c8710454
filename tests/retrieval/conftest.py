from __future__ import annotations

import pytest

from qmd_reward.retrieval import BM25Index

from retrieval_helpers import IndexFactory, corpus_of


@pytest.fixture
def make_index() -> IndexFactory:
    """Build an in-memory index from (doc_id, text) pairs."""

    def build(*docs: tuple[str, str]) -> BM25Index:
        return BM25Index.build(corpus_of(*docs), use_cache=False)

    return build
