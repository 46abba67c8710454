"""GGUF embedding models, QMD's own kind, run by llama.cpp through llama-cpp-python.

QMD embeds with node-llama-cpp, which is llama.cpp under node; llama-cpp-python runs the
same library from Python, so a GGUF embedding model (embeddinggemma, a Qwen3 embedding
model, all-MiniLM-L6-v2 converted) gives the judge the vectors QMD's own index holds. The
bindings compile llama.cpp when pip installs them (about 7 minutes on two cores), so they
are an extra of their own (``gguf-embed``), apart from ``dense``.

Each text is embedded in a llama.cpp batch of its own. Rows embedded together differ from
rows embedded alone in the fifth decimal, so batching would make a line's vector, and its
score, depend on which completions share a call; alone it is the same every time, and for
the short lines of a GRPO batch it is no slower on a CPU.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

INSTALL_HINT = 'pip install "qmd-reward[gguf-embed]" (llama-cpp-python; it compiles llama.cpp)'
_HEAD_AND_TAIL = 1 << 20
# Calls of at most this many texts run on one thread, as in the transformers backend
# (embedding.SMALL_CALL; not imported: embedding.load_embedder imports this module).
SMALL_CALL = 64
_DEFAULT_BATCH = 512  # llama.cpp's batch size, the size of a BERT model's context


def gguf_available() -> bool:
    """Whether llama-cpp-python is installed."""
    return importlib.util.find_spec("llama_cpp") is not None


def _fingerprint(path: Path) -> str:
    """Cheap identity of a model file: its size and its first and last MiB (the header
    holds the metadata; hashing the weights whole would take seconds)."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"{path.name}:{size}\0".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(_HEAD_AND_TAIL))
        if size > _HEAD_AND_TAIL:
            handle.seek(max(_HEAD_AND_TAIL, size - _HEAD_AND_TAIL))
            digest.update(handle.read(_HEAD_AND_TAIL))
    return digest.hexdigest()[:16]


class GGUFEmbedder:
    """A GGUF embedding model, loaded on first use.

    ``max_tokens``: the longest input, special tokens included; longer input is cut there
    (default: the model's training context, which is what QMD's embedding context gets).
    ``threads``: llama.cpp threads. ``"auto"`` (the default), as for the transformers
    backend: one thread for a call of at most ``SMALL_CALL`` texts (the short lines of a
    scoring batch, where on a shared CPU idle worker threads spin against other jobs), every
    core for bigger calls (a corpus).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        max_tokens: int | None = None,
        threads: int | Literal["auto"] = "auto",
    ) -> None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ValueError(f"no such GGUF file: {file}")
        if not gguf_available():
            raise ModuleNotFoundError(f"{file}: GGUF embedding models need {INSTALL_HINT}")
        self.path = file
        self.name = name or f"{file.stem}@{_fingerprint(file)}"
        self.threads: int | Literal["auto"] = threads if threads == "auto" else max(1, int(threads))
        self._max_tokens = max_tokens
        self._model: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GGUFEmbedder({str(self.path)!r}, name={self.name!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def max_tokens(self) -> int:
        if self._max_tokens is None:
            _ = self.model  # loading reads the model's training context
        assert self._max_tokens is not None
        return self._max_tokens

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _open(self, size: int | None) -> Any:
        from llama_cpp import Llama

        # n_ctx 0 is the model's own context. A non-causal model reads a whole input in one
        # micro-batch, so both batch sizes must hold the longest input.
        return Llama(
            model_path=str(self.path),
            embedding=True,
            n_ctx=size or 0,
            n_batch=size or _DEFAULT_BATCH,
            n_ubatch=size or _DEFAULT_BATCH,
            n_threads=1,
            n_threads_batch=1,
            verbose=False,
        )

    def _load(self) -> Any:
        model = self._open(self._max_tokens)
        architecture = model.metadata.get("general.architecture", "")
        if f"{architecture}.pooling_type" not in model.metadata:
            model.close()
            # A generative model pools nothing: llama.cpp would give one row per token.
            raise ValueError(f"{self.path}: not an embedding model (its GGUF names no pooling)")
        if self._max_tokens is None:
            trained = model.metadata.get(f"{architecture}.context_length", "")
            self._max_tokens = int(trained) if trained.isdigit() else _DEFAULT_BATCH
            if self._max_tokens != _DEFAULT_BATCH:
                model.close()
                model = self._open(self._max_tokens)
        return model

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, special tokens excluded."""
        model = self.model
        with self._lock:
            return [
                len(model.tokenize(str(t).encode("utf-8"), add_bos=False, special=False))
                for t in texts
            ]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, each embedded alone (see the module)."""
        from llama_cpp import llama_set_n_threads

        model = self.model
        threads = self.threads
        if threads == "auto":
            threads = 1 if len(texts) <= SMALL_CALL else os.cpu_count() or 1
        with self._lock:
            llama_set_n_threads(model.ctx, threads, threads)
            rows = [model.embed([str(t)], normalize=True, truncate=True)[0] for t in texts]
        if not rows:
            return np.zeros((0, model.n_embd()), dtype=np.float32)
        return np.asarray(rows, dtype=np.float32)
