"""The one way to load a trained model: ``load_model(path) -> (model, tokenizer)``.

It reads the directory's manifest and applies its chain: load the base, then merge each
adapter in the order it was trained. Everything is checked before any weights are read, so a
missing or changed parent fails in a second with a message that says what to do, instead of
producing a model that silently scores 0 %.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base_models import resolve_source
from .manifest import (
    ManifestError,
    Step,
    adapter_sha256,
    base_step,
    describe,
    is_prefix,
    read_manifest,
    resolve_adapter,
    weights_sha256,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadPlan:
    """What to load first (a model directly loadable) and which adapters to merge on it."""

    start: str  # hub id or directory
    start_revision: str | None
    start_is_chain: bool  # start is itself an adapter directory: load it with load_model
    adapters: tuple[Path, ...]
    chain: tuple[Step, ...]


def _chain_text(chain: tuple[Step, ...] | list[Step]) -> str:
    return " -> ".join(describe(s) for s in chain)


def _identity_chain(base: str) -> tuple[tuple[Step, ...], bool]:
    """The chain a user-given ``base`` stands for, and whether it is an adapter directory."""
    manifest = read_manifest(base) if Path(base).is_dir() else None
    if manifest is None:
        if Path(base, "adapter_config.json").is_file():
            raise ManifestError(
                f"{base} is an adapter without a qmd_manifest.json: its parents are unknown, "
                "so nothing can be safely loaded on top of it."
            )
        return (base_step(base),), False
    return manifest.chain, not manifest.loads_directly


def _check_base(step: Step, target: str) -> str:
    """Where the recorded base is now (checked); a cleared GGUF cache is rebuilt first."""
    source = str(step.get("source", ""))
    if step.get("sha256") is None:
        return source  # a hub id: identified by its name (and revision) only
    if not Path(source).is_dir() and step.get("gguf"):
        from .base_models import rebuild

        rebuilt = rebuild(step)
        if rebuilt is not None:
            log.info("rebuilt the base %s from %s", rebuilt, step["gguf"].get("file"))
            source = str(rebuilt)
    if not Path(source).is_dir():
        origin = step.get("gguf") or {}
        where = f" (dequantised from {origin.get('file')})" if origin else ""
        raise ManifestError(
            f"{target} needs its base model at {source}{where}, which is missing. Pass the "
            "same model with load_model(path, base=...) (it is checked against the recorded "
            "fingerprint)."
        )
    if weights_sha256(source) != step["sha256"]:
        raise ManifestError(
            f"The base model at {source} has changed since {target} was trained on it "
            "(weights fingerprint differs). Adapters only work on the exact model they were "
            "trained on."
        )
    return source


def plan(path: str | Path, base: str | Path | None = None) -> LoadPlan:
    """Check a directory's chain (and an optional replacement base) without loading weights.

    A ``.gguf`` path or ``package:NAME`` (for ``path`` or ``base``) stands for its cached,
    dequantised folder; the first use of a file creates that folder.
    """
    target = resolve_source(path)
    base = None if base is None else resolve_source(base)
    manifest = read_manifest(target) if Path(target).is_dir() else None
    if manifest is None:
        if Path(target, "adapter_config.json").is_file():
            raise ManifestError(
                f"{target} is an adapter directory without qmd_manifest.json, so what it must be "
                "loaded on top of is unknown. Adapters written by `qmd-reward train` carry one."
            )
        if base is not None:
            raise ManifestError(f"base= only applies to adapter directories; {target} is a model")
        return LoadPlan(target, None, False, (), (base_step(target),))
    if manifest.loads_directly:
        if base is not None:
            raise ManifestError(
                f"{target} is a {manifest.kind} model that loads on its own; base= does not apply"
            )
        return LoadPlan(target, None, False, (), manifest.chain)

    chain = manifest.chain
    if base is None:
        start_step, start_is_chain = chain[0], False
        start_chain: tuple[dict[str, Any], ...] = (chain[0],)
        start, revision = _check_base(start_step, target), start_step.get("revision")
    else:
        start_chain, start_is_chain = _identity_chain(str(base))
        if not is_prefix(start_chain, chain):
            raise ManifestError(
                f"{target} cannot be loaded on {base}.\n"
                f"  it was trained on: {_chain_text(chain[:-1])}\n"
                f"  the base given is: {_chain_text(start_chain)}\n"
                "An adapter only works on top of the exact chain it was trained on (a GRPO "
                "adapter put on the bare base, without the merged SFT adapter, scores 0 %). "
                "Call load_model(path) without base= to apply the recorded chain."
            )
        start, revision = str(base), None

    adapters = []
    for index in range(len(start_chain), len(chain)):
        step = chain[index]
        # The directory's own adapter is the directory itself, wherever it has been moved.
        is_own = index == len(chain) - 1
        where = Path(target).resolve() if is_own else resolve_adapter(step, target)
        if adapter_sha256(where) != step.get("sha256"):
            raise ManifestError(
                f"The {describe(step)} has changed since {target} was trained on top of it "
                f"(found at {where}; weights fingerprint differs). Retraining a parent "
                "invalidates everything trained after it: retrain this stage too."
            )
        adapters.append(where)
    return LoadPlan(start, revision, start_is_chain, tuple(adapters), chain)


def _tokenizer_source(path: str, load_plan: LoadPlan) -> str:
    for candidate in (path, *reversed([str(a) for a in load_plan.adapters]), load_plan.start):
        if Path(candidate, "tokenizer_config.json").is_file():
            return candidate
    return load_plan.start


def load_model(
    path: str | Path,
    base: str | Path | None = None,
    *,
    dtype: Any = "auto",
    device_map: Any = None,
    **model_kwargs: Any,
) -> tuple[Any, Any]:
    """Load ``path`` (a base, SFT, GRPO or exported directory, a hub id, a ``.gguf`` file or
    ``package:NAME``) ready to generate.

    Adapters are merged, so the result is a plain ``transformers`` model. ``base`` replaces
    where the chain starts (a local copy of the base model, or an earlier stage of the same
    chain); it is checked against the recorded chain and refused when it differs.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_source(path)
    load_plan = plan(path, base)
    if load_plan.start_is_chain:
        model, _ = load_model(load_plan.start, dtype=dtype, device_map=device_map, **model_kwargs)
    else:
        kwargs = dict(model_kwargs)
        if load_plan.start_revision:
            kwargs.setdefault("revision", load_plan.start_revision)
        model = AutoModelForCausalLM.from_pretrained(
            load_plan.start, dtype=dtype, device_map=device_map, **kwargs
        )
    for adapter in load_plan.adapters:
        log.info("merging adapter %s", adapter)
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(_tokenizer_source(str(path), load_plan))
    _check_template(str(path), tokenizer)
    model.eval()
    return model, tokenizer


def _check_template(path: str, tokenizer: Any) -> None:
    """Warn when the tokenizer's chat template is not the one the manifest says was trained."""
    from .chat_template import template_sha256

    manifest = read_manifest(path) if Path(path).is_dir() else None
    recorded = manifest.info.get("chat_template") if manifest else None
    if not isinstance(recorded, dict) or not recorded.get("sha256"):
        return
    if template_sha256(getattr(tokenizer, "chat_template", None)) != recorded["sha256"]:
        log.warning(
            "%s: the tokenizer's chat template differs from the one it was trained with "
            "(%s); prompts will not be rendered as in training",
            path,
            recorded.get("name"),
        )
