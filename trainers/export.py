"""``qmd-reward export PATH OUT``: one merged model that loads without the chain."""

from __future__ import annotations

from pathlib import Path

from .loading import load_model, plan
from .manifest import MANIFEST, Manifest, write_manifest


def export(
    path: str | Path, out: str | Path, *, base: str | None = None, overwrite: bool = False
) -> Path:
    """Merge ``path``'s chain into a standalone model in ``out`` (its manifest keeps history)."""
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} is not empty (pass --overwrite to replace its model)")
    if target.resolve() == Path(path).resolve():
        raise ValueError("export into a different directory than the one exported")
    history = plan(path, base).chain  # checks the chain before anything is loaded
    model, tokenizer = load_model(path, base)
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).unlink(missing_ok=True)  # an old manifest must not describe new weights
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    write_manifest(
        target,
        Manifest("standalone", "export", history, {"exported_from": str(Path(path).resolve())}),
    )
    return target
