"""The ``qmd-reward`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from . import __version__
from .records import Record, batched, read_paths
from .retrieval.cli import add_relevance_arguments
from .scorer import Scorer
from .summary import Summary, render

BATCH = 256

# Modules that add their own subcommands; each has ``add_parsers(subparsers)`` and keeps heavy
# imports (torch, trl) inside the command functions so ``qmd-reward --help`` stays light.
COMMAND_MODULES: tuple[str, ...] = (
    "qmd_reward.retrieval.cli",
    "evals.cli",
    "evals.interactive",
    "qmd_reward.datacli",
    "trainers.cli",
)


def result_record(record: Record, card=None) -> dict:
    out = {
        "file": record.file,
        "line": record.line,
        "query": record.query,
        "score": None,
        "rating": None,
        "dimensions": None,
        "deductions": None,
        "entities": None,
        "error": record.error,
    }
    if record.skipped:
        out["skipped"] = record.skipped
    if card is not None:
        out.update(
            score=card.score,
            rating=card.rating,
            dimensions=dict(card.dimensions),
            deductions=list(card.deductions),
            entities=list(card.entities),
        )
    return out


def cmd_score(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    scorer, relevance = _scorer_with_relevance(args)
    summary = Summary()
    output = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115
    progress = tqdm(
        unit=" records", file=sys.stderr, disable=not sys.stderr.isatty(), mininterval=0.5
    )
    try:
        for batch in batched(read_paths(args.files), BATCH):
            scorable = [r for r in batch if r.scorable]
            cards = iter(
                scorer.score_batch([(r.query, r.expansion, relevance(r)) for r in scorable])
            )
            for record in batch:
                card = next(cards) if record.scorable else None
                if record.error:
                    summary.errors += 1
                    where = f"{record.file}:{record.line}" if record.line else record.file
                    sys.stderr.write(f"{where}: {record.error}\n")
                elif record.skipped:
                    summary.skipped += 1
                else:
                    summary.add(f"{record.file}:{record.line}", record.query or "", card)
                if output is not None:
                    output.write(json.dumps(result_record(record, card), ensure_ascii=False))
                    output.write("\n")
            progress.update(len(batch))
    finally:
        progress.close()
        if output is not None:
            output.close()
    render(summary)
    return 1 if summary.errors else 0


def _scorer_with_relevance(args: argparse.Namespace):
    """A scorer, and a function giving each record's relevant documents (None without a
    corpus, and then the retrieval dimension is absent)."""
    if not (args.corpus or args.reference_corpus):
        return Scorer(), lambda record: None
    from .retrieval import BM25Index, RetrievalJudge
    from .retrieval.cli import load_relevance
    from .retrieval.records import query_record

    source = load_relevance(args)
    index = BM25Index.build(source.corpus, args.cache_dir, use_cache=not args.no_cache)
    return Scorer(retrieval=RetrievalJudge(index)), lambda r: source.for_record(query_record(r))


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    expansion = args.expansion if args.expansion is not None else sys.stdin.read()
    explain(args.query, expansion, Scorer(), sys.stdout)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qmd-reward", description="Score QMD query expansions and train models on them."
    )
    parser.add_argument("--version", action="version", version=f"qmd-reward {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score JSONL files of expansions")
    score.add_argument("files", nargs="+", help="JSONL files ('-' reads standard input)")
    score.add_argument("--output", "-o", help="write one JSON result per input line here")
    add_relevance_arguments(score, required=False)
    score.set_defaults(func=cmd_score)

    explain = sub.add_parser("explain", help="full breakdown of one query and expansion")
    explain.add_argument("query")
    explain.add_argument("expansion", nargs="?", help="expansion text (default: stdin)")
    explain.set_defaults(func=cmd_explain)

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
