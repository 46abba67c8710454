"""``qmd-reward eval``: generate expansions with a model, report on one results file, compare two.

Each sub-action registers itself through a function in ``ACTIONS`` so that a new one is one
more function, not an edit of the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .queries import DEFAULT_QUERIES


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report, render_text

    report = build_report(args.results, args.queries)
    for error in report.errors:
        sys.stderr.write(error + "\n")
    render_text(report, sys.stdout, worst=args.worst)
    if args.html:
        from .html_report import render_html

        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(render_html(report, worst=args.worst))
        sys.stderr.write(f"wrote {args.html}\n")
    return 1 if report.errors or not report.rows else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_files, render_comparison

    comparison = compare_files(
        args.a, args.b, seed=args.seed, resamples=args.resamples, metric=args.metric
    )
    for error in comparison.a.errors + comparison.b.errors:
        sys.stderr.write(error + "\n")
    if not comparison.pairs:
        sys.stderr.write("no query appears in both files: nothing to compare\n")
    render_comparison(comparison, sys.stdout, top=args.top)
    return 1 if comparison.a.errors or comparison.b.errors or not comparison.pairs else 0


def _add_report(actions: argparse._SubParsersAction) -> None:
    report = actions.add_parser("report", help="per-category, per-dimension report of results")
    report.add_argument("results", help="eval results JSONL ({'query', 'expansion'} lines)")
    report.add_argument("--html", help="also write a self-contained HTML report here")
    report.add_argument(
        "--queries",
        default=str(DEFAULT_QUERIES),
        help="query file whose '# category' headers categorise the results "
        "(default: the shipped evals/queries.txt)",
    )
    report.add_argument("--worst", type=int, default=10, help="worst expansions to show")
    report.set_defaults(func=cmd_report)


def _add_compare(actions: argparse._SubParsersAction) -> None:
    compare = actions.add_parser("compare", help="paired per-query comparison of two results")
    compare.add_argument("a", help="baseline results JSONL (A)")
    compare.add_argument("b", help="candidate results JSONL (B); deltas are B - A")
    compare.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    compare.add_argument("--top", type=int, default=5, help="regressions/improvements shown")
    compare.add_argument(
        "--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)"
    )
    compare.add_argument(
        "--metric",
        help="compare a number each record carries instead of the judge's score: a key of "
        "the record's 'qmd' object as `eval qmd` writes it (mrr, ndcg@10, recall@10)",
    )
    compare.set_defaults(func=cmd_compare)


def cmd_generate(args: argparse.Namespace) -> int:
    from trainers.manifest import ManifestError

    from .generate import GenerateError, Sampling, generate_file
    from .queries import read_queries

    try:
        pairs = read_queries(args.queries)
    except OSError as exc:
        sys.stderr.write(f"qmd-reward: error: {args.queries}: {exc.strerror or exc}\n")
        return 2
    if not pairs:
        sys.stderr.write(f"qmd-reward: error: {args.queries} holds no queries\n")
        return 2
    sampling = Sampling(greedy=args.greedy, max_new_tokens=args.max_new_tokens)
    try:
        written = generate_file(
            args.model,
            pairs,
            args.output,
            sampling=sampling,
            seed=args.seed,
            batch_size=args.batch_size,
            use_vllm=args.vllm,
            device=args.device,
            queries_file=str(args.queries),
        )
    except (GenerateError, ManifestError, OSError, ValueError) as exc:
        sys.stderr.write(f"qmd-reward: error: {exc}\n")
        return 2
    sys.stderr.write(f"wrote {written} expansions to {args.output}\n")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_generate(actions: argparse._SubParsersAction) -> None:
    generate = actions.add_parser(
        "generate",
        help="expand the eval queries with a model and write a results file",
        description="Load a model (a trained directory's adapter chain is applied), expand "
        "every query and write a _meta line, then one {query, category, expansion} line per "
        "query in order. Sampling uses Qwen3's non-thinking settings (temperature 0.7, "
        "top-p 0.8, top-k 20) unless --greedy.",
    )
    generate.add_argument("--model", required=True, help="model directory or hub id")
    generate.add_argument(
        "--queries",
        default=str(DEFAULT_QUERIES),
        help="query file, '# category' headers (default: the shipped evals/queries.txt)",
    )
    generate.add_argument("--output", "-o", required=True, help="results JSONL to write")
    generate.add_argument("--greedy", action="store_true", help="greedy decoding, no sampling")
    generate.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    generate.add_argument(
        "--max-new-tokens", type=_positive, default=200, help="per expansion (default 200)"
    )
    generate.add_argument(
        "--batch-size", type=_positive, default=16, help="queries per batch (default 16)"
    )
    generate.add_argument(
        "--device", default="auto", help="torch device (default: cuda when available, else cpu)"
    )
    generate.add_argument(
        "--vllm", action="store_true", help="generate with vLLM (must be installed)"
    )
    generate.set_defaults(func=cmd_generate)


def cmd_qmd(args: argparse.Namespace) -> int:
    from .qmd_eval import EvalQmdError, run_eval
    from .qmd_runner import QmdError, QmdUnavailable

    if args.no_expand == (args.model is not None):
        sys.stderr.write("qmd-reward: error: give --model MODEL.gguf, or --no-expand\n")
        return 2
    try:
        records = run_eval(
            args.corpus,
            args.output,
            model=args.model,
            queries_file=args.queries,
            qrels_file=args.qrels,
            limit=args.limit,
            threads=args.threads,
            progress=sys.stderr.isatty(),
        )
    except (EvalQmdError, QmdUnavailable, QmdError, OSError, ValueError) as exc:
        sys.stderr.write(f"qmd-reward: error: {exc}\n")
        return 2
    failed = sum(1 for record in records if record.get("error"))
    sys.stderr.write(f"wrote {len(records)} records to {args.output} ({failed} with an error)\n")
    return 1 if failed else 0


def _add_qmd(actions: argparse._SubParsersAction) -> None:
    qmd = actions.add_parser(
        "qmd",
        help="a GGUF model as real QMD's expansion model: QMD's retrieval and our judge",
        description="Index a corpus in a private QMD home (installed on first use from the "
        "npm registry), embed it with all-MiniLM-L6-v2 as GGUF, let QMD expand every query "
        "with MODEL (its own prompt, grammar and sampling) and run its hybrid query without "
        "the reranker. The corpus is a BEIR folder (corpus.jsonl, queries.jsonl, "
        "qrels/*.tsv), written as notes, or a folder of markdown notes, indexed in place "
        "(read only): a note's id is its path in the folder (projects/alpha.md), and the "
        "qrels name notes by it. Writes one record per query: the expansion QMD used, QMD's "
        "ranking, its MRR, nDCG@10 and recall@10 against the qrels, and our judge's score "
        "card. A query QMD failed on keeps its record, with the error.",
    )
    qmd.add_argument("--model", help="the expansion model: a GGUF file")
    qmd.add_argument(
        "--no-expand", action="store_true", help="no expansion model: QMD with the raw query"
    )
    qmd.add_argument(
        "--corpus",
        required=True,
        metavar="DIR",
        help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/*.tsv), or a folder of "
        "markdown notes (*.md, subfolders too) with queries.jsonl and qrels/*.tsv",
    )
    qmd.add_argument(
        "--queries",
        metavar="FILE",
        help="queries.jsonl (_id, text) or an eval query file (default: the folder's "
        "queries.jsonl)",
    )
    qmd.add_argument(
        "--qrels",
        metavar="FILE",
        help="qrels file, BEIR TSV (query-id, corpus-id, score) or TREC; for notes the "
        "corpus-id is the note's path in the folder (default: the folder's qrels/*.tsv)",
    )
    qmd.add_argument("--output", "-o", required=True, help="results JSONL to write")
    qmd.add_argument("--limit", type=_positive, default=10, help="results per query (10)")
    qmd.add_argument(
        "--threads",
        type=_positive,
        help="node-llama-cpp threads (default: $QMD_REWARD_QMD_THREADS, else the usable CPUs)",
    )
    qmd.set_defaults(func=cmd_qmd)


ACTIONS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_report,
    _add_compare,
    _add_generate,
    _add_qmd,
)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="generate eval results with a model, report on and compare them"
    )
    actions = parser.add_subparsers(dest="eval_command", required=True)
    for add in ACTIONS:
        add(actions)
