"""Supervised fine-tuning: a LoRA adapter on the base model, trained on the completion only."""

from __future__ import annotations

import logging

from .config import ConfigError, TrainConfig
from .data import load_split, sft_datasets
from .loading import load_model
from .stage import StageResult, lora_config, parent_chain, save_stage, torch_dtype
from .trl_args import build_args

log = logging.getLogger(__name__)


def train_sft(config: TrainConfig) -> StageResult:
    from trl import SFTConfig, SFTTrainer

    # Prompt/completion rows: TRL masks the prompt (completion_only_loss defaults to on).
    args = build_args(SFTConfig, config.training, output_dir=config.output_dir)
    train_rows, eval_rows = sft_datasets(load_split(config.data))
    evaluate = args.eval_strategy != "no"
    if evaluate and eval_rows is None:
        raise ConfigError("training.eval_strategy is set but the validation split is empty")
    model, tokenizer = load_model(config.model, dtype=torch_dtype(config.dtype))
    parent = parent_chain(config.model, model)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows if evaluate else None,
        processing_class=tokenizer,
        peft_config=lora_config(config.lora),
    )
    trainer.train()
    info = {"config": config.to_dict(), "examples": len(train_rows)}
    return save_stage(trainer, tokenizer, "sft", parent, config.output_dir, info)
