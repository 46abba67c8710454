"""``qmd-reward try``: type queries, see what a model makes of them and how that scores.

The model is loaded once (through :func:`evals.generate.load`, so adapter chains apply) and
each expansion is shown with :func:`qmd_reward.explain.explain`'s breakdown, the same one
``qmd-reward explain`` prints. ``--query`` expands one query and exits.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from qmd_reward import Scorer

Expander = Callable[[str], str]
PROMPT = "query> "
HISTORY_FILE = "try_history"
HISTORY_LENGTH = 1000


def load_expander(model_path: str, *, greedy: bool, seed: int, max_new_tokens: int, device: str):
    """A function query -> expansion around a model loaded once."""
    from .generate import Sampling, generate_batch, generation_config, load, set_seed

    model, tokenizer = load(model_path, device)
    config = generation_config(
        model, tokenizer, Sampling(greedy=greedy, max_new_tokens=max_new_tokens)
    )
    set_seed(seed)  # seeded once: a session is reproducible, yet each query gets fresh samples

    def expand(query: str) -> str:
        return generate_batch(model, tokenizer, [query], config)[0]

    return expand


def printable(text: str) -> str:
    """Control characters escaped: a model's stray escape codes must not drive the terminal."""
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


def show(query: str, expand: Expander, scorer: Scorer, out: TextIO) -> None:
    from qmd_reward.explain import explain

    start = time.perf_counter()
    expansion = expand(query)
    seconds = time.perf_counter() - start
    # The raw text first: explain() shows parsed lines, which hide a think block's content.
    out.write(f"model output ({seconds:.2f} s):\n")
    for line in expansion.split("\n"):  # the parser's line breaks, not str.splitlines()'s
        out.write(f"  | {printable(line)}\n")
    out.write("\n")
    explain(query, expansion, scorer, out)
    out.write("\n")
    out.flush()


def _history_path() -> Path:
    from qmd_reward.retrieval.store import default_cache_dir

    return default_cache_dir() / HISTORY_FILE


def enable_history() -> None:
    """Up-arrow recall within and across sessions, where Python has readline."""
    try:
        import readline  # importing it is what gives input() line editing and history
    except ImportError:
        return  # Windows without pyreadline: plain input() still works
    path = _history_path()
    # First session, or an unreadable file: start with an empty history.
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(HISTORY_LENGTH)

    def save() -> None:
        # A read-only home must not turn quitting into a traceback.
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)

    atexit.register(save)


def repl(expand: Expander, scorer: Scorer, out: TextIO, interactive: bool) -> int:
    """Read queries until end of input (ctrl-D); an empty line is skipped.

    ctrl-C abandons the current line or generation and asks again, as Python's own prompt
    does, so a slow expansion can be cut short without losing the loaded model.
    """
    prompt = PROMPT if interactive else ""  # piped input gets clean output
    if interactive:
        out.write("Type a query (ctrl-D quits).\n")
    while True:
        try:
            line = input(prompt)
        except EOFError:
            if interactive:
                out.write("\n")
            return 0
        except KeyboardInterrupt:
            out.write("\n(ctrl-D quits)\n")
            continue
        query = line.strip()
        if not query:
            continue
        try:
            show(query, expand, scorer, out)
        except KeyboardInterrupt:
            out.write("\n(interrupted)\n")


def cmd_try(args: argparse.Namespace) -> int:
    from trainers.manifest import ManifestError

    from .generate import GenerateError

    try:
        expand = load_expander(
            args.model,
            greedy=args.greedy,
            seed=args.seed,
            max_new_tokens=args.max_new_tokens,
            device=args.device,
        )
    except (GenerateError, ManifestError, OSError, ValueError) as exc:
        sys.stderr.write(f"qmd-reward: error: {exc}\n")
        return 2
    scorer = Scorer()
    if args.query is not None:
        show(args.query, expand, scorer, sys.stdout)
        return 0
    interactive = sys.stdin.isatty()
    if interactive:
        enable_history()
    return repl(expand, scorer, sys.stdout, interactive)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the top-level ``try`` command."""
    parser = subparsers.add_parser(
        "try",
        help="type queries and see a model's expansions with their score breakdown",
        description="Load a model once, then expand each query typed (ctrl-D quits) and show "
        "the expansion with its score breakdown. Sampling uses Qwen3's non-thinking settings "
        "unless --greedy.",
    )
    parser.add_argument("--model", required=True, help="model directory or hub id")
    parser.add_argument("--query", help="expand this one query, print, and exit")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding, no sampling")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument(
        "--max-new-tokens", type=int, default=200, help="per expansion (default 200)"
    )
    parser.add_argument(
        "--device", default="auto", help="torch device (default: cuda when available, else cpu)"
    )
    parser.set_defaults(func=cmd_try)
