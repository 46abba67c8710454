"""Supervised fine-tuning: a LoRA adapter on the base model, trained on the completion only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .config import TrainConfig
from .stage import StageResult, run_stage
from .trl_args import build_args

log = logging.getLogger(__name__)


def train_sft(
    config: TrainConfig, *, on_trainer: Callable[[Any], None] | None = None
) -> StageResult:
    """Train the SFT adapter; ``on_trainer`` sees the trainer before it trains."""
    from trl import SFTConfig, SFTTrainer

    # Imported here: the data modules are being moved into a package of their own.
    from .data import load_split, sft_datasets

    # Prompt/completion rows: TRL masks the prompt (completion_only_loss defaults to on).
    args = build_args(SFTConfig, config.training, output_dir=config.output_dir)
    rows = sft_datasets(load_split(config.data))
    return run_stage("sft", SFTTrainer, config, args, rows, on_trainer=on_trainer)
