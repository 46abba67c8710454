"""Done-when demo: tiny SFT, then tiny GRPO with QMDReward, all offline on the CPU.

    .venv/bin/python benchmarks/train_demo.py [--pretrain-epochs 2] [--epochs 3] [--grpo-steps N]

Builds a tiny Qwen3 on the training data (../shared/anchor-data when present, else the
project's data/), runs the shipped ``sft-tiny`` and ``grpo-tiny`` configs on it, and prints
the held-out mean score with per-dimension means after each stage, the seconds per optimizer
step of each stage, and the share of GRPO step time spent inside the reward function.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from qmd_reward import Scorer  # noqa: E402
from qmd_reward.trl import QMDReward, dimension_means  # noqa: E402

ANCHOR = ROOT.parent / "shared" / "anchor-data"


class TimedReward:
    """Wraps a reward function and adds up the wall time spent inside it."""

    def __init__(self, reward: Any) -> None:
        self.reward = reward
        self.__name__ = reward.__name__
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> list[float]:
        start = time.perf_counter()
        try:
            return self.reward(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def data_files() -> tuple[list[str], list[str]]:
    """Training files and the ``--set`` overrides that go with them."""
    anchor = sorted(glob.glob(str(ANCHOR / "*.jsonl")))
    if anchor:
        return anchor, ["data.keep_labels=null"]
    return sorted(glob.glob(str(ROOT / "data" / "*.jsonl"))), ["data.keep_labels=[good]"]


def evaluate(model_dir: Path, queries: Sequence[str], max_new_tokens: int) -> dict[str, Any]:
    from trainers import load_model
    from trainers.generation import generate

    model, tokenizer = load_model(model_dir)
    texts = generate(model, tokenizer, queries, max_new_tokens=max_new_tokens, batch_size=32)
    cards = Scorer().score_batch(list(zip(queries, texts, strict=True)))
    return {
        "mean": sum(c.score for c in cards) / len(cards),
        "dimensions": dimension_means(cards),
        "example": (queries[0], texts[0]),
    }


def show(stage: str, result: dict[str, Any]) -> None:
    dims = "  ".join(f"{k}={v:.1f}" for k, v in sorted(result["dimensions"].items()))
    print(f"{stage:<10} held-out mean score {result['mean']:.3f}   points: {dims}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "runs" / "train-demo"))
    parser.add_argument("--pretrain-epochs", type=float, default=2)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--grpo-steps", type=int, help="default: grpo-tiny's max_steps")
    parser.add_argument("--eval-queries", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    args = parser.parse_args(argv)

    from trainers.config import load_config
    from trainers.data import load_split
    from trainers.data.examples import write_jsonl
    from trainers.grpo import train_grpo
    from trainers.sft import train_sft
    from trainers.tiny import make_tiny_model

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    files, data_overrides = data_files()
    print(f"data: {len(files)} file(s) from {Path(files[0]).parent}")
    started = time.perf_counter()
    common = [f"data.files={files!r}", *data_overrides]
    sft_overrides = [*common, f"output_dir={work / 'sft'}"]
    sft_overrides.append(f"training.num_train_epochs={args.epochs}")
    split = load_split(load_config("sft-tiny", "sft", sft_overrides).data)
    held_out = [e.query for e in split.validation][: args.eval_queries]
    print(f"held-out queries: {len(held_out)} (validation split, never trained on)")

    # The tiny base learns its tokenizer (and, pretrained, its language) from the training
    # split only, so the held-out queries stay unseen.
    train_file = work / "train-split.jsonl"
    write_jsonl(({"query": e.query, "expansion": e.expansion} for e in split.train), train_file)
    base = make_tiny_model(
        work / "tiny-model", [str(train_file)], pretrain_epochs=args.pretrain_epochs
    )
    base_seconds = time.perf_counter() - started
    show("base", evaluate(base, held_out, args.max_new_tokens))

    sft_config = load_config("sft-tiny", "sft", [*sft_overrides, f"model={base}"])
    sft = train_sft(sft_config)
    after_sft = evaluate(sft.output_dir, held_out, args.max_new_tokens)

    reward = TimedReward(QMDReward())
    grpo_config = load_config(
        "grpo-tiny",
        "grpo",
        [
            *common,
            f"model={sft.output_dir}",
            f"output_dir={work / 'grpo'}",
            *([f"training.max_steps={args.grpo_steps}"] if args.grpo_steps else []),
        ],
    )
    grpo = train_grpo(grpo_config, rewards=[reward])
    after_grpo = evaluate(grpo.output_dir, held_out, args.max_new_tokens)

    print()
    show("after SFT", after_sft)
    show("after GRPO", after_grpo)
    print(f"tiny base built (pretrained {args.pretrain_epochs} epochs) in {base_seconds:.0f} s")
    print(f"SFT : {sft.steps} steps, {sft.runtime_s / max(sft.steps, 1):.3f} s/step")
    print(f"GRPO: {grpo.steps} steps, {grpo.runtime_s / max(grpo.steps, 1):.3f} s/step")
    share = reward.seconds / grpo.runtime_s if grpo.runtime_s else 0.0
    print(
        f"reward: {reward.calls} calls, {reward.seconds:.2f} s in total, "
        f"{share:.1%} of GRPO step time"
    )
    query, text = after_grpo["example"]
    print(f"example after GRPO for {query!r}:\n  " + text.replace("\n", "\n  "))
    print(f"total {time.perf_counter() - started:.0f} s; models under {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
