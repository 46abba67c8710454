"""QMD's vector index over a corpus: chunk embeddings, searched as ``searchVec`` searches.

Each document is the note QMD would index (:mod:`.notes`: ``# title``, a blank line, the
text, under a neutral file name), chunked as ``qmd embed`` chunks the whole file
(:mod:`.chunking`), heading included; each chunk is embedded as ``title: {title} | text:
{chunk}`` (QMD's ``formatDocForEmbedding``, with the note's title), and a
search takes the ``3 * limit`` nearest chunks by cosine, keeps each document's best chunk,
and returns the first ``limit`` documents: what QMD's ``searchVec`` does with sqlite-vec.

The embeddings are built once per (corpus content, model, formats, chunking) and cached
on disk beside the BM25 postings, as ``dense-<key>.npz`` read with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qmd_reward.retrieval import store
from qmd_reward.retrieval.chunking import (
    CHUNK_OVERLAP_TOKENS,
    CHUNK_SIZE_TOKENS,
    CHUNK_WINDOW_TOKENS,
    Chunk,
    chunk_by_tokens,
    chunk_document,
)
from qmd_reward.retrieval.corpus import Corpus
from qmd_reward.retrieval.embedding import Embedder, TokenCounter, format_doc, format_query
from qmd_reward.retrieval.notes import note_row

# Bump when chunking, formatting or the file layout changes.
DENSE_FORMAT = "qmd-reward-dense-v2"
# searchVec asks sqlite-vec for limit * 3 chunks, then keeps one per document.
CHUNKS_PER_RESULT = 3
# Tokens kept free beside the title prefix, for a tokenizer that joins words across the
# prefix boundary differently when the two are tokenised together.
_TOKEN_MARGIN = 2
_MIN_CHUNK_TOKENS = 16
_EMBED_SLICE = 256

Progress = Callable[[int, int], None]


def chunk_budget(embedder: Embedder, title: str | None) -> tuple[int, int, int] | None:
    """(max, overlap, window) tokens for chunking a document for ``embedder``.

    QMD cuts 900-token chunks for its 2048-token embedding context. A model with a shorter
    window (all-MiniLM-L6-v2 reads 256 tokens) would silently drop a chunk's tail, so the
    chunk is shrunk to what fits beside the title prefix, with QMD's overlap (15 %) and
    break-point window (200/900) scaled with it. None: the embedder counts no tokens, and
    QMD's character chunking (3600 characters, 540 overlap) applies."""
    if not isinstance(embedder, TokenCounter):
        return None
    prefix = embedder.count_tokens([format_doc("", title, embedder.name)])[0]
    # The window holds the special tokens too: two for BERT-like models.
    room = int(embedder.max_tokens) - prefix - 2 - _TOKEN_MARGIN
    size = max(_MIN_CHUNK_TOKENS, min(CHUNK_SIZE_TOKENS, room))
    if size == CHUNK_SIZE_TOKENS:
        return CHUNK_SIZE_TOKENS, CHUNK_OVERLAP_TOKENS, CHUNK_WINDOW_TOKENS
    return size, math.floor(size * 0.15), math.floor(size * CHUNK_WINDOW_TOKENS / CHUNK_SIZE_TOKENS)


def chunk_corpus(corpus: Corpus, embedder: Embedder) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The formatted text of every chunk, its document number and its character position."""
    texts: list[str] = []
    docs: list[int] = []
    positions: list[int] = []
    for number, doc in enumerate(corpus.documents):
        # QMD embeds the file it indexed, heading and all, under the title it extracted
        # (the heading, else the file name): the same note the BM25 side ranks.
        row = note_row(doc, number + 1)
        if row is None:
            continue  # QMD indexes no empty file, so it has no vectors either
        title, content = row.title, row.body
        budget = chunk_budget(embedder, title)
        chunks: list[Chunk]
        if budget is None:
            chunks = chunk_document(content)
        else:
            counter = embedder
            assert isinstance(counter, TokenCounter)
            chunks = chunk_by_tokens(content, counter.count_tokens, *budget)
        for text, pos in chunks:
            texts.append(format_doc(text, title, embedder.name))
            docs.append(number)
            positions.append(pos)
    return texts, np.asarray(docs, dtype=np.int32), np.asarray(positions, dtype=np.int64)


def cache_key(corpus: Corpus, embedder: Embedder) -> str:
    """Everything the vectors depend on: corpus content, model, formats, chunking."""
    parts = [
        DENSE_FORMAT,
        corpus.content_hash,
        embedder.name,
        format_doc("{text}", "{title}", embedder.name),
        format_query("{query}", embedder.name),
        f"chunk:{CHUNK_SIZE_TOKENS}/{CHUNK_OVERLAP_TOKENS}/{CHUNK_WINDOW_TOKENS}",
        f"max_tokens:{getattr(embedder, 'max_tokens', None)}",
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"dense-{key[:32]}.npz"


class DenseIndex:
    """Chunk vectors of a corpus; read-only once built."""

    def __init__(
        self,
        vectors: np.ndarray,
        chunk_doc: np.ndarray,
        chunk_pos: np.ndarray,
        doc_ids: tuple[str, ...],
        model: str,
        key: str = "",
    ) -> None:
        if vectors.ndim != 2 or len(vectors) != len(chunk_doc) or len(chunk_doc) != len(chunk_pos):
            raise ValueError("vectors, chunk_doc and chunk_pos must have one row per chunk")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.chunk_doc = np.asarray(chunk_doc, dtype=np.int32)
        self.chunk_pos = np.asarray(chunk_pos, dtype=np.int64)
        self.doc_ids = tuple(doc_ids)
        self.model = model
        self.key = key

    def __len__(self) -> int:
        return len(self.doc_ids)

    @property
    def chunks(self) -> int:
        return len(self.chunk_doc)

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        embedder: Embedder,
        cache_dir: str | Path | None = None,
        *,
        use_cache: bool = True,
        progress: bool | Progress = False,
    ) -> DenseIndex:
        """Embed ``corpus`` with ``embedder``, or load the vectors from the disk cache.

        ``progress``: True prints progress on stderr; a callable gets (done, total) chunks.
        """
        key = cache_key(corpus, embedder)
        doc_ids = tuple(doc.doc_id for doc in corpus.documents)
        path = None
        if use_cache:
            directory = Path(cache_dir) if cache_dir is not None else store.default_cache_dir()
            path = cache_path(directory, key)
            cached = load(path)
            if cached is not None and cached.doc_ids == doc_ids and cached.key == key:
                return cached
        texts, chunk_doc, chunk_pos = chunk_corpus(corpus, embedder)
        vectors = embed_all(embedder, texts, progress)
        index = cls(vectors, chunk_doc, chunk_pos, doc_ids, embedder.name, key)
        if path is not None:
            with contextlib.suppress(OSError):
                save(index, path)
        return index

    def search(self, queries: np.ndarray, limit: int = 20) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query vector: the ``limit`` nearest documents (by their best chunk among
        the ``3 * limit`` nearest chunks) and their cosine similarities, best first."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        if not self.chunks or limit <= 0:
            return [empty for _ in range(len(queries))]
        if queries.shape[1] != self.vectors.shape[1]:
            raise ValueError(
                f"query vectors have {queries.shape[1]} dimensions, the index "
                f"{self.vectors.shape[1]}: built with another model?"
            )
        # chunks x queries, then one contiguous row per query: BLAS is about twice as fast
        # this way round as with queries @ vectors.T.
        similarity = np.ascontiguousarray((self.vectors @ queries.T).T)
        k = min(CHUNKS_PER_RESULT * limit, self.chunks)
        everything = np.arange(self.chunks)
        results = []
        for row in similarity:
            top = np.argpartition(-row, k - 1)[:k] if k < self.chunks else everything
            # Nearest first; equal distances in chunk order.
            top = top[np.lexsort((top, -row[top]))]
            docs = self.chunk_doc[top]
            _, first = np.unique(docs, return_index=True)
            first.sort()
            keep = first[:limit]
            results.append((docs[keep].astype(np.int64), row[top[keep]]))
        return results


def embed_all(embedder: Embedder, texts: Sequence[str], progress: bool | Progress) -> np.ndarray:
    """Embed ``texts`` in slices of similar length (little padding), reporting progress."""
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    out: np.ndarray | None = None
    report = _printer(len(texts)) if progress is True else progress or None
    for start in range(0, len(order), _EMBED_SLICE):
        rows = order[start : start + _EMBED_SLICE]
        vectors = np.asarray(embedder.embed([texts[i] for i in rows]), dtype=np.float32)
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[rows] = vectors
        if report:
            report(min(start + _EMBED_SLICE, len(order)), len(order))
    if out is None:
        return np.zeros((0, 0), dtype=np.float32)
    return out


def _printer(total: int) -> Progress:
    started = time.perf_counter()
    last = [0.0]

    def report(done: int, total: int = total) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < 5:
            return
        last[0] = now
        print(
            f"embedding the corpus: {done:,}/{total:,} chunks, {now - started:.0f} s",
            file=sys.stderr,
        )

    return report


def save(index: DenseIndex, path: Path) -> None:
    meta = {"model": index.model, "key": index.key, "doc_ids": list(index.doc_ids)}
    store.save_npz(
        path,
        {
            "vectors": index.vectors,
            "chunk_doc": index.chunk_doc,
            "chunk_pos": index.chunk_pos,
            "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        },
    )


def load(path: Path) -> DenseIndex | None:
    """The cached index, or None when the file is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = data["vectors"]
            chunk_doc = data["chunk_doc"]
            chunk_pos = data["chunk_pos"]
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
        return DenseIndex(
            vectors, chunk_doc, chunk_pos, tuple(meta["doc_ids"]), str(meta["model"]), meta["key"]
        )
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None
