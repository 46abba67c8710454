"""Retrieval-gain speed: index build, cache load, per-line search and per-evaluate time,
and with ``--dense`` QMD's whole hybrid retrieval on the packaged all-MiniLM-L6-v2.

Run: python benchmarks/bench_retrieval.py [N_DOCS]   (default 10,000 synthetic documents,
then the shipped data/corpus). The synthetic corpus draws pseudo-words from a Zipf
distribution, as word frequencies in real text follow one, so common terms hit most
documents and rare ones a handful. Prints figures; asserts nothing.

Dense: nice -n 10 python benchmarks/bench_retrieval.py [N_DOCS] --dense [--threads N]
[--cache-dir DIR] [--batches 20]. Its corpus draws real English words (wordfreq's list,
Zipf-weighted), since pseudo-words would cost a word-piece model several tokens each. It
times embedding the corpus once, loading the BM25 index and the vectors from the disk
cache, and judging GRPO-shaped batches: 8 completions of one prompt, each with 2 lex, 2
vec and 1 hyde lines, all new (the worst case: nothing cached but the index). With
``--cache-dir`` the corpus vectors are kept between runs (the embedding is then timed only
the first time). ``--dense-only`` skips the BM25 sections.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
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


def english_corpus(n_docs: int, rng: np.random.Generator) -> tuple[Corpus, list[str]]:
    """Notes of real English words: a 3-6 word title, 30-200 words of text."""
    from wordfreq import top_n_list

    vocab = [w for w in top_n_list("en", 20_000) if w.isalpha()]
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** ZIPF_EXPONENT
    weights /= weights.sum()
    docs = []
    for i in range(n_docs):
        title = rng.choice(vocab[200:5000], size=int(rng.integers(3, 7)))
        words = rng.choice(vocab, size=int(rng.integers(30, 200)), p=weights)
        docs.append(Document(f"note-{i}", " ".join(title).capitalize(), " ".join(words) + "."))
    return Corpus(tuple(docs)), vocab


def grpo_batch(
    corpus: Corpus, vocab: list[str], rng: np.random.Generator, n: int = 8
) -> tuple[str, list[list[tuple[str, str]]], list[str]]:
    """One prompt and ``n`` completions of it: 2 lex, 2 vec and 1 hyde lines each, all new
    texts, all sharing a query term (so QMD's filter keeps them)."""
    target = corpus.documents[int(rng.integers(len(corpus.documents)))]
    title = target.title.lower().split()
    query = " ".join(title[:3])
    mid = vocab[300:8000]

    def words(k: int) -> str:
        return " ".join(rng.choice(mid, size=k))

    completions = []
    for _ in range(n):
        completions.append(
            [
                ("lex", f"{title[0]} {words(1)}"),
                ("lex", f"{title[1]} {words(2)}"),
                ("vec", f"how to {title[0]} {words(6)}"),
                ("vec", f"what is the {title[1]} {words(7)}"),
                ("hyde", f"The {title[0]} {words(9)}, then {title[2]} {words(8)}."),
            ]
        )
    return query, completions, [target.doc_id]


def bench_dense(args: argparse.Namespace) -> None:
    from qmd_reward.retrieval import RetrievalJudge, dense_available
    from qmd_reward.retrieval.embedding import load_embedder

    if not args.embedder.endswith(".gguf") and not dense_available():
        print("\n== dense: the dense extra is not installed; skipped")
        return
    rng = np.random.default_rng(SEED + 1)
    corpus, vocab = english_corpus(args.n_docs, rng)
    print(f"\n== dense: {len(corpus.documents):,} English notes, embedder {args.embedder}")
    auto = "auto: 1 for the lines, torch's setting for the corpus"
    print(f"torch threads while embedding: {args.threads or auto}")
    with contextlib.ExitStack() as stack:
        cache = args.cache_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        options = {} if args.threads is None else {"threads": args.threads}
        start = time.perf_counter()
        embedder = load_embedder(args.embedder, cache, **options)
        assert embedder is not None, "--embedder none has no dense retrieval to time"
        embedder.embed(["warm up"])
        print(f"model load (torch import, weights):    {time.perf_counter() - start:7.2f} s")
        start = time.perf_counter()
        judge = RetrievalJudge.for_corpus(corpus, embedder=embedder, cache_dir=cache, progress=True)
        elapsed = time.perf_counter() - start
        assert judge.vectors is not None
        chunks = judge.vectors.chunks
        print(
            f"BM25 index + corpus vectors (embedded unless cached): {elapsed:7.1f} s "
            f"({chunks:,} chunks, {chunks / elapsed:,.0f} chunks/s)"
        )

        start = time.perf_counter()
        fresh = load_embedder(args.embedder, cache, **options)  # the model loads lazily
        loaded = RetrievalJudge.for_corpus(corpus, embedder=fresh, cache_dir=cache)
        print(f"index + vectors from the disk cache:   {time.perf_counter() - start:7.3f} s")
        assert loaded.vectors is not None
        assert np.array_equal(loaded.vectors.vectors, judge.vectors.vectors)

    batches = [grpo_batch(corpus, vocab, rng) for _ in range(args.batches + 1)]

    def judge_batch(query: str, completions: list, relevant: list[str]) -> object:
        judge.prepare((query, lines) for lines in completions)
        return [judge.evaluate_lines(query, lines, relevant) for lines in completions]

    judge_batch(*batches[0])  # warm up
    times, embed_times = [], []
    for query, completions, relevant in batches[1:]:
        start = time.perf_counter()
        judge.prepare((query, lines) for lines in completions)
        embed_times.append((time.perf_counter() - start) * 1000)
        for lines in completions:
            judge.evaluate_lines(query, lines, relevant)
        times.append((time.perf_counter() - start) * 1000)
    texts = 1 + 8 * 3
    print(
        f"GRPO batch, 8 completions x (2 lex, 2 vec, 1 hyde), all new ({texts} vector texts): "
        f"median {statistics.median(times):6.1f} ms   mean {statistics.mean(times):6.1f} ms   "
        f"p95 {sorted(times)[int(len(times) * 0.95)]:6.1f} ms   "
        f"(embedding and vector search: median {statistics.median(embed_times):6.1f} ms)"
    )
    cached = []
    for batch in batches[1:]:
        start = time.perf_counter()
        judge_batch(*batch)
        cached.append((time.perf_counter() - start) * 1000)
    print(f"the same batches again (all cached):   median {statistics.median(cached):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n_docs", type=int, nargs="?", default=10_000)
    parser.add_argument("--dense", action="store_true", help="also time dense retrieval")
    parser.add_argument("--dense-only", action="store_true", help="time dense retrieval only")
    parser.add_argument("--threads", type=int, help="threads while embedding")
    parser.add_argument(
        "--embedder",
        default="minilm",
        help="embedding model for --dense (load_embedder's names, a folder or a .gguf file)",
    )
    parser.add_argument("--cache-dir", type=Path, help="keep the corpus vectors here")
    parser.add_argument("--batches", type=int, default=20, help="GRPO batches to time")
    args = parser.parse_args()
    if not args.dense_only:
        bench_bm25(args.n_docs)
    if args.dense or args.dense_only:
        bench_dense(args)


def bench_bm25(n_docs: int) -> None:
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
