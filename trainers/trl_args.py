"""Build TRL's ``SFTConfig`` / ``GRPOConfig`` from a config's ``training`` section."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from .config import ConfigError


def training_keys(config_cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(config_cls) if f.init}


def check_training_keys(config_cls: type, training: Mapping[str, Any]) -> None:
    """Unknown ``training.*`` keys are errors, with the nearest real names as a hint."""
    known = training_keys(config_cls)
    problems = []
    for key in sorted(set(training) - known):
        close = difflib.get_close_matches(key, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(f"training.{key}{hint}")
    if problems:
        raise ConfigError(
            f"unknown {config_cls.__name__} key(s): {'; '.join(problems)}. The training "
            "section is passed to TRL as-is; see its documentation for the accepted keys."
        )


def build_args(config_cls: type, training: Mapping[str, Any], **fixed: Any) -> Any:
    check_training_keys(config_cls, training)
    try:
        return config_cls(**{**training, **fixed})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config_cls.__name__}: {exc}") from exc


def trl_config_class(kind: str) -> type:
    if kind == "sft":
        from trl import SFTConfig

        return SFTConfig
    from trl import GRPOConfig

    return GRPOConfig
