"""``qmd-reward eval``: report on one results file, compare two.

Each sub-action registers itself through a function in ``ACTIONS`` so that later ones
(``generate``) are one more function, not an edit of the others.
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

    comparison = compare_files(args.a, args.b, seed=args.seed, resamples=args.resamples)
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
    compare.set_defaults(func=cmd_compare)


ACTIONS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_report, _add_compare)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="report on and compare eval results")
    actions = parser.add_subparsers(dest="eval_command", required=True)
    for add in ACTIONS:
        add(actions)
