"""BM25 full-text index over a corpus, answering QMD lex lines.

Built once per corpus and cached on disk by content hash. A search parses the line with
QMD's grammar, intersects the documents of every positive term and phrase, removes the
documents of negated ones and ranks what is left by BM25 (rank-bm25's Okapi weights).
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
from qmd_reward.retrieval.postings import IndexArrays, build_arrays

# Sorts after any character a stem can contain, so bisecting for prefix + this finds the
# end of the prefix's range.
_PREFIX_END = "\U0010ffff"
_TERM_CACHE_SIZE = 256


@dataclass(frozen=True, eq=False)
class _TermPostings:
    """Documents holding any stem of a token's range, with summed term frequencies."""

    docs: np.ndarray
    tf: np.ndarray

    @property
    def doc_freq(self) -> int:
        return len(self.docs)


class BM25Index:
    """Read-only BM25 index; build with :meth:`build`. Only its term cache changes."""

    def __init__(self, arrays: IndexArrays) -> None:
        self.arrays = arrays
        self.doc_ids = arrays.doc_ids
        self.weights = BM25Weights.from_stats(arrays.doc_len, arrays.doc_freq)
        self._stem_id = {word: i for i, word in enumerate(arrays.vocab)}
        self._number = {doc_id: i for i, doc_id in enumerate(arrays.doc_ids)}
        # Many lex lines share terms (GRPO samples several completions per prompt).
        self._term_cache: OrderedDict[tuple[int, int], _TermPostings] = OrderedDict()

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
        arrays = build_arrays(
            [doc.doc_id for doc in corpus.documents],
            [stems(doc.indexed_text) for doc in corpus.documents],
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
        for unit in query.positives:
            for token in unit.tokens:
                postings = self._postings(token)
                where = np.searchsorted(postings.docs, candidates)
                scores += self.weights.term_scores(
                    postings.tf[where].astype(np.float64), candidates, postings.doc_freq
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
            docs = self._unit_docs(unit)
            matched = docs if matched is None else np.intersect1d(matched, docs, assume_unique=True)
            if not len(matched):
                return matched
        for unit in query.negatives:
            if matched is None or not len(matched):
                break
            matched = np.setdiff1d(matched, self._unit_docs(unit), assume_unique=True)
        return matched

    def _unit_cost(self, unit: Unit) -> int:
        return min(self._postings(token).doc_freq for token in unit.tokens)

    def _unit_docs(self, unit: Unit) -> np.ndarray:
        if not unit.is_phrase:
            return self._postings(unit.tokens[0]).docs
        return self._phrase_docs(unit.tokens)

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

    def _postings(self, token: Token) -> _TermPostings:
        key = self._stem_range(token)
        cached = self._term_cache.get(key)
        if cached is not None:
            self._term_cache.move_to_end(key)
            return cached
        postings = self._collect(key)
        self._term_cache[key] = postings
        if len(self._term_cache) > _TERM_CACHE_SIZE:
            self._term_cache.popitem(last=False)
        return postings

    def _collect(self, stem_range: tuple[int, int]) -> _TermPostings:
        token_docs = self.arrays.token_doc[self._offsets(stem_range)]
        low, high = stem_range
        if high - low == 1:
            # One stem's offsets ascend, so its documents come in sorted runs.
            edges = np.flatnonzero(np.diff(token_docs)) + 1
            run_starts = np.concatenate(([0], edges))
            tf = np.diff(np.concatenate((run_starts, [len(token_docs)])))
            return _TermPostings(token_docs[run_starts], tf)
        counts = np.bincount(token_docs, minlength=len(self.doc_ids))
        docs = np.flatnonzero(counts)
        return _TermPostings(docs, counts[docs])

    def _phrase_docs(self, tokens: tuple[Token, ...]) -> np.ndarray:
        """Documents where the tokens occur adjacent and in order."""
        ranges = [self._stem_range(token) for token in tokens]
        # Anchor on the rarest token and check the others at their offsets from it.
        start = self.arrays.stem_start
        sizes = [int(start[high] - start[low]) for low, high in ranges]
        anchor = sizes.index(min(sizes))
        starts = self._offsets(ranges[anchor]) - anchor
        token_stem = self.arrays.token_stem
        token_doc = self.arrays.token_doc
        total = len(token_stem)
        starts = starts[(starts >= 0) & (starts + len(tokens) <= total)]
        anchor_doc = token_doc[starts + anchor]
        for i, (low, high) in enumerate(ranges):
            if i == anchor or not len(starts):
                continue
            at = starts + i
            found = token_stem[at]
            keep = (found >= low) & (found < high) & (token_doc[at] == anchor_doc)
            starts, anchor_doc = starts[keep], anchor_doc[keep]
        return np.unique(anchor_doc)
