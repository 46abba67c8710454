"""Greedy expansions from a loaded model, rendered exactly as training renders prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qmd_reward.prompts import conversation

# QMD sends /no_think; with thinking off Qwen3's template puts the empty think block in the
# prompt, so the model's first token is already the expansion. Templates without a thinking
# mode (SmolLM2's ChatML) ignore the flag.
CHAT_TEMPLATE_KWARGS = {"enable_thinking": False}


def render_prompt(tokenizer: Any, query: str) -> str:
    """QMD's conversation (node-llama-cpp's system turn, QMD's user turn) through the model's
    own chat template.

    The one rendering of a prompt: generation, ``try`` and evals call it, and training's rows
    carry the same messages and ``CHAT_TEMPLATE_KWARGS`` for TRL to render with the same
    template. The system turn is there because QMD's model sees it
    (:data:`qmd_reward.prompts.SYSTEM_PROMPT`); a template's own default system line (SmolLM2
    has one) is then never used.
    """
    return tokenizer.apply_chat_template(
        conversation(query),
        tokenize=False,
        add_generation_prompt=True,
        **CHAT_TEMPLATE_KWARGS,
    )


def generate(
    model: Any,
    tokenizer: Any,
    queries: Sequence[str],
    *,
    max_new_tokens: int = 200,
    batch_size: int = 16,
) -> list[str]:
    """One greedy completion per query (special tokens removed, as TRL decodes them)."""
    import torch

    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    outputs: list[str] = []
    try:
        for start in range(0, len(queries), batch_size):
            prompts = [render_prompt(tokenizer, q) for q in queries[start : start + batch_size]]
            batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            batch = batch.to(model.device)
            with torch.inference_mode():
                ids = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = ids[:, batch["input_ids"].shape[1] :]
            outputs += tokenizer.batch_decode(new, skip_special_tokens=True)
    finally:
        tokenizer.padding_side = previous_side
    return outputs
