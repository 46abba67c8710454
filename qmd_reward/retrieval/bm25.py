"""BM25 weights, computed exactly as rank-bm25's ``BM25Okapi`` computes them.

rank-bm25 is the reference the tests compare against; this module reproduces its
formulas on numpy arrays so scoring can skip documents that do not match. For a prefix
term (a set of stems) the same formulas apply to the union: its term frequency is the sum
over the matching stems and its document frequency counts documents holding any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25


def raw_idf(n_docs: int, doc_freq: int | np.ndarray) -> float | np.ndarray:
    """Okapi IDF before rank-bm25 replaces negative values."""
    return np.log(n_docs - doc_freq + 0.5) - np.log(doc_freq + 0.5)


@dataclass(frozen=True, eq=False)
class BM25Weights:
    """Per-corpus constants: document count, length normalisers, the IDF floor."""

    n_docs: int
    length_norm: np.ndarray  # k1 * (1 - b + b * dl / avgdl), per document
    idf_floor: float  # what rank-bm25 substitutes for a negative IDF

    @classmethod
    def from_stats(cls, doc_len: np.ndarray, doc_freq: np.ndarray) -> BM25Weights:
        n_docs = len(doc_len)
        total = float(doc_len.sum())
        avgdl = total / n_docs if n_docs else 0.0
        # An all-empty corpus has avgdl 0; nothing can match it, so any finite norm does.
        ratio = np.asarray(doc_len, dtype=np.float64) / avgdl if avgdl > 0 else np.zeros(n_docs)
        length_norm = K1 * (1 - B + B * ratio)
        idfs = np.asarray(raw_idf(n_docs, doc_freq) if len(doc_freq) else np.zeros(0))
        average_idf = float(idfs.sum()) / len(idfs) if len(idfs) else 0.0
        return cls(n_docs, np.asarray(length_norm, dtype=np.float64), EPSILON * average_idf)

    def idf(self, doc_freq: int) -> float:
        value = math.log(self.n_docs - doc_freq + 0.5) - math.log(doc_freq + 0.5)
        return self.idf_floor if value < 0 else value

    def term_scores(self, tf: np.ndarray, docs: np.ndarray, doc_freq: int) -> np.ndarray:
        """BM25 contribution of one query term for documents ``docs`` with counts ``tf``."""
        return self.idf(doc_freq) * (tf * (K1 + 1) / (tf + self.length_norm[docs]))
