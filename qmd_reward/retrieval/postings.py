"""The index's arrays: a positional inverted index laid out for prefix ranges.

Stems get ids in sorted order, so every FTS5 prefix term ``foo*`` is a contiguous id
range, and the positions of all stems in that range are one contiguous slice of
``positions``. Term frequencies, document frequencies and phrase adjacency then come from
a few numpy operations on slices instead of Python loops over documents.

A document is a row of QMD's FTS5 table: its columns' tokens are concatenated in column
order, and ``token_col`` says which column each token came from, so a hit can be weighted
by its column and a phrase kept from spanning two columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class IndexArrays:
    """Everything the BM25 index persists.

    - ``vocab``: sorted distinct stems; a stem's id is its place here.
    - ``doc_ids``: document ids in corpus order; a document's number is its place here.
    - ``token_stem``: stem id of every token of every document, documents concatenated.
    - ``token_doc``: document number of every token (same length as ``token_stem``).
    - ``token_col``: column of every token (same length as ``token_stem``).
    - ``positions``: token offsets grouped by stem id, ascending within each stem.
    - ``stem_start``: ``positions[stem_start[s]:stem_start[s + 1]]`` are stem ``s``'s offsets.
    - ``doc_len``: tokens per document, all columns together.
    """

    vocab: tuple[str, ...]
    doc_ids: tuple[str, ...]
    token_stem: np.ndarray
    token_doc: np.ndarray
    token_col: np.ndarray
    positions: np.ndarray
    stem_start: np.ndarray
    doc_len: np.ndarray


def build_arrays(
    doc_ids: Sequence[str], documents: Sequence[Sequence[Sequence[str]]]
) -> IndexArrays:
    """Build the arrays from each document's stem sequences, one per column."""
    provisional: dict[str, int] = {}
    flat: list[int] = []
    columns: list[int] = []
    lengths = np.zeros(len(documents), dtype=np.int64)
    for number, row in enumerate(documents):
        for column, stems in enumerate(row):
            lengths[number] += len(stems)
            columns.extend([column] * len(stems))
            for word in stems:
                flat.append(provisional.setdefault(word, len(provisional)))

    vocab = sorted(provisional)
    # Re-number stems so ids follow sorted order (what makes prefix ranges contiguous).
    remap = np.empty(len(provisional), dtype=np.int32)
    for new_id, word in enumerate(vocab):
        remap[provisional[word]] = new_id
    token_stem = remap[np.asarray(flat, dtype=np.int64)] if flat else np.zeros(0, np.int32)
    token_doc = np.repeat(np.arange(len(documents), dtype=np.int32), lengths)

    positions = np.argsort(token_stem, kind="stable").astype(np.int64)
    counts = np.bincount(token_stem, minlength=len(vocab))
    stem_start = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(counts, out=stem_start[1:])
    return IndexArrays(
        vocab=tuple(vocab),
        doc_ids=tuple(doc_ids),
        token_stem=token_stem.astype(np.int32),
        token_doc=token_doc,
        token_col=np.asarray(columns, dtype=np.int8),
        positions=positions,
        stem_start=stem_start,
        doc_len=lengths,
    )
