"""``qmd_manifest.json``: what a model directory is and what it must be loaded on top of.

Every directory the trainers write records its *chain*: the base model first, then each
adapter in the order it was trained (SFT, then GRPO). The original qmd recipe merged the SFT
adapter before adding the GRPO one, so the GRPO adapter is meaningless on the bare base (it
scored 0 %); the chain makes the right order something the loader applies, not something a
user must remember, and the fingerprints make a wrong or changed parent an error.

A chain step is a plain dict:

* base: ``{"type": "base", "source": <hub id or absolute path>, "sha256": <weights or null>}``
* adapter: ``{"type": "adapter", "stage": "sft" | "grpo", "path": <absolute path>,
  "sha256": <adapter weights>}``

The directory's own adapter is the last step of its own chain.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "qmd_manifest.json"
FORMAT = "qmd-manifest/1"
KINDS = ("base", "adapter", "standalone")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")

Step = dict[str, Any]


class ManifestError(RuntimeError):
    """A model directory that cannot be loaded as described; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    kind: str  # base: load directly; adapter: apply the chain; standalone: merged, load directly
    stage: str  # what wrote it: tiny-model, base, sft, grpo, export
    chain: tuple[Step, ...]
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "stage": self.stage,
            "chain": list(self.chain),
            **({"info": self.info} if self.info else {}),
        }

    @property
    def loads_directly(self) -> bool:
        return self.kind in ("base", "standalone")


# -- fingerprints -------------------------------------------------------------------------


def sha256_files(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def weights_sha256(directory: str | Path) -> str | None:
    """Fingerprint of a model directory's weight files (None when it has none locally)."""
    root = Path(directory)
    files = sorted(root.glob("*.safetensors")) or sorted(root.glob("pytorch_model*.bin"))
    return sha256_files(files) if files else None


def adapter_sha256(directory: str | Path) -> str:
    root = Path(directory)
    for name in ADAPTER_WEIGHTS:
        if (root / name).is_file():
            return sha256_files([root / name])
    raise ManifestError(f"{root}: no adapter weights ({' or '.join(ADAPTER_WEIGHTS)})")


# -- steps ----------------------------------------------------------------------------------


def base_step(source: str, revision: str | None = None) -> Step:
    """The first step for a model loaded by hub id or from a local directory.

    A folder dequantised from a GGUF file keeps the file's origin (``gguf``: path and hash),
    so a chain that starts there can rebuild it when the cache has been cleared.
    """
    path = Path(source)
    if path.is_dir():
        step: Step = {"type": "base", "source": str(path.resolve()), "sha256": weights_sha256(path)}
        manifest = read_manifest(path)
        origin = manifest.chain[0].get("gguf") if manifest and manifest.kind == "base" else None
        if origin:
            step["gguf"] = origin
        return step
    return {"type": "base", "source": source, "sha256": None, "revision": revision}


def adapter_step(stage: str, directory: str | Path) -> Step:
    root = Path(directory).resolve()
    return {"type": "adapter", "stage": stage, "path": str(root), "sha256": adapter_sha256(root)}


def describe(step: Step) -> str:
    if step.get("type") == "base":
        origin = step.get("gguf")
        if isinstance(origin, dict) and origin.get("file"):
            return f"base {step.get('source')} (dequantised from {origin['file']})"
        return f"base {step.get('source')}"
    return f"{step.get('stage', 'adapter')} adapter {step.get('path')}"


def same_step(a: Step, b: Step) -> bool:
    """Two steps are the same model when their fingerprints agree (or, without, their names)."""
    if a.get("type") != b.get("type"):
        return False
    if a.get("sha256") and b.get("sha256"):
        return a["sha256"] == b["sha256"]
    if a.get("type") == "base":
        return a.get("source") == b.get("source")
    return False


def is_prefix(parent: Sequence[Step], child: Sequence[Step]) -> bool:
    return len(parent) <= len(child) and all(
        same_step(a, b) for a, b in zip(parent, child, strict=False)
    )


# -- reading and writing ----------------------------------------------------------------


def read_manifest(directory: str | Path) -> Manifest | None:
    """The manifest of a directory, None when it has none; a broken one is an error."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        kind, chain = data["kind"], data["chain"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: unreadable manifest ({exc})") from exc
    if kind not in KINDS or not isinstance(chain, list) or not chain:
        raise ManifestError(f"{path}: manifest needs a kind in {KINDS} and a non-empty chain")
    if not all(isinstance(s, dict) for s in chain) or chain[0].get("type") != "base":
        raise ManifestError(f"{path}: a chain is a list of steps that starts with the base")
    return Manifest(kind, str(data.get("stage", "")), tuple(chain), dict(data.get("info", {})))


def write_manifest(directory: str | Path, manifest: Manifest) -> Path:
    path = Path(directory) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # never leave a half-written manifest behind
    return path


def chain_of(directory: str | Path) -> tuple[Step, ...]:
    """The chain a new adapter trained on ``directory`` extends (its parent chain).

    A base or standalone directory is itself the new chain's base; an adapter directory
    passes on its whole chain.
    """
    manifest = read_manifest(directory)
    if manifest is None:
        return (base_step(str(directory)),)
    if manifest.loads_directly:
        return (base_step(str(directory)),)
    return manifest.chain


def resolve_adapter(step: Step, child_dir: str | Path) -> Path:
    """Where a recorded adapter is now: its recorded path, else beside the child directory.

    Runs are often moved as a whole (``runs/sft`` and ``runs/grpo`` together), so the path
    relative to the child is tried second.
    """
    recorded = Path(step.get("path", ""))
    candidates = [recorded]
    if step.get("relpath"):
        candidates.append(Path(child_dir) / step["relpath"])
    for candidate in candidates:
        if candidate.is_dir() and any((candidate / n).is_file() for n in ADAPTER_WEIGHTS):
            return candidate.resolve()
    raise ManifestError(
        f"{child_dir} was trained on top of the {describe(step)}, which is missing. "
        "Put that directory back (or next to this one, as it was), or load a standalone "
        "model made with `qmd-reward export` while it was still there."
    )


def with_relpaths(chain: Sequence[Step], child_dir: str | Path) -> tuple[Step, ...]:
    """Record each parent adapter's path relative to the child, for moved run directories."""
    child = Path(child_dir).resolve()
    out = []
    for step in chain:
        step = dict(step)
        if step.get("type") == "adapter" and Path(step["path"]) != child:
            step["relpath"] = os.path.relpath(step["path"], child)
        out.append(step)
    return tuple(out)
