"""``qmd-reward export PATH OUT [--gguf TYPE]``: one merged model that loads without the chain.

Without ``--gguf`` OUT is a transformers folder; with it, OUT is one GGUF file for QMD
(llama.cpp), with the chat template and the chain it was merged from inside, written only
after it has been read back and checked against the merged model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base_models import MANIFEST_KEY, resolve_source
from .chat_template import describe_template
from .loading import load_model, plan
from .manifest import MANIFEST, Manifest, write_manifest


def export(
    path: str | Path, out: str | Path, *, base: str | None = None, overwrite: bool = False
) -> Path:
    """Merge ``path``'s chain into a standalone model in ``out`` (its manifest keeps history)."""
    path = resolve_source(path)  # a GGUF source: its cached folder
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} is not empty (pass --overwrite to replace its model)")
    if target.resolve() == Path(path).resolve():
        raise ValueError("export into a different directory than the one exported")
    history = plan(path, base).chain  # checks the chain before anything is loaded
    model, tokenizer = load_model(path, base)
    _save_merged(model, tokenizer, target, history, path)
    return target


def _save_merged(model: Any, tokenizer: Any, target: Path, history: Any, path: Any) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).unlink(missing_ok=True)  # an old manifest must not describe new weights
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    info = {
        "exported_from": str(Path(str(path)).resolve()),
        "chat_template": describe_template(tokenizer),
    }
    write_manifest(target, Manifest("standalone", "export", history, info))


@dataclass(frozen=True)
class GGUFExport:
    path: Path
    gguf_type: str
    pre_tokenizer: str
    notes: tuple[str, ...]
    verification: Any  # trainers.gguf_export.Verification
    size_bytes: int
    convert_seconds: float


def export_gguf(
    path: str | Path,
    out: str | Path,
    gguf_type: str,
    *,
    base: str | None = None,
    overwrite: bool = False,
) -> GGUFExport:
    """Merge ``path``'s chain and write one verified GGUF file of ``gguf_type`` to ``out``.

    A file that fails verification is kept beside OUT as ``OUT.failed`` (for inspection)
    and the export raises :class:`trainers.gguf_tools.GGUFError` with the figures.
    """
    import torch

    from .gguf_export import GGUF_TYPES, convert, verify
    from .gguf_tools import GGUFError

    path = resolve_source(path)  # a GGUF source: its cached folder
    target = Path(out)
    if target.suffix.lower() != ".gguf":
        raise ValueError(f"{target}: with --gguf, OUT is the file to write (name it *.gguf)")
    if gguf_type not in GGUF_TYPES:
        raise ValueError(f"--gguf {gguf_type}: use one of {', '.join(GGUF_TYPES)}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists (pass --overwrite to replace it)")
    history = plan(path, base).chain  # checks the chain before anything is loaded
    # float32 whatever the checkpoint's dtype: the file is rounded once, by the converter.
    model, tokenizer = load_model(path, base, dtype=torch.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    embedded = json.dumps(
        {
            "chain": list(history),
            "exported_from": str(Path(str(path)).resolve()),
            "chat_template": describe_template(tokenizer),
        },
        ensure_ascii=False,
    )
    with tempfile.TemporaryDirectory(prefix=".qmd-export-", dir=target.parent) as tmp:
        merged = Path(tmp) / "merged"
        _save_merged(model, tokenizer, merged, history, path)
        partial = Path(tmp) / target.name
        conversion = convert(merged, partial, gguf_type, {MANIFEST_KEY: embedded})
        result = verify(partial, merged, model, tokenizer, gguf_type)
        if not result.passed:
            failed = target.with_name(target.name + ".failed")
            shutil.move(str(partial), failed)
            raise GGUFError(f"{failed}: {result.summary()}")
        os.replace(partial, target)
    return GGUFExport(
        path=target,
        gguf_type=gguf_type,
        pre_tokenizer=conversion.pre_tokenizer,
        notes=conversion.notes,
        verification=result,
        size_bytes=target.stat().st_size,
        convert_seconds=conversion.seconds,
    )
