"""BM25 as SQLite FTS5's ``bm25()`` computes it, the function QMD ranks lex searches with.

FTS5's ``fts5Bm25Function`` (``ext/fts5/fts5_aux.c``) scores a row against the phrases of
a MATCH expression (a term, a prefix term and a quoted phrase are each one phrase)::

    score = sum over phrases p of  IDF(p) * f(p) * (k1 + 1) / (f(p) + k1 * (1 - b + b * D / avgdl))

- k1 = 1.2 and b = 0.75;
- ``IDF(p) = log((N - n(p) + 0.5) / (n(p) + 0.5))``, replaced by 1e-6 when not positive,
  where N is the number of rows and n(p) the number of rows the phrase occurs in;
- ``f(p)`` is the sum over the phrase's occurrences in the row of the weight of the column
  it occurs in (the weights are ``bm25()``'s arguments; QMD passes 1.5, 4.0, 1.0);
- D is the row's token count over all columns and avgdl the table's mean of it.

FTS5 returns the negated sum (lower is better); this module keeps it positive, best first.
A negated phrase never occurs in a matching row, so its term is always 0 and is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
IDF_FLOOR = 1e-6


def idf(n_rows: int, doc_freq: int) -> float:
    """FTS5's IDF of a phrase found in ``doc_freq`` of ``n_rows`` rows."""
    value = math.log((n_rows - doc_freq + 0.5) / (doc_freq + 0.5))
    return value if value > 0.0 else IDF_FLOOR


@dataclass(frozen=True, eq=False)
class BM25Weights:
    """Per-table constants: the row count and each row's length normaliser."""

    n_rows: int
    length_norm: np.ndarray  # k1 * (1 - b + b * D / avgdl), per document

    @classmethod
    def from_lengths(cls, doc_len: np.ndarray) -> BM25Weights:
        """``doc_len`` is tokens per document over all columns; a document with none is
        not a row (QMD skips empty files, and an indexed note always has a file path)."""
        lengths = np.asarray(doc_len, dtype=np.float64)
        n_rows = int(np.count_nonzero(lengths))
        avgdl = float(lengths.sum()) / n_rows if n_rows else 0.0
        # With no rows nothing can match, so any finite normaliser will do. The operations
        # run in FTS5's order, so equal inputs give bit-equal scores and ties stay ties.
        scaled = B * lengths / avgdl if avgdl > 0 else np.zeros(len(lengths))
        return cls(n_rows, K1 * (1 - B + scaled))

    def phrase_scores(self, freq: np.ndarray, docs: np.ndarray, doc_freq: int) -> np.ndarray:
        """One phrase's term of the sum for documents ``docs``, whose weighted
        frequencies are ``freq``; ``doc_freq`` counts the rows holding the phrase."""
        return idf(self.n_rows, doc_freq) * ((freq * (K1 + 1.0)) / (freq + self.length_norm[docs]))
