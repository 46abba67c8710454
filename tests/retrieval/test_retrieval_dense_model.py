"""Dense retrieval on the packaged all-MiniLM-L6-v2 and the shipped corpus.

Skipped without the ``dense`` extra; the test command of the README installs it."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import pytest

from qmd_reward.retrieval import Corpus, Document, RetrievalJudge, TransformersEmbedder, cli
from qmd_reward.retrieval.dense import chunk_corpus
from qmd_reward.retrieval.records import read_records

from retrieval_helpers import SHIPPED


def record_lines(query: str) -> tuple[tuple[str, str], ...]:
    for record in read_records(SHIPPED / "expansions.jsonl"):
        if record.query == query:
            return record.lines
    raise KeyError(query)


def test_embeddings_are_sentence_transformers(minilm: TransformersEmbedder) -> None:
    st = pytest.importorskip("sentence_transformers")
    texts = ["task: search result | query: renew ssl certificate", "title: none | text: a b c"]
    reference = st.SentenceTransformer(str(minilm.path), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    assert np.abs(minilm.embed(texts) - reference).max() < 1e-5


def test_a_hyde_that_bridges_a_vocabulary_gap_raises_the_points(
    shipped_dense: RetrievalJudge,
) -> None:
    # The note says "bad gateway" and "upstream"; the query only "502 error".
    query = "website shows 502 error"
    (hyde,) = [line for line in record_lines(query) if line[0] == "hyde"]
    result = shipped_dense.evaluate_lines(query, [hyde], {"ops-07": 2})
    assert result.dense and result.rank_before > 2
    assert result.rank_after < result.rank_before
    assert result.points > 15
    assert result.lines[0].found == ("ops-07",)


def test_a_generic_hyde_for_an_entity_query_lowers_the_points(
    shipped_dense: RetrievalJudge,
) -> None:
    query = "ssh without password"
    relevant = {"ops-01": 2, "ops-02": 1}
    generic = (
        "hyde",
        "SSH is a popular network protocol used by many developers, first released in 1995.",
    )
    specific = [line for line in record_lines(query) if line[0] == "hyde"]
    hurt = shipped_dense.evaluate_lines(query, [generic], relevant)
    assert hurt.rank_before == 1 and hurt.rank_after > 1
    assert hurt.points < 5
    assert shipped_dense.evaluate_lines(query, specific, relevant).points >= 10


def test_the_dense_path_is_deterministic(
    shipped_dense: RetrievalJudge, minilm: TransformersEmbedder, dense_cache: Path
) -> None:
    records = list(read_records(SHIPPED / "expansions.jsonl"))[:8]
    items = [(r.query, r.lines, {r.query_id: 1}) for r in records]
    first = shipped_dense.evaluate_many(items)
    # A fresh embedder and judge, from the disk cache, judging in another order and batch.
    fresh = TransformersEmbedder(minilm.path, threads=1)
    again = RetrievalJudge.for_corpus(
        Corpus.from_beir(SHIPPED), embedder=fresh, cache_dir=dense_cache
    )
    second = [again.evaluate_lines(*item) for item in reversed(items)][::-1]
    assert second == first
    # The same text embedded alone and within a batch differs by float rounding only.
    text = "task: search result | query: " + records[0].query
    alone = fresh.embed([text])[0]
    batched = fresh.embed([text, *(f"task: search result | query: {r.query}" for r in records)])
    assert np.abs(alone - batched[0]).max() < 1e-5


def test_chunks_fit_the_models_window(minilm: TransformersEmbedder) -> None:
    body = "\n\n".join(
        f"## Step {i}\n" + "Rotate the nginx logs, then restart the upstream service. " * 12
        for i in range(10)
    )
    long_note = Document("long", "Runbook", body)
    texts, _, positions = chunk_corpus(Corpus((long_note,)), minilm)
    assert len(texts) > 5
    with_specials = [n + 2 for n in minilm.count_tokens(texts)]
    assert max(with_specials) <= minilm.max_tokens == 256
    assert positions[0] == 0 and np.all(np.diff(positions) > 0)


def test_a_judge_with_the_model_pickles_without_it(shipped_dense: RetrievalJudge) -> None:
    query = "cookies flat"
    lines = record_lines(query)
    expected = shipped_dense.evaluate_lines(query, lines, {"cook-18": 2})
    copy = pickle.loads(pickle.dumps(shipped_dense))
    assert copy.embedder is not None and copy.embedder._model is None
    copy._vector_cache.clear()  # embed again with the reloaded model
    assert copy.evaluate_lines(query, lines, {"cook-18": 2}) == expected


def test_the_command_reports_each_line_type(
    dense_cache: Path, capsys: pytest.CaptureFixture[str], minilm: TransformersEmbedder
) -> None:
    parser = argparse.ArgumentParser(prog="qmd-reward")
    cli.add_parser(parser.add_subparsers(dest="command"))
    expansions, cache = str(SHIPPED / "expansions.jsonl"), str(dense_cache)
    argv = ["retrieval", expansions, "--corpus", str(SHIPPED), "--cache-dir", cache]
    assert cli.run(parser.parse_args([*argv, "--embed-threads", "1"])) == 0
    out = capsys.readouterr().out
    assert "(BM25 and vectors)" in out and "recall@20" in out
    assert "      hyde Use git reset --soft HEAD~1" in out
    table = out[out.index("per line type") :].splitlines()[2:]
    assert [row.split()[0] for row in table if row.strip()] == ["lex", "vec", "hyde"]


@pytest.mark.parametrize(("pooling", "activation"), [("mean", "Tanh"), ("cls", "Identity")])
def test_a_sentence_transformers_folder_with_dense_layers(
    tmp_path: Path, minilm: TransformersEmbedder, pooling: str, activation: str
) -> None:
    """Folders like embeddinggemma's project the pooled vector through Dense layers: a tiny
    random model saved by sentence-transformers embeds here exactly as there."""
    st = pytest.importorskip("sentence_transformers")
    modules = pytest.importorskip("sentence_transformers.base.modules")
    pooling_module = pytest.importorskip("sentence_transformers.sentence_transformer.modules")
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    base = tmp_path / "base"
    torch.manual_seed(0)
    config = BertConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).save_pretrained(base)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm.path / name, base / name)
    model = st.SentenceTransformer(
        modules=[
            modules.Transformer(str(base), max_seq_length=64),
            pooling_module.Pooling(32, pooling),
            modules.Dense(32, 16, activation_function=getattr(torch.nn, activation)()),
            modules.Dense(16, 8, activation_function=torch.nn.Tanh()),
            modules.Normalize(),
        ],
        device="cpu",
    )
    model.save(str(tmp_path / "st"))
    texts = ["task: search result | query: hello world", "title: none | text: a b c d e f"]
    ours = TransformersEmbedder(tmp_path / "st").embed(texts)
    assert ours.shape == (2, 8)
    assert np.abs(ours - model.encode(texts, normalize_embeddings=True)).max() < 1e-5
