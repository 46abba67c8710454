"""``qmd-reward data``: check training files before training on them.

``data validate FILES`` reports schema problems as ``FILE:LINE: reason`` (exit 1 if any);
``data audit FILES`` scores every example and reports the distribution, the worst examples,
near-duplicate queries, line-type counts and hyde lengths; ``data prepare FILES --out DIR``
writes the deduplicated, split chat and GRPO rows the trainers use, with a dataset card.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from typing import TextIO

from .datatools import (
    NEAR_DUPLICATE_THRESHOLD,
    Audit,
    Validation,
    deciles,
    histogram,
    hyde_buckets,
    run_audit,
    validate_files,
)
from .expansion import LINE_TYPES
from .scorecard import RATING_NAMES

Column = str | tuple[str, str]  # a name, or (name, "right") for numbers


def write_table(
    out: TextIO,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    rich: bool | None = None,
    header: bool = True,
) -> None:
    """A table: rich on a terminal, aligned plain text when piped (greppable, diffable)."""
    names = [c if isinstance(c, str) else c[0] for c in columns]
    right = [not isinstance(c, str) and c[1] == "right" for c in columns]
    cells = [[str(v) for v in row] for row in rows]
    if rich if rich is not None else out.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(title), show_header=header)
        for name, r in zip(names, right):
            table.add_column(Text(name), justify="right" if r else "left", overflow="fold")
        for row in cells:
            # Text, not str: "[...]" in a query or expansion is data, not rich markup.
            table.add_row(*(Text(cell) for cell in row))
        Console(file=out).print(table)
        return
    from rich.cells import cell_len  # display width: CJK queries take two columns a character

    widths = [max([cell_len(n), *(cell_len(row[i]) for row in cells)]) for i, n in enumerate(names)]

    def fmt(values: Sequence[str]) -> str:
        pads = [" " * (w - cell_len(v)) for v, w in zip(values, widths)]
        parts = [p + v if r else v + p for v, p, r in zip(values, pads, right)]
        return "  ".join(parts).rstrip()

    out.write(f"{title}\n")
    if header:
        out.write(f"  {fmt(names)}\n")
    for row in cells:
        out.write(f"  {fmt(row)}\n")


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


def _bar(count: int, top: int, width: int = 40) -> str:
    return "#" * (round(width * count / top) if top else 0)


def render_audit(audit: Audit, out: TextIO, worst: int, duplicates: int) -> None:
    s = audit.summary
    w = out.write
    w(f"examples scored: {s.scored}   errors: {s.errors}   skipped: {s.skipped}\n")
    w(f"mean score: {s.mean:.4f}\n")
    w("ratings: " + ", ".join(f"{n} {s.ratings.get(n, 0)}" for n in RATING_NAMES) + "\n\n")
    scores = audit.scores()
    if scores:
        cuts = deciles(scores)
        labels = ["min", *(f"p{10 * k}" for k in range(1, 10)), "max"]
        values = [min(scores), *cuts, max(scores)]
        write_table(out, "score deciles", labels, [[f"{v:.3f}" for v in values]])
        counts = histogram(scores)
        top = max(counts)
        rows = [[f"{k / 10:.1f}-{(k + 1) / 10:.1f}", n, _bar(n, top)] for k, n in enumerate(counts)]
        write_table(out, "score histogram", ["score", ("examples", "right"), ""], rows)
        dims = s.dimension_means()
        write_table(
            out,
            "mean per dimension",
            ["dimension", ("mean", "right"), ("examples", "right")],
            [[name, f"{mean:.2f}", s.dim_count[name]] for name, mean in dims.items()],
        )
    table = audit.type_count_table()
    most = max([3, *(n for counter in table.values() for n in counter)])
    heads = [str(n) for n in range(most + 1)]
    write_table(
        out,
        "examples by number of lines of each type",
        ["type", *((h, "right") for h in heads)],
        [[kind, *(table[kind].get(n, 0) for n in range(most + 1))] for kind in LINE_TYPES],
    )
    lengths = audit.hyde_lengths()
    if lengths:
        buckets = hyde_buckets(lengths)
        ordered = sorted(lengths)
        w(
            f"hyde length (chars): n={len(lengths)} min={ordered[0]} "
            f"median={ordered[len(ordered) // 2]} max={ordered[-1]}\n"
        )
        write_table(out, "hyde length bands", ["chars", ("lines", "right")], list(buckets.items()))
    _render_duplicates(audit, out, duplicates)
    _render_lowest(audit, out, worst)


def _render_duplicates(audit: Audit, out: TextIO, limit: int) -> None:
    pairs = audit.duplicate_pairs
    involved = len(audit.duplicates)
    out.write(
        f"near-duplicate queries (token sort ratio >= {audit.threshold:g}): "
        f"{len(pairs)} pair(s), {involved} example(s)\n"
    )
    ranked = sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:limit]
    for i, j, similarity in ranked:
        a, b = audit.examples[i], audit.examples[j]
        out.write(f"  {similarity:5.1f}  {a.where} {a.record.query!r}\n")
        out.write(f"         {b.where} {b.record.query!r}\n")
    if len(pairs) > limit:
        out.write(f"  ... {len(pairs) - limit} more (see --output)\n")
    out.write("\n")


def _render_lowest(audit: Audit, out: TextIO, k: int) -> None:
    out.write(f"lowest-scoring examples (worst {k}):\n")
    for example in audit.lowest(k):
        card = example.card
        assert card is not None  # lowest() only returns scored examples
        out.write(
            f"  {card.score:.3f} {card.rating:<10} {example.where}  {example.record.query!r}\n"
        )
        for note in card.deductions:
            out.write(f"      - {note}\n")
        for line in (example.record.expansion or "").splitlines():
            out.write(f"      | {line}\n")
    out.write("\n")


def write_audit_output(audit: Audit, path: str) -> None:
    """One JSON line per input line, the shape of ``score --output`` plus ``near_duplicates``."""
    from .cli import result_record  # the one definition of that shape

    with open(path, "w", encoding="utf-8") as handle:
        for index, example in enumerate(audit.examples):
            row = result_record(example.record, example.card)
            row["near_duplicates"] = [
                {
                    "file": audit.examples[other].record.file,
                    "line": audit.examples[other].record.line,
                    "query": audit.examples[other].record.query,
                    "similarity": similarity,
                }
                for other, similarity in sorted(audit.duplicates.get(index, []))
            ]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


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
    from .prepare import PrepareOptions, prepare_dataset, write_dataset

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


def _add_prepare(actions: argparse._SubParsersAction) -> None:
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


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
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
