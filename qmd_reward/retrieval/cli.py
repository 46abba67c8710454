"""The ``qmd-reward retrieval`` command: measure an expansion file's retrieval gain."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qmd_reward import records as core
from qmd_reward.retrieval.corpus import Corpus
from qmd_reward.retrieval.embedding import DenseUnavailable, load_embedder
from qmd_reward.retrieval.judge import DEFAULT_DEPTH, RetrievalJudge, RetrievalResult
from qmd_reward.retrieval.records import query_record
from qmd_reward.retrieval.relevance import RelevanceSource
from qmd_reward.retrieval.report import PlainReport, RichReport
from qmd_reward.retrieval.summary import summarise

DESCRIPTION = """\
Search a corpus with each record's raw query, then with the query fused with its lines as
QMD's hybrid search fuses them (lex lines by BM25; vec and hyde lines, and the raw query,
by vector when an embedding model is available), and report where the relevant documents
land, overall and per line type. Records are training records ("output" pairs) or eval
records ("expansion" text); relevance comes from "relevant_docs", "query_id" in the corpus
qrels, a reference corpus, or a corpus query with the same text."""


def add_parsers(subparsers: Any) -> None:
    add_parser(subparsers)


def add_relevance_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    """--corpus / --reference-corpus, shared with ``qmd-reward score``."""
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument(
        "--corpus",
        type=Path,
        metavar="PATH",
        help="BEIR corpus.jsonl, or a folder with corpus.jsonl, queries.jsonl and qrels/*.tsv",
    )
    source.add_argument(
        "--reference-corpus",
        type=Path,
        metavar="TRAINFILE",
        action="append",
        help="training file(s) whose reference passages form the corpus (pseudo-relevance)",
    )
    parser.add_argument("--cache-dir", type=Path, help="where built indexes are cached")
    parser.add_argument("--no-cache", action="store_true", help="build the index in memory only")


def load_relevance(args: argparse.Namespace) -> RelevanceSource | None:
    """The relevance source the arguments name, or None when they name none."""
    if args.corpus is not None:
        return RelevanceSource(Corpus.from_beir(args.corpus))
    if args.reference_corpus:
        corpus, pseudo = Corpus.from_training_files(args.reference_corpus)
        return RelevanceSource(corpus, pseudo)
    return None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``retrieval`` on an argparse subparsers object."""
    parser = subparsers.add_parser(
        "retrieval",
        help="measure how much expansions improve QMD's hybrid retrieval, per line type",
        description=DESCRIPTION,
    )
    parser.add_argument("file", type=Path, help="JSONL file of training, eval or chat records")
    add_relevance_arguments(parser, required=True)
    parser.add_argument(
        "--depth",
        type=int,
        default=DEFAULT_DEPTH,
        help=f"results kept per BM25 or vector search, as QMD keeps (default {DEFAULT_DEPTH})",
    )
    add_embedder_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    parser.set_defaults(func=run)
    return parser


def add_embedder_arguments(parser: argparse.ArgumentParser) -> None:
    """--embedder / --embed-threads: which embedding model searches vec and hyde lines."""
    parser.add_argument(
        "--embedder",
        default="auto",
        metavar="MODEL",
        help="embedding model for vec and hyde lines and the raw query: auto (the packaged "
        "all-MiniLM-L6-v2 when the dense extra is installed, else none), minilm, none "
        "(BM25 only), a local sentence-transformers/transformers folder, or a GGUF embedding "
        "model file (needs the gguf-embed extra) (default auto)",
    )
    parser.add_argument(
        "--embed-threads",
        type=int,
        metavar="N",
        help="threads while embedding (default: 1 for the lines, torch's own setting for "
        "the corpus; a GGUF model uses N, default 1, for both)",
    )


def build_judge(
    args: argparse.Namespace, corpus: Corpus, *, progress: bool = True, **options: Any
) -> RetrievalJudge:
    """The judge the arguments describe: BM25, plus vectors unless ``--embedder none``.

    Raises DenseUnavailable or ValueError when the named embedder cannot be loaded."""
    threads = getattr(args, "embed_threads", None)
    embedder = load_embedder(
        getattr(args, "embedder", "auto"),
        args.cache_dir,
        **({} if threads is None else {"threads": threads}),
    )
    return RetrievalJudge.for_corpus(
        corpus,
        embedder=embedder,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        progress=progress,
        **options,
    )


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the process exit status."""
    try:
        relevance = load_relevance(args)
        assert relevance is not None  # the argument group is required
    except (OSError, ValueError) as exc:
        print(f"qmd-reward retrieval: cannot read the corpus: {exc}", file=sys.stderr)
        return 2
    try:
        judge = build_judge(args, relevance.corpus, depth=args.depth)
    except (DenseUnavailable, ValueError) as exc:
        print(f"qmd-reward retrieval: cannot load the embedding model: {exc}", file=sys.stderr)
        return 2
    report = RichReport(sys.stdout) if sys.stdout.isatty() else PlainReport(sys.stdout)
    results: list[RetrievalResult] = []
    errors = 0
    try:
        for raw in core.read_records(str(args.file)):
            if raw.error:
                errors += 1
                print(f"{raw.file}:{raw.line}: {raw.error}", file=sys.stderr)
                continue
            if raw.skipped:
                continue
            record = query_record(raw)
            relevant = relevance.for_record(record) or {}
            result = judge.evaluate_lines(record.query, record.lines, relevant)
            results.append(result)
            if not args.quiet:
                report.query(record, result)
    except OSError as exc:
        print(f"qmd-reward retrieval: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    report.summary(summarise(results))
    return 1 if errors else 0
