"""What every training stage shares: loading its starting model and saving its output."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import LoraSpec
from .manifest import (
    Manifest,
    Step,
    adapter_step,
    chain_of,
    describe,
    read_manifest,
    with_relpaths,
    write_manifest,
)

log = logging.getLogger(__name__)

README = """# {stage} adapter written by qmd-reward

This directory holds a LoRA adapter that only works on top of this exact chain:

{chain}

Load it with `trainers.load_model("{path}")`, which applies the chain in order, or make one
standalone model with `qmd-reward export {path} OUT`. Do not load it with PEFT onto the bare
base model: without the merged parents it produces garbage.
"""


@dataclass(frozen=True)
class StageResult:
    """Where a stage wrote its model, and what the trainer logged on the way."""

    output_dir: Path
    log_history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    runtime_s: float = 0.0


def torch_dtype(name: str) -> Any:
    if name == "auto":
        return "auto"
    import torch

    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown dtype {name!r} (use auto, float32, bfloat16 or float16)")
    return dtype


def lora_config(spec: LoraSpec) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=list(spec.target_modules),
        task_type="CAUSAL_LM",
    )


def parent_chain(model_source: str, model: Any) -> tuple[Step, ...]:
    """The chain the new adapter extends; a hub base records the revision it resolved to."""
    chain = chain_of(model_source)
    if len(chain) == 1 and chain[0].get("sha256") is None:
        revision = getattr(model.config, "_commit_hash", None)
        chain = ({**chain[0], "revision": revision},)
    return chain


def _point_adapter_config_at_parent(output_dir: Path, parent: tuple[Step, ...]) -> None:
    """Make PEFT's own loader find the true parent instead of the bare base.

    PEFT records the base it saw in memory, which for a GRPO adapter is the base model
    (the SFT adapter had been merged into it). Pointing ``base_model_name_or_path`` at the
    SFT directory means ``AutoPeftModel`` at least starts from the right parent.
    """
    path = output_dir / "adapter_config.json"
    if len(parent) < 2 or not path.is_file():
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = parent[-1]["path"]
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def save_stage(
    trainer: Any,
    tokenizer: Any,
    stage: str,
    parent: tuple[Step, ...],
    output_dir: str,
    info: dict[str, Any],
) -> StageResult:
    """Save the adapter and tokenizer, then the manifest (last: it vouches for the rest)."""
    out = Path(output_dir)
    trainer.save_model(str(out))
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(out))
        _point_adapter_config_at_parent(out, parent)
        chain = with_relpaths((*parent, adapter_step(stage, out)), out)
        (out / "README.md").write_text(
            README.format(
                stage=stage.upper(),
                chain="\n".join(f"{i}. {describe(s)}" for i, s in enumerate(chain, 1)),
                path=out,
            ),
            encoding="utf-8",
        )
        write_manifest(out, Manifest("adapter", stage, chain, info))
        log.info("wrote %s (%s adapter, chain of %d)", out, stage, len(chain))
    trainer.accelerator.wait_for_everyone()
    history = list(trainer.state.log_history)
    runtime = next((h["train_runtime"] for h in reversed(history) if "train_runtime" in h), 0.0)
    return StageResult(out, history, int(trainer.state.global_step), float(runtime))


def recorded_template(model_source: str) -> dict[str, Any] | None:
    """The chat template the last trained stage of ``model_source`` recorded, if any."""
    manifest = read_manifest(model_source) if Path(model_source).is_dir() else None
    if manifest is None:
        return None
    recorded = manifest.info.get("chat_template")
    return recorded if isinstance(recorded, dict) else None


def prepare_template(tokenizer: Any, choice: str, model_source: str, kind: str) -> dict[str, Any]:
    """Apply the configured chat template and describe it for the manifest.

    A stage on top of a trained one (GRPO on SFT) must render prompts exactly as its parent
    was trained, so changing the template there is refused.
    """
    from .chat_template import choose_template, describe_template
    from .config import ConfigError

    try:
        choose_template(tokenizer, choice)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    described = describe_template(tokenizer)
    parent = recorded_template(model_source)
    if parent and parent.get("sha256") and parent["sha256"] != described["sha256"]:
        raise ConfigError(
            f"chat_template: {model_source} was trained with the {parent.get('name')!r} "
            f"template ({parent.get('family')}); {kind} must render prompts the same way. "
            "Leave chat_template at 'model'."
        )
    return described


def run_stage(
    kind: str,
    trainer_class: Any,
    config: Any,
    args: Any,
    rows: tuple[Any, Any],
    *,
    on_trainer: Callable[[Any], None] | None = None,
    **extra: Any,
) -> StageResult:
    """Load the starting model, train one stage with ``trainer_class`` and save its output.

    ``rows`` are the (train, validation) datasets; ``extra`` goes to the trainer (GRPO's
    reward functions). SFT and GRPO differ only in their trainer and data. ``on_trainer``
    sees the trainer before it trains (benchmarks attach their timers there).
    """
    from .base_models import resolve_source
    from .config import ConfigError
    from .loading import load_model

    train_rows, eval_rows = rows
    evaluate = args.eval_strategy != "no"
    if evaluate and eval_rows is None:
        raise ConfigError("training.eval_strategy is set but the validation split is empty")
    source = resolve_source(config.model)  # a GGUF file: its cached, dequantised folder
    model, tokenizer = load_model(source, dtype=torch_dtype(config.dtype))
    template = prepare_template(tokenizer, config.chat_template, source, kind)
    parent = parent_chain(source, model)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows if evaluate else None,
        processing_class=tokenizer,
        peft_config=lora_config(config.lora),
        **extra,
    )
    if on_trainer is not None:
        on_trainer(trainer)
    trainer.train()
    info = {"config": config.to_dict(), "rows": len(train_rows), "chat_template": template}
    return save_stage(trainer, tokenizer, kind, parent, config.output_dir, info)
