"""The ``qmd-reward`` command line.

The core's own commands are ``score``, ``explain``, ``retrieval`` and ``serve``. Other
packages add theirs through the ``qmd_reward.commands`` entry-point group (see pyproject.toml):
each entry names a module with ``add_parsers(subparsers)``, which registers its subcommands and
keeps heavy imports (torch, trl) inside the command functions so ``qmd-reward --help`` stays
light.
This module names none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import __version__
from .present import progress, result_record
from .records import batched, read_paths
from .retrieval.cli import add_embedder_arguments, add_relevance_arguments
from .retrieval.cli import add_parsers as add_retrieval_parsers
from .scorer import SCORE_BATCH, Scorer
from .serve import add_parser as add_serve_parser
from .summary import Summary, render

ENTRY_POINT_GROUP = "qmd_reward.commands"

AddParsers = Callable[[Any], None]  # add_parsers(subparsers) of a command module

__all__ = ["ENTRY_POINT_GROUP", "build_parser", "main", "registered_commands", "result_record"]


def cmd_score(args: argparse.Namespace) -> int:
    scorer, relevance = _scorer_with_relevance(args)
    summary = Summary()
    output = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115
    bar = progress(" records")
    try:
        for batch in batched(read_paths(args.files), SCORE_BATCH):
            scorable = [r for r in batch if r.scorable]
            cards = iter(
                scorer.score_batch(
                    [(r.query or "", r.expansion or "", relevance(r)) for r in scorable]
                )
            )
            for record in batch:
                card = next(cards) if record.scorable else None
                if record.error:
                    summary.errors += 1
                    where = f"{record.file}:{record.line}" if record.line else record.file
                    sys.stderr.write(f"{where}: {record.error}\n")
                elif record.skipped:
                    summary.skipped += 1
                elif card is not None:
                    summary.add(f"{record.file}:{record.line}", record.query or "", card)
                if output is not None:
                    output.write(json.dumps(result_record(record, card), ensure_ascii=False))
                    output.write("\n")
            bar.update(len(batch))
    finally:
        bar.close()
        if output is not None:
            output.close()
    render(summary)
    return 1 if summary.errors else 0


def _scorer_with_relevance(args: argparse.Namespace) -> tuple[Scorer, Callable[[Any], Any]]:
    """A scorer, and a function giving each record's relevant documents (None without a
    corpus, and then the retrieval dimension is absent)."""
    from .retrieval.cli import load_relevance

    source = load_relevance(args)
    if source is None:
        return Scorer(), lambda record: None
    from .retrieval.cli import build_judge
    from .retrieval.records import query_record

    try:
        judge = build_judge(args, source.corpus)
    except ValueError as exc:  # DenseUnavailable is one: the named model cannot be loaded
        raise SystemExit(f"qmd-reward score: cannot load the embedding model: {exc}") from exc
    return Scorer(retrieval=judge), lambda r: source.for_record(query_record(r))


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    expansion = args.expansion if args.expansion is not None else sys.stdin.read()
    explain(args.query, expansion, Scorer(), sys.stdout)
    return 0


def registered_commands() -> list[tuple[str, AddParsers]]:
    """``(entry name, add_parsers)`` of every installed ``qmd_reward.commands`` entry point,
    by entry name (installers do not keep the declared order); the modules are imported here.

    An entry whose module fails to import is reported on standard error and left out, so a
    broken or half-installed adapter does not take ``score`` down with it.
    """
    from importlib.metadata import entry_points

    found: list[tuple[str, AddParsers]] = []
    seen: set[tuple[str, str]] = set()
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if (entry.name, entry.value) in seen:  # the same distribution on sys.path twice
            continue
        seen.add((entry.name, entry.value))
        try:
            loaded = entry.load()
        except ImportError as exc:
            sys.stderr.write(f"qmd-reward: the {entry.name!r} commands are unavailable: {exc}\n")
            continue
        found.append((entry.name, getattr(loaded, "add_parsers", loaded)))
    return found


def build_parser(commands: Iterable[AddParsers] | None = None) -> argparse.ArgumentParser:
    """The whole command line: the core's commands, then ``commands`` (by default those the
    installed packages register, :func:`registered_commands`)."""
    parser = argparse.ArgumentParser(
        prog="qmd-reward", description="Score QMD query expansions and train models on them."
    )
    parser.add_argument("--version", action="version", version=f"qmd-reward {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score JSONL files of expansions")
    score.add_argument("files", nargs="+", help="JSONL files ('-' reads standard input)")
    score.add_argument("--output", "-o", help="write one JSON result per input line here")
    add_relevance_arguments(score, required=False)
    add_embedder_arguments(score)
    score.set_defaults(func=cmd_score)

    explain = sub.add_parser("explain", help="full breakdown of one query and expansion")
    explain.add_argument("query")
    explain.add_argument("expansion", nargs="?", help="expansion text (default: stdin)")
    explain.set_defaults(func=cmd_explain)

    add_retrieval_parsers(sub)
    add_serve_parser(sub)
    if commands is None:
        commands = [add for _, add in registered_commands()]
    for add in commands:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
