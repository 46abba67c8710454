"""Fused-ranking parity: the judge's top 10 for an expansion against real QMD's.

Run: python benchmarks/bench_qmd_fused.py [--corpus data/corpus] [--expansions FILE]

For every reference expansion (``expansions.jsonl`` of the corpus), the judge's fused
ranking (``RetrievalJudge.rankings``, dense with the packaged all-MiniLM-L6-v2) is compared
with QMD's hybrid query of the same query given the same lines as its expansion (reranker
off; embeddings from the same model converted to GGUF). The lines QMD is given are those
its own expansion filter keeps (a line must hold one of the query's words), so both sides
fuse the same lists. Prints the mean top-10 overlap and the mean Spearman correlation of
the shared documents' ranks, before (raw query only) and after (with the expansion), the
queries where QMD's strong BM25 signal made it skip the expansion, and the worst queries.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

from evals.qmd_eval import embedding_gguf
from evals.qmd_parity import write_notes
from evals.qmd_records import ranking, spearman
from evals.qmd_runner import QmdHome, ensure_qmd
from qmd_reward.parse import parse_expansion
from qmd_reward.retrieval import Corpus, RetrievalJudge, load_embedder
from qmd_reward.retrieval.linefilter import line_survives
from qmd_reward.retrieval.notes import COLLECTION

ROOT = Path(__file__).resolve().parents[1]
DEPTH = 10


def qmd_keeps(text: str, query: str) -> bool:
    """LlamaCpp.expandQuery's filter in QMD 2.8.3: a line survives when one of the query's
    words (lower-cased, non-alphanumerics as spaces) is a substring of it."""
    terms = re.sub(r"[^a-z0-9\s]", " ", query.lower()).split()
    return not terms or any(term in text.lower() for term in terms)


def overlap(a: Sequence[str], b: Sequence[str]) -> float:
    size = max(len(a[:DEPTH]), len(b[:DEPTH]))
    return 1.0 if size == 0 else len(set(a[:DEPTH]) & set(b[:DEPTH])) / size


def rank_correlation(a: Sequence[str], b: Sequence[str]) -> float | None:
    shared = [doc for doc in a[:DEPTH] if doc in b[:DEPTH]]
    return spearman([a.index(d) for d in shared], [b.index(d) for d in shared])


def summarise(name: str, pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> None:
    overlaps = [overlap(a, b) for a, b in pairs]
    rhos = [r for r in (rank_correlation(a, b) for a, b in pairs) if r is not None]
    identical = sum(list(a[:DEPTH]) == list(b[:DEPTH]) for a, b in pairs)
    mean_rho = sum(rhos) / len(rhos) if rhos else float("nan")
    print(
        f"{name:34} n={len(pairs):3}  top-{DEPTH} overlap {sum(overlaps) / len(pairs):.3f}  "
        f"identical {identical}/{len(pairs)}  Spearman (shared docs) {mean_rho:+.3f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--expansions", type=Path, help="default: CORPUS/expansions.jsonl")
    parser.add_argument(
        "--embedder",
        default="minilm",
        help="the judge's embedding model (load_embedder's names, a folder or a .gguf file); "
        "gguf: the same GGUF file QMD embeds with (needs llama-cpp-python)",
    )
    args = parser.parse_args(argv)
    corpus = Corpus.from_beir(args.corpus)
    source = args.expansions or args.corpus / "expansions.jsonl"
    items = []
    filter_disagreements = 0
    for raw in source.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        record = json.loads(raw)
        query = str(record["query"])
        lines = [(line.type, line.text) for line in parse_expansion(record["expansion"]).lines]
        kept = [(kind, text) for kind, text in lines if qmd_keeps(text, query)]
        filter_disagreements += sum(
            qmd_keeps(text, query) != line_survives(text, query) for _, text in lines
        )
        items.append((str(record.get("query_id") or query), query, lines, kept))
    model = load_embedder(str(embedding_gguf()) if args.embedder == "gguf" else args.embedder)
    print(f"judge's embedder: {model.name if model is not None else 'none (BM25 only)'}")
    judge = RetrievalJudge.for_corpus(corpus, embedder=model)
    ours = [judge.rankings(query, lines) for _, query, lines, _ in items]
    started = time.monotonic()
    with QmdHome(ensure_qmd(), models={"embed": embedding_gguf().resolve()}, timeout=900) as home:
        by_path = write_notes(corpus, home.root / "notes")
        home.add_collection(home.root / "notes", COLLECTION)
        home.embed()
        given = [
            {"id": qid, "query": q, "lines": [{"type": k, "query": t} for k, t in kept]}
            for qid, q, _, kept in items
        ]
        after = {str(r["id"]): r for r in home.sdk("query", given, expand=True, limit=DEPTH)}
        plain = [{"id": qid, "query": q} for qid, q, _, _ in items]
        before = {str(r["id"]): r for r in home.sdk("query", plain, expand=False, limit=DEPTH)}
    print(
        f"{len(items)} expansions; QMD (index, embed, 2 x {len(items)} queries) took "
        f"{time.monotonic() - started:.0f} s"
    )
    print(
        f"lines where QMD's filter and the judge's line_survives disagree: {filter_disagreements}"
    )
    Pair = tuple[Sequence[str], Sequence[str]]
    pairs_before: list[Pair] = []
    pairs_after: list[Pair] = []
    used: list[tuple[Sequence[str], Sequence[str], str]] = []
    skipped: list[tuple[Sequence[str], Sequence[str], str]] = []
    for (qid, _, _, _), (ours_before, ours_after) in zip(items, ours):
        b, a = before.get(qid, {}), after.get(qid, {})
        if b.get("error") or a.get("error"):
            print(f"  {qid}: QMD error {b.get('error') or a.get('error')}")
            continue
        qmd_before = ranking(b.get("results") or [], by_path)
        qmd_after = ranking(a.get("results") or [], by_path)
        pairs_before.append((ours_before, qmd_before))
        pairs_after.append((ours_after, qmd_after))
        (used if a.get("expansion_used") else skipped).append((ours_after, qmd_after, qid))
    summarise("raw query (before)", pairs_before)
    summarise("with the expansion (after)", pairs_after)
    summarise("after, QMD used the expansion", [(x, y) for x, y, _ in used])
    if skipped:
        summarise("after, QMD skipped it (strong BM25)", [(x, y) for x, y, _ in skipped])
    worst = sorted(used + skipped, key=lambda t: overlap(t[0], t[1]))[:5]
    for ours_after, qmd_after, qid in worst:
        print(f"\n[{qid}] overlap {overlap(ours_after, qmd_after):.1f}")
        print(f"  ours: {' '.join(ours_after[:DEPTH])}")
        print(f"  qmd:  {' '.join(qmd_after[:DEPTH])}")


if __name__ == "__main__":
    main()
