"""Turn a config's ``data`` section into ``datasets`` objects for SFT and GRPO.

The rules (dedup, split, caps) live in :mod:`trainers.data.examples`; this module only finds
the input (local files or a hub dataset) and shapes rows the way TRL wants them.
"""

from __future__ import annotations

import glob
import logging
from typing import Any

from ..config import ConfigError, DataConfig
from ..generation import CHAT_TEMPLATE_KWARGS
from .examples import (
    Example,
    LoadReport,
    Split,
    examples_from_objects,
    grpo_rows,
    prepare_examples,
    read_examples,
    sft_row,
)

log = logging.getLogger(__name__)


def expand_files(patterns: tuple[str, ...]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        matched = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matched:
            raise ConfigError(f"data.files: {pattern!r} matches no file")
        files += matched
    return files


def _load(config: DataConfig) -> tuple[list[Example], LoadReport]:
    if config.hub_dataset:
        from datasets import load_dataset

        rows = load_dataset(config.hub_dataset, config.hub_config, split=config.hub_split)
        return examples_from_objects(rows, config.hub_dataset, config.keep_labels)
    return read_examples(expand_files(config.files), config.keep_labels)


def load_split(config: DataConfig) -> Split:
    examples, report = _load(config)
    for error in report.errors[:5]:
        log.warning("skipped: %s", error)
    if config.min_score is not None:
        examples = judged_at_least(examples, config.min_score)
    if not examples:
        raise ConfigError(f"no usable training examples ({report.read} records read)")
    parts = prepare_examples(
        examples,
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        max_samples=config.max_samples,
        max_validation_samples=config.max_validation_samples,
        deduplicate=config.deduplicate,
    )
    log.info(
        "data: %d records, %d kept, %d train, %d validation",
        report.read,
        report.kept,
        len(parts.train),
        len(parts.validation),
    )
    return parts


def judged_at_least(examples: list[Example], min_score: float) -> list[Example]:
    """The examples whose own expansion the judge scores at least ``min_score``, judged in
    the batches `qmd-reward score` uses (so templates shared across queries are caught)."""
    from ._core import SCORE_BATCH, Scorer

    scorer = Scorer()
    kept: list[Example] = []
    for start in range(0, len(examples), SCORE_BATCH):
        batch = examples[start : start + SCORE_BATCH]
        cards = scorer.score_batch([(e.query, e.expansion) for e in batch])
        kept += [e for e, card in zip(batch, cards) if card.score >= min_score]
    log.info("data: %d of %d examples scored %.2f or more", len(kept), len(examples), min_score)
    return kept


def sft_records(examples: tuple[Example, ...]) -> list[dict[str, Any]]:
    """Conversational prompt/completion rows.

    TRL then computes the loss on the completion only, with the prompt rendered as at
    inference (``add_generation_prompt`` with thinking off, so the empty think block is
    prompt, not target). The same rows work with the tiny model's template and with Qwen3's
    own, which has no ``{% generation %}`` markers for ``assistant_only_loss``.
    """
    rows = []
    for example in examples:
        messages = sft_row(example)["messages"]
        rows.append(
            {
                "prompt": messages[:-1],
                "completion": messages[-1:],
                "chat_template_kwargs": dict(CHAT_TEMPLATE_KWARGS),
            }
        )
    return rows


def to_dataset(rows: list[dict[str, Any]]):
    from datasets import Dataset

    return Dataset.from_list(rows) if rows else None


def sft_datasets(split: Split) -> tuple[Any, Any]:
    return to_dataset(sft_records(split.train)), to_dataset(sft_records(split.validation))


def grpo_datasets(split: Split) -> tuple[Any, Any]:
    return to_dataset(grpo_rows(split.train)), to_dataset(grpo_rows(split.validation))
