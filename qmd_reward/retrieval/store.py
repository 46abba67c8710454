"""On-disk cache of index arrays, keyed by the corpus content hash.

Stored as an uncompressed ``.npz`` read with ``allow_pickle=False``: loading a cache file
can never execute code, and strings travel as JSON inside a byte array. Any unreadable or
stale file is treated as a miss, so a broken cache only costs a rebuild.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from qmd_reward.retrieval.postings import IndexArrays

CACHE_ENV = "QMD_REWARD_CACHE"
_ARRAY_FIELDS = (
    "token_stem",
    "token_doc",
    "token_col",
    "positions",
    "stem_start",
    "doc_len",
)


def default_cache_dir() -> Path:
    """``$QMD_REWARD_CACHE``, else ``~/.cache/qmd-reward``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "qmd-reward"


def cache_path(cache_dir: Path, content_hash: str) -> Path:
    return cache_dir / f"bm25-{content_hash[:32]}.npz"


def _encode_strings(values: tuple[str, ...]) -> np.ndarray:
    return np.frombuffer(json.dumps(list(values)).encode("utf-8"), dtype=np.uint8)


def _decode_strings(blob: np.ndarray) -> tuple[str, ...]:
    return tuple(json.loads(blob.tobytes().decode("utf-8")))


def save(arrays: IndexArrays, path: Path) -> None:
    payload = {name: getattr(arrays, name) for name in _ARRAY_FIELDS}
    payload["vocab"] = _encode_strings(arrays.vocab)
    payload["doc_ids"] = _encode_strings(arrays.doc_ids)
    save_npz(path, payload)


def save_npz(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as an ``.npz`` atomically, so a concurrent reader never sees half
    a file: written beside ``path``, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **payload)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load(path: Path) -> IndexArrays | None:
    """The cached arrays, or None when the file is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {name: data[name] for name in _ARRAY_FIELDS}
            vocab = _decode_strings(data["vocab"])
            doc_ids = _decode_strings(data["doc_ids"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return IndexArrays(vocab=vocab, doc_ids=doc_ids, **fields)
