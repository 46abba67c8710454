"""Supervised fine-tuning: a LoRA adapter on the base model, trained on the completion only."""

from __future__ import annotations

import logging

from .config import TrainConfig
from .data import load_split, sft_datasets
from .stage import StageResult, run_stage
from .trl_args import build_args

log = logging.getLogger(__name__)


def train_sft(config: TrainConfig) -> StageResult:
    from trl import SFTConfig, SFTTrainer

    # Prompt/completion rows: TRL masks the prompt (completion_only_loss defaults to on).
    args = build_args(SFTConfig, config.training, output_dir=config.output_dir)
    return run_stage("sft", SFTTrainer, config, args, sft_datasets(load_split(config.data)))
