"""The ``qmd-reward retrieval`` command: measure an expansion file's retrieval gain."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qmd_reward import records as core
from qmd_reward.retrieval.corpus import Corpus
from qmd_reward.retrieval.index import BM25Index
from qmd_reward.retrieval.judge import DEFAULT_DEPTH, RetrievalJudge, RetrievalResult
from qmd_reward.retrieval.records import query_record
from qmd_reward.retrieval.relevance import RelevanceSource
from qmd_reward.retrieval.report import PlainReport, RichReport
from qmd_reward.retrieval.summary import summarise

DESCRIPTION = """\
Search a corpus with each record's raw query, then with the query fused with its lex
lines as QMD fuses them, and report where the relevant documents land. Records are
training records ("output" pairs) or eval records ("expansion" text); relevance comes from
"relevant_docs", "query_id" in the corpus qrels, a reference corpus, or a corpus query
with the same text."""


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
        help="measure how much the lex lines of expansions improve BM25 retrieval",
        description=DESCRIPTION,
    )
    parser.add_argument("file", type=Path, help="JSONL file of training, eval or chat records")
    add_relevance_arguments(parser, required=True)
    parser.add_argument(
        "--depth",
        type=int,
        default=DEFAULT_DEPTH,
        help=f"results kept per search, as QMD's FTS limit (default {DEFAULT_DEPTH})",
    )
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the process exit status."""
    try:
        relevance = load_relevance(args)
        assert relevance is not None  # the argument group is required
    except (OSError, ValueError) as exc:
        print(f"qmd-reward retrieval: cannot read the corpus: {exc}", file=sys.stderr)
        return 2
    index = BM25Index.build(relevance.corpus, args.cache_dir, use_cache=not args.no_cache)
    judge = RetrievalJudge(index, depth=args.depth)
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
            result = judge.evaluate(record.query, record.lex_lines, relevant)
            results.append(result)
            if not args.quiet:
                report.query(record, result)
    except OSError as exc:
        print(f"qmd-reward retrieval: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    report.summary(summarise(results))
    return 1 if errors else 0
