"""A short language-model pretraining pass for the tiny base model.

A real base model (Qwen3) already knows the language, and LoRA fine-tuning only adapts it.
A randomly initialised tiny model knows nothing, and a LoRA adapter on frozen random weights
learns too slowly to say anything about the training recipe. Training all of the tiny
model's weights on the plain training texts first (no chat template: documents, not
conversations) gives it the same starting point in miniature.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


def pack(token_lists: Iterable[list[int]], block: int, separator: int) -> list[list[int]]:
    """Concatenate documents (each followed by ``separator``) and cut fixed-size blocks."""
    stream: list[int] = []
    for tokens in token_lists:
        stream += [*tokens, separator]
    return [stream[i : i + block] for i in range(0, len(stream) - block + 1, block)]


def pretrain(
    model: Any,
    tokenizer: Any,
    texts: Iterable[str],
    *,
    epochs: float,
    block: int = 128,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Full-parameter causal-LM training on ``texts``; returns the loss of each step."""
    import torch

    separator = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    blocks = pack((tokenizer.encode(t, add_special_tokens=False) for t in texts), block, separator)
    if not blocks or epochs <= 0:
        return []
    steps = max(1, math.ceil(len(blocks) * epochs / batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps))
    )
    order = random.Random(seed)
    queue: list[list[int]] = []
    losses: list[float] = []
    model.train()
    for _ in range(steps):
        if len(queue) < batch_size:
            more = list(blocks)
            order.shuffle(more)
            queue += more
        batch = torch.tensor(queue[:batch_size])
        del queue[:batch_size]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    model.eval()
    log.info("pretrained %d steps, loss %.3f -> %.3f", steps, losses[0], losses[-1])
    return losses
