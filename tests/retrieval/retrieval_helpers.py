"""Corpus builders shared by the retrieval tests (a uniquely named module: several test
folders have a conftest, so importing from 'conftest' would be ambiguous)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qmd_reward.retrieval import BM25Index, Corpus, Document

IndexFactory = Callable[..., BM25Index]
SHIPPED = Path(__file__).resolve().parents[2] / "data" / "corpus"


def corpus_of(*docs: tuple[str, str]) -> Corpus:
    """A corpus from (doc_id, text) pairs, no titles."""
    return Corpus(tuple(Document(doc_id, "", text) for doc_id, text in docs))


class BagOfWords:
    """A tiny deterministic embedder: words hashed into 2048 counts, L2-normalised.

    QMD's prompt prefixes are stripped first, so similarity is about the words a line
    shares with a note and nothing else: a vec line "bridges" a gap exactly when it uses
    the note's words. ``calls`` records each batch it embedded."""

    name = "toy-bag-of-words"
    DIM = 2048
    _PREFIX = re.compile(r"^(?:task: search result \| query: |title: .*? \| text: )")
    _STOP = frozenset("a an and the of to in on for is it my i how do does what with".split())

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", self._PREFIX.sub("", text.lower())):
                if word not in self._STOP:
                    out[row, zlib.crc32(word.encode()) % self.DIM] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out
