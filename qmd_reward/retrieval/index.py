"""BM25 full-text index over a corpus, answering QMD lex lines.

Built once per corpus and cached on disk by content hash. Each document is indexed as the
row QMD's FTS5 table holds for its note (``notes.py``: file path, title and body columns).
A search parses the line with QMD's grammar, intersects the documents of every positive
term and phrase, removes the documents of negated ones and ranks what is left as FTS5's
``bm25()`` ranks it with QMD's column weights (``bm25.py``).
"""

from __future__ import annotations

import bisect
import contextlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qmd_reward.fts import stems
from qmd_reward.ftsquery import LexQuery, Token, Unit, parse_lex_line
from qmd_reward.retrieval import store
from qmd_reward.retrieval.bm25 import BM25Weights
from qmd_reward.retrieval.corpus import Corpus
from qmd_reward.retrieval.notes import COLUMN_WEIGHTS, note_row
from qmd_reward.retrieval.postings import IndexArrays, build_arrays

# Sorts after any character a stem can contain, so bisecting for prefix + this finds the
# end of the prefix's range.
_PREFIX_END = "\U0010ffff"
_TERM_CACHE_SIZE = 256
_WEIGHTS = np.asarray(COLUMN_WEIGHTS, dtype=np.float64)

# A unit's postings are cached under the stem ranges of its tokens.
_UnitKey = tuple[tuple[int, int], ...]


@dataclass(frozen=True, eq=False)
class _Postings:
    """Documents holding a phrase (a single token is a phrase of one), with its
    frequency in each: the column weights of its occurrences, summed, as FTS5 counts."""

    docs: np.ndarray
    freq: np.ndarray

    @property
    def doc_freq(self) -> int:
        return len(self.docs)


class BM25Index:
    """Read-only BM25 index; build with :meth:`build`. Only its term cache changes."""

    def __init__(self, arrays: IndexArrays) -> None:
        self.arrays = arrays
        self.doc_ids = arrays.doc_ids
        self.weights = BM25Weights.from_lengths(arrays.doc_len)
        self._stem_id = {word: i for i, word in enumerate(arrays.vocab)}
        self._number = {doc_id: i for i, doc_id in enumerate(arrays.doc_ids)}
        # Per-token hit weights, looked up once rather than on every search.
        self._token_weight = _WEIGHTS[arrays.token_col]
        # Many lex lines share terms (GRPO samples several completions per prompt).
        self._term_cache: OrderedDict[_UnitKey, _Postings] = OrderedDict()

    @classmethod
    def build(
        cls, corpus: Corpus, cache_dir: str | Path | None = None, *, use_cache: bool = True
    ) -> BM25Index:
        """Index ``corpus``, reusing the on-disk copy when its content hash matches.

        ``cache_dir`` defaults to ``$QMD_REWARD_CACHE`` or ``~/.cache/qmd-reward``.
        """
        path = None
        if use_cache:
            directory = Path(cache_dir) if cache_dir is not None else store.default_cache_dir()
            path = store.cache_path(directory, corpus.content_hash)
            cached = store.load(path)
            # The file name holds a truncated hash; matching ids guards against a stray file.
            if cached is not None and cached.doc_ids == tuple(d.doc_id for d in corpus.documents):
                return cls(cached)
        rows = (note_row(doc, number) for number, doc in enumerate(corpus.documents, 1))
        arrays = build_arrays(
            [doc.doc_id for doc in corpus.documents],
            # A document QMD would not index gets no tokens, which keeps it out of every
            # result and out of the row count.
            [[stems(column) for column in row] if row else [] for row in rows],
        )
        if path is not None:
            # A read-only or full cache directory must not stop scoring.
            with contextlib.suppress(OSError):
                store.save(arrays, path)
        return cls(arrays)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def doc_number(self, doc_id: str) -> int | None:
        """Position of ``doc_id`` in the corpus, or None when it is not indexed."""
        return self._number.get(doc_id)

    def search_line(
        self, lex_line: str, *, strict: bool = True, limit: int | None = None
    ) -> list[tuple[str, float]]:
        """Documents matching ``lex_line``, best first, as ``(doc_id, score)``.

        Empty when the line is invalid for QMD or nothing matches. ``strict=False`` skips
        the checks QMD applies only to typed lex lines (use it for the raw user query).
        """
        docs, scores, _ = self.ranked(parse_lex_line(lex_line, strict=strict), limit=limit)
        ids = self.doc_ids
        return [(ids[number], score) for number, score in zip(docs.tolist(), scores.tolist())]

    def search(self, query: LexQuery, *, limit: int | None = None) -> list[tuple[int, float]]:
        """Rank documents (by corpus position) for a parsed query."""
        docs, scores, _ = self.ranked(query, limit=limit)
        return list(zip(docs.tolist(), scores.tolist()))

    def ranked(
        self, query: LexQuery, *, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Top ``limit`` document numbers, their scores, and how many documents matched."""
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), 0)
        if not query.searchable or not self.doc_ids:
            return empty
        candidates = self._match(query)
        if candidates is None or not len(candidates):
            return empty
        total = len(candidates)
        scores = np.zeros(total, dtype=np.float64)
        # Summed in the query's phrase order, as FTS5 sums them.
        for unit in query.positives:
            postings = self._unit_postings(unit)
            where = np.searchsorted(postings.docs, candidates)
            scores += self.weights.phrase_scores(
                postings.freq[where], candidates, len(postings.docs)
            )
        if limit is not None and limit < total:
            if limit <= 0:
                return empty[0], empty[1], total
            # Keep everything scoring at least the limit-th best, ties included, so the
            # final sort below picks the same documents a full sort would.
            kth = np.partition(scores, total - limit)[total - limit]
            keep = np.flatnonzero(scores >= kth)
            candidates, scores = candidates[keep], scores[keep]
        # Best score first; equal scores keep corpus order, as SQLite returns rowids.
        order = np.lexsort((candidates, -scores))[:limit]
        return candidates[order], scores[order], total

    def _match(self, query: LexQuery) -> np.ndarray | None:
        """Sorted document numbers satisfying every positive unit and no negated one."""
        matched: np.ndarray | None = None
        # Rarest unit first keeps the intersections small.
        positives = sorted(query.positives, key=self._unit_cost)
        for unit in positives:
            docs = self._unit_postings(unit).docs
            matched = docs if matched is None else np.intersect1d(matched, docs, assume_unique=True)
            if not len(matched):
                return matched
        for term in query.negated_terms:
            if matched is None or not len(matched):
                break
            excluded = self._unit_postings(term[0]).docs
            for unit in term[1:]:
                excluded = np.intersect1d(
                    excluded, self._unit_postings(unit).docs, assume_unique=True
                )
            matched = np.setdiff1d(matched, excluded, assume_unique=True)
        return matched

    def _unit_cost(self, unit: Unit) -> int:
        """How many documents the unit's rarest token is in: an upper bound on its own."""
        return min(len(self._unit_postings(Unit((token,))).docs) for token in unit.tokens)

    def _stem_range(self, token: Token) -> tuple[int, int]:
        if not token.prefix:
            stem_id = self._stem_id.get(token.stem)
            return (0, 0) if stem_id is None else (stem_id, stem_id + 1)
        vocab = self.arrays.vocab
        low = bisect.bisect_left(vocab, token.stem)
        high = bisect.bisect_left(vocab, token.stem + _PREFIX_END, low)
        return low, high

    def _offsets(self, stem_range: tuple[int, int]) -> np.ndarray:
        start = self.arrays.stem_start
        low, high = stem_range
        return self.arrays.positions[start[low] : start[high]]

    def _unit_postings(self, unit: Unit) -> _Postings:
        key = tuple(self._stem_range(token) for token in unit.tokens)
        cached = self._term_cache.get(key)
        if cached is not None:
            self._term_cache.move_to_end(key)
            return cached
        postings = self._collect(key[0]) if len(key) == 1 else self._phrase(key)
        self._term_cache[key] = postings
        if len(self._term_cache) > _TERM_CACHE_SIZE:
            self._term_cache.popitem(last=False)
        return postings

    def _collect(self, stem_range: tuple[int, int]) -> _Postings:
        """Postings of one token: every stem of its range counts (FTS5's prefix query)."""
        offsets = self._offsets(stem_range)
        token_docs = self.arrays.token_doc[offsets]
        hit_weights = self._token_weight[offsets]
        low, high = stem_range
        if high - low == 1 and len(offsets):
            # One stem's offsets ascend, so its documents come in sorted runs.
            edges = np.flatnonzero(np.diff(token_docs)) + 1
            run_starts = np.concatenate(([0], edges))
            return _Postings(token_docs[run_starts], np.add.reduceat(hit_weights, run_starts))
        return self._tally(token_docs, hit_weights)

    def _tally(self, docs: np.ndarray, hit_weights: np.ndarray) -> _Postings:
        """Sum hit weights per document, for hits in no particular order."""
        if 8 * len(docs) >= len(self.doc_ids):
            # Many hits: one pass over a corpus-sized array beats sorting them.
            sums = np.bincount(docs, weights=hit_weights, minlength=len(self.doc_ids))
            found = np.flatnonzero(sums)
            return _Postings(found, sums[found])
        found, inverse = np.unique(docs, return_inverse=True)
        freq = np.bincount(inverse.ravel(), weights=hit_weights, minlength=len(found))
        return _Postings(found, freq.astype(np.float64))

    def _phrase(self, ranges: _UnitKey) -> _Postings:
        """Occurrences of tokens adjacent and in order within one column of a document."""
        # Anchor on the rarest token and check the others at their offsets from it.
        start = self.arrays.stem_start
        sizes = [int(start[high] - start[low]) for low, high in ranges]
        anchor = sizes.index(min(sizes))
        starts = self._offsets(ranges[anchor]) - anchor
        token_stem = self.arrays.token_stem
        token_doc = self.arrays.token_doc
        token_col = self.arrays.token_col
        total = len(token_stem)
        starts = starts[(starts >= 0) & (starts + len(ranges) <= total)]
        anchor_doc = token_doc[starts + anchor]
        anchor_col = token_col[starts + anchor]
        for i, (low, high) in enumerate(ranges):
            if i == anchor or not len(starts):
                continue
            at = starts + i
            found = token_stem[at]
            keep = (
                (found >= low)
                & (found < high)
                & (token_doc[at] == anchor_doc)
                & (token_col[at] == anchor_col)
            )
            starts, anchor_doc, anchor_col = starts[keep], anchor_doc[keep], anchor_col[keep]
        # Each start is one occurrence, overlapping ones included, weighted by its column.
        return self._tally(anchor_doc, _WEIGHTS[anchor_col])
