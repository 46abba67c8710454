"""``qmd-reward data``: check training files, and prepare them for the trainers.

``data validate FILES`` reports schema problems as ``FILE:LINE: reason`` (exit 1 if any);
``data audit FILES`` scores every example and reports the distribution, the worst examples,
near-duplicate queries, line-type counts and hyde lengths; ``data prepare FILES --out DIR``
writes the deduplicated, split chat and GRPO rows the trainers use, with a dataset card.

Registered on the main command line through the ``qmd_reward.commands`` entry point ``data``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from .audit import NEAR_DUPLICATE_THRESHOLD, render_audit, run_audit, write_audit_output
from .prepare import PrepareOptions, prepare_dataset, write_dataset
from .validate import Validation, validate_files

# -- validate -------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    stats = Validation()
    for problem in validate_files(args.files, stats):
        sys.stdout.write(f"{problem}\n")
    if stats.problems:
        sys.stderr.write(
            f"{stats.problems} problem(s) on {stats.bad_lines} of {stats.records} line(s) "
            f"in {stats.files} file(s)\n"
        )
        return 1
    sys.stdout.write(f"OK: {stats.records} records in {stats.files} file(s), no problems\n")
    return 0


# -- audit ----------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    audit = run_audit(args.files, threshold=args.threshold)
    for example in audit.examples:
        if example.record.error:
            sys.stderr.write(f"{example.where}: {example.record.error}\n")
    render_audit(audit, sys.stdout, args.worst, args.duplicates)
    if args.output:
        write_audit_output(audit, args.output)
    return 1 if audit.summary.errors else 0


# -- prepare --------------------------------------------------------------------------------


def prepare_command_line(args: argparse.Namespace) -> str:
    """The command, every option spelled out (defaults too), for the dataset card.

    Rebuilt from the parsed arguments rather than copied from ``sys.argv`` so the card says
    what was run however it was invoked (a script, a test) and names the defaults it used.
    """
    parts = ["qmd-reward", "data", "prepare", *args.files, "--out", args.out]
    parts += ["--validation-fraction", f"{args.validation_fraction:g}", "--seed", str(args.seed)]
    if args.add_short:
        parts += ["--add-short", str(args.add_short)]
    if args.max_samples is not None:
        parts += ["--max-samples", str(args.max_samples)]
    for label in args.keep_label or ():
        parts += ["--keep-label", label]
    return shlex.join(parts)


def cmd_prepare(args: argparse.Namespace) -> int:
    options = PrepareOptions(
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        add_short=args.add_short,
        max_samples=args.max_samples,
        keep_labels=tuple(args.keep_label) if args.keep_label else None,
    )
    prepared = prepare_dataset(args.files, options)
    report = prepared.report
    for error in report.errors:
        sys.stderr.write(f"{error}\n")
    if not prepared.train and not prepared.validation:
        sys.stderr.write(f"no usable examples in {report.read} record(s): nothing written\n")
        return 1
    write_dataset(prepared, args.out, prepare_command_line(args))
    w = sys.stdout.write
    w(f"read {report.read} record(s), {report.kept} usable; ")
    w(f"{prepared.duplicates} duplicate quer{'y' if prepared.duplicates == 1 else 'ies'} removed\n")
    if args.add_short:
        added = len(prepared.short)
        note = "" if added == args.add_short else f" of {args.add_short} requested (no more found)"
        w(f"short queries added: {added}{note}\n")
    w(f"train: {len(prepared.train)}   validation: {len(prepared.validation)}\n")
    w(f"wrote {args.out}/: train.jsonl validation.jsonl grpo_train.jsonl README.md\n")
    return 1 if report.errors else 0


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _add_prepare(actions: Any) -> None:
    prepare = actions.add_parser(
        "prepare",
        help="deduplicate, split and format training files for the trainers",
        description="Read training files (training, eval or chat format), remove duplicate "
        "queries, split train/validation (stratified by category, seeded; a query lands in "
        "one split only) and write train.jsonl and validation.jsonl (chat rows with "
        "/no_think), grpo_train.jsonl (GRPO prompt rows) and a README.md dataset card.",
    )
    prepare.add_argument("files", nargs="+", help="training JSONL files")
    prepare.add_argument("--out", required=True, help="directory to write (created if needed)")
    prepare.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=0.05,
        help="share of each category's queries held out (default %(default)s)",
    )
    prepare.add_argument("--seed", type=int, default=42, help="split seed (default %(default)s)")
    prepare.add_argument(
        "--add-short",
        type=_count,
        default=0,
        metavar="N",
        help="add N one-to-two-word queries derived from longer training examples",
    )
    prepare.add_argument(
        "--max-samples",
        type=_count,
        metavar="N",
        help="cap the training examples taken from the files (before --add-short)",
    )
    prepare.add_argument(
        "--keep-label",
        action="append",
        metavar="LABEL",
        help="keep labelled records only with this label (repeatable; unlabelled ones stay)",
    )
    prepare.set_defaults(func=cmd_prepare)


def add_parsers(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="validate, audit and prepare training data")
    actions = data.add_subparsers(dest="data_command", required=True)

    validate = actions.add_parser(
        "validate", help="report every schema problem of training JSONL files"
    )
    validate.add_argument("files", nargs="+", help="training JSONL files")
    validate.set_defaults(func=cmd_validate)

    audit = actions.add_parser(
        "audit", help="score every example; distribution, worst, near-duplicates"
    )
    audit.add_argument("files", nargs="+", help="JSONL files ('-' reads standard input)")
    audit.add_argument("--output", "-o", help="write one JSON result per input line here")
    audit.add_argument("--worst", type=int, default=10, help="lowest examples to show")
    audit.add_argument("--duplicates", type=int, default=20, help="near-duplicate pairs to show")
    audit.add_argument(
        "--threshold",
        type=float,
        default=NEAR_DUPLICATE_THRESHOLD,
        help="near-duplicate similarity, 0-100 (default %(default)s)",
    )
    audit.set_defaults(func=cmd_audit)

    _add_prepare(actions)
