"""Retrieval gain: does an expansion help QMD find the right documents?

BM25 for lex lines and the raw query always; vectors for vec and hyde lines and the raw
query when an embedding backend is installed (the ``dense`` extra). Importing this
package never imports torch.
"""

from qmd_reward.ftsquery import LexQuery, parse_lex_line
from qmd_reward.retrieval.corpus import Corpus, Document, reference_passage
from qmd_reward.retrieval.dense import DenseIndex
from qmd_reward.retrieval.embedding import (
    DenseUnavailable,
    Embedder,
    TransformersEmbedder,
    default_embedder,
    dense_available,
    load_embedder,
)
from qmd_reward.retrieval.index import BM25Index
from qmd_reward.retrieval.judge import (
    DocRank,
    LineOutcome,
    RetrievalJudge,
    RetrievalResult,
    TypeEffect,
)

__all__ = [
    "BM25Index",
    "Corpus",
    "DenseIndex",
    "DenseUnavailable",
    "DocRank",
    "Document",
    "Embedder",
    "LexQuery",
    "LineOutcome",
    "RetrievalJudge",
    "RetrievalResult",
    "TransformersEmbedder",
    "TypeEffect",
    "default_embedder",
    "dense_available",
    "load_embedder",
    "parse_lex_line",
    "reference_passage",
]
