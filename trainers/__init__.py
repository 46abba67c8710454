"""Thin TRL trainers for QMD query-expansion models: configuration, data, model loading.

Scoring lives in :mod:`qmd_reward`; nothing here decides what a good expansion is. Heavy
libraries (torch, transformers, trl, peft) are imported inside the functions that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model(path: str | Path, base: str | Path | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """Load any model directory the trainers wrote, applying its recorded chain.

    See :func:`trainers.loading.load_model`.
    """
    from .loading import load_model as _load_model

    return _load_model(path, base, **kwargs)


__all__ = ["load_model"]
