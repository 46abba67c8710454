"""Corpus builders shared by the retrieval tests (a uniquely named module: several test
folders have a conftest, so importing from 'conftest' would be ambiguous)."""

from __future__ import annotations

from collections.abc import Callable

from qmd_reward.retrieval import BM25Index, Corpus, Document

IndexFactory = Callable[..., BM25Index]


def corpus_of(*docs: tuple[str, str]) -> Corpus:
    """A corpus from (doc_id, text) pairs, no titles."""
    return Corpus(tuple(Document(doc_id, "", text) for doc_id, text in docs))
