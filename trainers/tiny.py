"""A tiny Qwen3 (about a million parameters) with its own tokenizer, built offline.

It stands in for ``Qwen/Qwen3-0.6B`` wherever the real model cannot be downloaded: tests,
demos and CPU smoke runs. The tokenizer is a byte-level BPE trained on the training texts,
with Qwen3's special tokens and a Qwen3-style chat template, so every code path (chat
formatting, ``/no_think``, assistant-only loss, GRPO generation) is the real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from qmd_reward.prompts import SYSTEM_PROMPT, user_message
from qmd_reward.records import read_records

from .chat_template import QWEN3_STYLE_TEMPLATE
from .manifest import Manifest, base_step, write_manifest

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
# Not special in Qwen3 either: they survive skip_special_tokens, so think blocks stay visible.
THINK_TOKENS = ("<think>", "</think>")
# The examples shipped inside the package (a copy of the project's data/examples.jsonl), so
# `qmd-reward tiny-model DIR` works from any directory; --data gives real training files.
DEFAULT_DATA = Path(__file__).with_name("tiny_examples.jsonl")
# Qwen's pre-tokenizer split: newline runs are one piece (``\s*[\r\n]+``) whatever follows,
# so a prompt ending in "</think>\n\n" tokenizes the same alone and followed by the answer.
# With GPT-2's split the last newline would join the next word and SFT's prompt masking
# would be off by a token.
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Text every vocabulary should cover even when the training files are few.
_SEED_TEXT = (
    "lex: vec: hyde: /only:lex /only:vec /only:hyde\n"
    + SYSTEM_PROMPT
    + "\n"
    + user_message("how to configure ssh keys")
    + "\n<think>\n\n</think>\n\n"
)


@dataclass(frozen=True)
class TinySpec:
    vocab_size: int = 4096
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 32
    max_position_embeddings: int = 1024
    # About 1/sqrt(hidden_size), not transformers' 0.02: the tied embedding stays frozen under
    # LoRA, and at 0.02 its logits span too little for any adapter to make a confident
    # prediction (the fine-tuned model would still sample near-uniform noise in GRPO).
    initializer_range: float = 0.088
    seed: int = 0


def documents(paths: Sequence[str]) -> Iterator[str]:
    """Each scorable record as one plain document: the query, then its expansion."""
    for path in paths:
        for record in read_records(path):
            if record.scorable:
                yield f"{record.query}\n{record.expansion}"


def training_texts(paths: Sequence[str]) -> Iterator[str]:
    """User and assistant turns of every scorable record (unscorable lines are skipped)."""
    yield _SEED_TEXT
    for path in paths:
        for record in read_records(path):
            if record.scorable:
                yield user_message(record.query or "")
                yield record.expansion or ""


def default_data_files() -> list[str]:
    if not DEFAULT_DATA.is_file():
        raise FileNotFoundError(
            f"{DEFAULT_DATA} is missing from the installed package; pass --data"
        )
    return [str(DEFAULT_DATA)]


def build_tokenizer(paths: Sequence[str], vocab_size: int):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(training_texts(paths), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
        model_max_length=TinySpec.max_position_embeddings,
    )
    tokenizer.add_tokens(list(THINK_TOKENS))
    tokenizer.chat_template = QWEN3_STYLE_TEMPLATE
    return tokenizer


def build_model(tokenizer, spec: TinySpec):
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        head_dim=spec.head_dim,
        max_position_embeddings=spec.max_position_embeddings,
        initializer_range=spec.initializer_range,
        tie_word_embeddings=True,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(spec.seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=[eos, pad], pad_token_id=pad, bos_token_id=pad
    )
    return model


def make_tiny_model(
    out_dir: str | Path,
    data: Sequence[str] | None = None,
    *,
    pretrain_epochs: float = 0.0,
    **spec_args,
) -> Path:
    """Write a tiny Qwen3 base model, its tokenizer and a base manifest to ``out_dir``.

    ``pretrain_epochs`` > 0 first trains all its weights on the data as plain documents
    (see :mod:`trainers.pretrain`); 0 leaves it random, which is all tests need.
    """
    spec = TinySpec(**spec_args)
    files = list(data) if data else default_data_files()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(files, spec.vocab_size)
    model = build_model(tokenizer, spec)
    losses: list[float] = []
    if pretrain_epochs > 0:
        from .pretrain import pretrain

        texts = documents(files)
        losses = pretrain(model, tokenizer, texts, epochs=pretrain_epochs, seed=spec.seed)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "tiny_spec.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")
    params = sum(p.numel() for p in model.parameters())
    from .chat_template import describe_template

    write_manifest(
        out,
        Manifest(
            "base",
            "tiny-model",
            (base_step(str(out)),),
            {
                "parameters": params,
                "data": [str(Path(f).resolve()) for f in files],
                "pretrain_epochs": pretrain_epochs,
                "pretrain_loss": [round(x, 4) for x in losses[:1] + losses[-1:]],
                "chat_template": describe_template(tokenizer),
            },
        ),
    )
    return out
