"""Retrieval-gain speed: index build, cache load, per-line search and per-evaluate time.

Run: python benchmarks/bench_retrieval.py [N_DOCS]   (default 10,000 synthetic documents,
then the shipped data/corpus). The synthetic corpus draws pseudo-words from a Zipf
distribution, as word frequencies in real text follow one, so common terms hit most
documents and rare ones a handful. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qmd_reward.retrieval import BM25Index, Corpus, Document, RetrievalJudge, parse_lex_line
from qmd_reward.retrieval.judge import DEFAULT_DEPTH as DEPTH
from qmd_reward.retrieval.records import read_records

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601
VOCAB_SIZE = 30_000
ZIPF_EXPONENT = 1.1
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def pseudo_vocabulary(rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCAB_SIZE:
        words.add("".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 5)))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


def synthetic_corpus(n_docs: int, rng: np.random.Generator) -> tuple[Corpus, list[str]]:
    vocab = pseudo_vocabulary(rng)
    weights = 1.0 / np.arange(1, VOCAB_SIZE + 1) ** ZIPF_EXPONENT
    weights /= weights.sum()
    lengths = rng.integers(30, 200, size=n_docs)
    draws = rng.choice(VOCAB_SIZE, size=int(lengths.sum()), p=weights)
    docs, offset = [], 0
    for i, length in enumerate(lengths):
        words = [vocab[w] for w in draws[offset : offset + length]]
        offset += length
        docs.append(Document(f"doc-{i}", " ".join(words[:4]), " ".join(words[4:])))
    return Corpus(tuple(docs)), vocab


def sample_lines(corpus: Corpus, vocab: list[str], rng: np.random.Generator, n: int) -> list[str]:
    """Lex lines of the shapes a model writes: key terms, a phrase, a prefix, a negation."""
    lines = []
    for i in range(n):
        shape = i % 5
        pick = [vocab[int(r)] for r in rng.integers(20, 3000, size=3)]
        if shape == 0:
            lines.append(" ".join(pick[:2]))
        elif shape == 1:
            lines.append(" ".join(pick))
        elif shape == 2:
            words = corpus.documents[int(rng.integers(len(corpus.documents)))].text.split()
            start = int(rng.integers(0, max(len(words) - 2, 1)))
            lines.append(f'"{" ".join(words[start : start + 2])}" {pick[0]}')
        elif shape == 3:
            lines.append(f"{pick[0][:3]} {pick[1]}")
        else:
            lines.append(f"{vocab[int(rng.integers(0, 20))]} {pick[0]} -{pick[1]}")
    return lines


def per_call_ms(fn: Callable[[str], object], items: list[str]) -> tuple[float, float]:
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.mean(times), times[int(len(times) * 0.95)]


def bench_corpus(
    name: str, corpus: Corpus, lines: list[str], queries: list[str], common: list[str]
) -> None:
    print(f"\n== {name}: {len(corpus.documents):,} documents")
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        index = BM25Index.build(corpus, cache)
        print(f"index build (tokenise, arrays, save): {time.perf_counter() - start:7.3f} s")
        start = time.perf_counter()
        BM25Index.build(corpus, cache)
        print(f"index load from the disk cache:       {time.perf_counter() - start:7.3f} s")
    print(f"vocabulary: {len(index.arrays.vocab):,} stems, {len(index.arrays.token_stem):,} tokens")

    def top20(line: str) -> object:
        return index.ranked(parse_lex_line(line), limit=DEPTH)

    for label, fn in (("search_line, full list", index.search_line), ("top 20 (judge)", top20)):
        for kind, items in (("lex lines", lines), ("common words", common)):
            mean, p95 = per_call_ms(fn, items)
            name = f"{label}, {len(items):,} {kind}:"
            print(f"{name:<45} mean {mean:6.3f} ms   p95 {p95:6.3f} ms")

    judge = RetrievalJudge(index)
    relevant = [corpus.documents[0].doc_id]
    groups = [lines[i : i + 3] for i in range(0, len(lines) - 2, 3)]
    calls = list(zip(queries, groups))

    def evaluate(i: int) -> object:
        query, group = calls[i]
        return judge.evaluate(query, group, relevant)

    indices = [str(i) for i in range(len(calls))]
    mean, p95 = per_call_ms(lambda i: evaluate(int(i)), indices)
    name = "evaluate, query + 3 new lex lines:"
    print(f"{name:<45} mean {mean:6.3f} ms   p95 {p95:6.3f} ms")
    mean, p95 = per_call_ms(lambda i: evaluate(int(i)), indices)
    name = "evaluate again (all lines cached):"
    print(f"{name:<45} mean {mean:6.3f} ms   p95 {p95:6.3f} ms")


def main() -> None:
    n_docs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = np.random.default_rng(SEED)
    start = time.perf_counter()
    corpus, vocab = synthetic_corpus(n_docs, rng)
    print(f"generated synthetic corpus in {time.perf_counter() - start:.2f} s")
    lines = sample_lines(corpus, vocab, rng, 3000)
    # Lines that share query terms survive QMD's filter; make each query the first line's words.
    queries = [lines[i].replace('"', "").split(" -")[0] for i in range(0, len(lines) - 2, 3)]
    # The most frequent words match nearly every document: the worst case for scoring.
    common = [vocab[i] for i in range(10)]
    bench_corpus("synthetic", corpus, lines, queries, common)

    shipped = ROOT / "data" / "corpus"
    records = list(read_records(shipped / "expansions.jsonl"))
    real_lines = [line for record in records for line in record.lex_lines]
    queries = [record.query for record in records for _ in range(0, len(record.lex_lines), 3)]
    bench_corpus("data/corpus", Corpus.from_beir(shipped), real_lines, queries, ["the", "a", "s"])


if __name__ == "__main__":
    main()
