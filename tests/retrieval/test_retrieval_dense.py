"""Hybrid retrieval with a tiny deterministic embedder: QMD's fusion of BM25 and vector lists,
the line outcomes of every type, batching, caching and the lex-only fallback."""

from __future__ import annotations

import itertools
import logging
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qmd_reward.retrieval import (
    Corpus,
    DenseIndex,
    RetrievalJudge,
    embedding,
    load_embedder,
)
from qmd_reward.retrieval.dense import cache_path
from qmd_reward.retrieval.embedding import format_doc, format_query

from retrieval_helpers import BagOfWords, corpus_of

FILLER = tuple(
    (f"filler-{i}", f"{word} notes about {word} and more {word}")
    for i, word in enumerate(
        "weather garden music chess knitting painting poetry astronomy fishing pottery hiking "
        "cycling baking opera ballet jazz tennis golf sailing climbing skiing surfing".split()
    )
)
NOTES = (
    ("garage", "Automobile brake repair invoice from the mechanic: new pads and discs."),
    ("insurance", "Car insurance renewal: compare quotes before the cost goes up."),
    ("wash", "Car wash prices downtown."),
    ("bike", "Bike puncture repair cost: a patch kit is cheap."),
    (
        "lovelace",
        "Ada Lovelace wrote the first published algorithm, for Babbage's Analytical Engine.",
    ),
    ("ada-lang", "Ada is a programming language for avionics; Lovelace gave it its name."),
    ("bio", "Writing a biography: a person's early life, career, family and legacy."),
    ("famous", "Famous people: the life story of a person, their career and legacy."),
    *FILLER,
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return corpus_of(*NOTES)


@pytest.fixture
def toy() -> BagOfWords:
    return BagOfWords()


@pytest.fixture
def judge(corpus: Corpus, toy: BagOfWords) -> RetrievalJudge:
    return RetrievalJudge.for_corpus(corpus, embedder=toy, use_cache=False)


# -- what the dimension measures -------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        ("vec", "car automobile brake repair by a mechanic"),
        ("hyde", "The mechanic replaced the car's brake pads and discs: an automobile repair."),
    ],
)
def test_vector_line_bridging_a_vocabulary_gap_raises_the_points(
    judge: RetrievalJudge, line: tuple[str, str]
) -> None:
    # The query says "car"; the repair note says "automobile", and BM25 ANDs every term.
    result = judge.evaluate_lines("car repair cost", [line], ["garage"])
    assert result.dense and result.raw_matched == 0
    assert result.rank_before == 4
    assert result.rank_after == 2
    assert result.points > 15
    (outcome,) = result.lines
    assert (outcome.kind, outcome.found, outcome.best_rank) == (line[0], ("garage",), 1)


def test_generic_hyde_for_an_entity_query_lowers_the_points(judge: RetrievalJudge) -> None:
    generic = ("hyde", "Ada Lovelace was a person with a life story, a career and a legacy.")
    specific = ("hyde", "Ada Lovelace wrote the first algorithm for the Analytical Engine.")
    hurt = judge.evaluate_lines("ada lovelace", [generic], ["lovelace"])
    assert (hurt.rank_before, hurt.rank_after) == (1, 2)
    assert hurt.points < 5 and hurt.hurt
    kept = judge.evaluate_lines("ada lovelace", [specific], ["lovelace"])
    assert kept.rank_after == 1 and kept.points == pytest.approx(10.0)


def test_a_line_whose_list_misses_every_relevant_document_is_blind(
    judge: RetrievalJudge,
) -> None:
    lines = [("vec", "car insurance quotes"), ("lex", "surfing"), ("hyde", "surfing a car")]
    result = judge.evaluate_lines("surfing car roof rack", lines, ["filler-21"])
    vec, lex, hyde = result.lines
    assert vec.kind == "vec" and not vec.dropped and vec.found == () and vec.best_rank is None
    assert vec.matched == 20  # a vector list always returns its 20 nearest
    assert lex.found == ("filler-21",) and hyde.found == ("filler-21",)
    assert result.blind == (vec,)


def test_without_an_embedder_vec_and_hyde_lines_are_not_judged(corpus: Corpus) -> None:
    lex_only = RetrievalJudge.for_corpus(corpus, embedder=None, use_cache=False)
    lines = [("lex", "car repair"), ("vec", "car automobile brake"), ("hyde", "a car")]
    result = lex_only.evaluate_lines("car repair cost", lines, ["garage"])
    assert not result.dense
    assert [line.kind for line in result.lines] == ["lex"]
    assert result == lex_only.evaluate("car repair cost", ["car repair"], ["garage"])


def test_evaluate_is_evaluate_lines_with_lex_lines(judge: RetrievalJudge) -> None:
    lines = ["brake repair", "car repair mechanic"]
    assert judge.evaluate("car repair cost", lines, ["garage"]) == judge.evaluate_lines(
        "car repair cost", [("lex", line) for line in lines], ["garage"], fallback=False
    )


def test_unknown_types_are_ignored_and_dropped_lines_kept_with_their_type(
    judge: RetrievalJudge,
) -> None:
    lines = [("LEX", "car"), ("note", "car"), ("vec", "brake pads and discs")]
    result = judge.evaluate_lines("car repair", lines, ["garage"])
    assert [(line.kind, line.dropped) for line in result.lines] == [("vec", True)]


def test_per_type_effects_fuse_the_raw_lists_with_one_type(judge: RetrievalJudge) -> None:
    lines = [
        ("lex", "car wash"),
        ("vec", "car automobile brake repair by a mechanic"),
        ("hyde", "car brake pads"),
    ]
    result = judge.evaluate_lines("car repair cost", lines, ["garage"])
    effects = {effect.kind: effect for effect in result.by_type}
    assert set(effects) == {"lex", "vec", "hyde"}
    assert effects["lex"].rr <= result.rr_before  # a lex line about car washes
    assert effects["vec"].rr > result.rr_before
    assert effects["vec"].lines == 1 and effects["vec"].recall == 1.0


# -- the fusion is QMD's hybridQuery ---------------------------------------------------------


def _bm25_list(judge: RetrievalJudge, text: str) -> list[str]:
    return [doc for doc, _ in judge.index.search_line(text, strict=False, limit=20)]


def _vector_list(corpus: Corpus, toy: BagOfWords, text: str) -> list[str]:
    """searchVec, computed directly: cosine to each note (one chunk each), best first,
    equal similarities in corpus order, 20 kept."""
    docs = toy.embed([format_doc(d.text, None, toy.name) for d in corpus.documents])
    query = toy.embed([format_query(text, toy.name)])[0]
    similarity = docs @ query
    order = sorted(range(len(docs)), key=lambda i: -similarity[i])
    return [corpus.documents[i].doc_id for i in order[:20]]


def _qmd_fusion(lists: Sequence[tuple[list[str], float]]) -> list[str]:
    """reciprocalRankFusion (src/store.ts), written out: weight / (60 + rank + 1) per list,
    +0.05 for a first place in any list, +0.02 for a second or third; a stable sort."""
    score: dict[str, float] = {}
    top: dict[str, int] = {}
    for ranking, weight in lists:
        for rank, doc in enumerate(ranking):
            score[doc] = score.get(doc, 0.0) + weight / (60 + rank + 1)
            top[doc] = min(top.get(doc, rank), rank)
    for doc, rank in top.items():
        score[doc] += 0.05 if rank == 0 else 0.02 if rank <= 2 else 0.0
    return sorted(score, key=lambda doc: -score[doc])[:20]


def test_fused_ranking_equals_a_direct_computation_of_qmds_formula(
    judge: RetrievalJudge, corpus: Corpus
) -> None:
    toy = BagOfWords()
    query = "car repair cost"
    lines = [
        ("hyde", "The mechanic fixed the car brakes; the automobile repair invoice."),
        ("lex", "car insurance"),
        ("vec", "car automobile brake repair by a mechanic"),
        ("vec", "knitting and pottery"),  # no query term: dropped
        ("lex", "repair"),
    ]
    before, after = judge.rankings(query, lines)
    raw_fts, raw_vec = _bm25_list(judge, query), _vector_list(corpus, toy, query)
    # hybridQuery's order: the BM25 lists (raw, then each lex line), then the vector lists
    # (raw, then each vec or hyde line); getHybridRrfWeights: 2 for the raw query's lists.
    expected_after = _qmd_fusion(
        [
            (raw_fts, 2.0),
            (_bm25_list(judge, "car insurance"), 1.0),
            (_bm25_list(judge, "repair"), 1.0),
            (raw_vec, 2.0),
            (_vector_list(corpus, toy, lines[0][1]), 1.0),
            (_vector_list(corpus, toy, lines[2][1]), 1.0),
        ]
    )
    assert before == _qmd_fusion([(raw_fts, 2.0), (raw_vec, 2.0)])
    assert after == expected_after
    result = judge.evaluate_lines(query, lines, ["garage"])
    assert result.rank_after == after.index("garage") + 1
    assert result.rank_before == before.index("garage") + 1


def test_when_no_line_survives_qmd_searches_its_fallback_expansion(
    judge: RetrievalJudge, corpus: Corpus
) -> None:
    toy = BagOfWords()
    query = "car repair cost"
    lines = [("lex", "automobile brakes"), ("vec", "mechanic invoice")]
    result = judge.evaluate_lines(query, lines, ["garage"])
    assert result.fallback and all(line.dropped for line in result.lines)
    raw_fts, raw_vec = _bm25_list(judge, query), _vector_list(corpus, toy, query)
    expected = _qmd_fusion(
        [
            (raw_fts, 2.0),
            (raw_fts, 1.0),  # lex: {query}
            (raw_vec, 2.0),
            (_vector_list(corpus, toy, f"Information about {query}"), 1.0),  # hyde
            (raw_vec, 1.0),  # vec: {query}
        ]
    )
    assert judge.rankings(query, lines)[1] == expected
    # evaluate() sees lex lines only, so it never knows that nothing survived.
    assert not judge.evaluate(query, ["automobile brakes"], ["garage"]).fallback
    off = judge.evaluate_lines(query, lines, ["garage"], fallback=False)
    assert not off.fallback and off.points == pytest.approx(10.0)


# -- batching, caching, determinism ----------------------------------------------------------


def test_a_batch_embeds_every_new_vector_text_once(corpus: Corpus) -> None:
    toy = BagOfWords()
    judge = RetrievalJudge.for_corpus(corpus, embedder=toy, use_cache=False)
    toy.calls.clear()
    shared = ("vec", "car brake repair")
    items = [
        ("car repair cost", [shared, ("hyde", "a car mechanic fixed the brakes")], ["garage"]),
        ("car repair cost", [shared, ("lex", "car"), ("vec", "brake pads")], ["garage"]),
        ("ada lovelace", [("hyde", "Ada Lovelace and the engine")], ["lovelace"]),
    ]
    results = judge.evaluate_many(items)
    assert len(toy.calls) == 1
    assert sorted(toy.calls[0]) == sorted(
        format_query(text, toy.name)
        for text in (
            "car repair cost",
            "car brake repair",
            "a car mechanic fixed the brakes",
            "ada lovelace",
            "Ada Lovelace and the engine",
        )
    )  # "brake pads" has no query term: dropped, never embedded
    again = [judge.evaluate_lines(*item) for item in items]
    assert len(toy.calls) == 1 and again == results


def test_the_dense_path_is_deterministic(corpus: Corpus) -> None:
    lines = [("vec", "car automobile brake"), ("hyde", "car brakes fixed"), ("lex", "car")]
    first = RetrievalJudge.for_corpus(corpus, embedder=BagOfWords(), use_cache=False)
    second = RetrievalJudge.for_corpus(corpus, embedder=BagOfWords(), use_cache=False)
    second.prepare([("ada lovelace", [("vec", "ada lovelace engine")])])  # other batches first
    assert first.evaluate_lines("car repair cost", lines, ["garage"]) == second.evaluate_lines(
        "car repair cost", lines, ["garage"]
    )
    assert first.rankings("car repair cost", lines) == second.rankings("car repair cost", lines)


def test_vectors_round_trip_through_the_disk_cache(corpus: Corpus, tmp_path: Path) -> None:
    toy = BagOfWords()
    built = DenseIndex.build(corpus, toy, tmp_path)
    assert len(toy.calls) == 1
    files = list(tmp_path.glob("dense-*.npz"))
    assert files == [cache_path(tmp_path, built.key)]

    reloaded_by = BagOfWords()
    loaded = DenseIndex.build(corpus, reloaded_by, tmp_path)
    assert reloaded_by.calls == []  # read from disk, nothing embedded
    assert np.array_equal(loaded.vectors, built.vectors)
    assert np.array_equal(loaded.chunk_doc, built.chunk_doc)
    assert (loaded.doc_ids, loaded.model, loaded.key) == (built.doc_ids, built.model, built.key)

    other_model = BagOfWords()
    other_model.name = "another-model"
    assert DenseIndex.build(corpus, other_model, tmp_path).key != built.key
    assert other_model.calls  # another model: embedded again, in its own file
    changed = corpus_of(*NOTES[:-1])
    assert DenseIndex.build(changed, BagOfWords(), tmp_path).key != built.key

    files[0].write_bytes(b"not a zip file")
    rebuilt_by = BagOfWords()
    assert np.array_equal(DenseIndex.build(corpus, rebuilt_by, tmp_path).vectors, built.vectors)
    assert rebuilt_by.calls  # a broken cache file is a miss


def test_indexes_of_different_corpora_or_models_are_refused(corpus: Corpus) -> None:
    toy = BagOfWords()
    other = DenseIndex.build(corpus_of(*NOTES[:3]), toy, use_cache=False)
    index = RetrievalJudge.for_corpus(corpus, embedder=None, use_cache=False).index
    with pytest.raises(ValueError, match="different documents"):
        RetrievalJudge(index, toy, vectors=other)
    vectors = DenseIndex.build(corpus, toy, use_cache=False)
    renamed = BagOfWords()
    renamed.name = "renamed"
    with pytest.raises(ValueError, match="built with"):
        RetrievalJudge(index, renamed, vectors=vectors)
    with pytest.raises(ValueError, match="corpus= or vectors="):
        RetrievalJudge(index, toy)


def test_a_judge_pickles_and_judges_the_same(judge: RetrievalJudge) -> None:
    lines = [("vec", "car automobile brake"), ("lex", "car repair")]
    expected = judge.evaluate_lines("car repair cost", lines, ["garage"])
    copy = pickle.loads(pickle.dumps(judge))
    assert copy.evaluate_lines("car repair cost", lines, ["garage"]) == expected


# -- formats and backends --------------------------------------------------------------------


def test_embedding_formats_are_qmds() -> None:
    gemma = "hf:ggml-org/embeddinggemma-300M-GGUF/embeddinggemma-300M-Q8_0.gguf"
    assert format_query("ssh keys", gemma) == "task: search result | query: ssh keys"
    assert format_doc("body", "Title", gemma) == "title: Title | text: body"
    assert format_doc("body", None, gemma) == "title: none | text: body"
    assert format_query("x", "all-MiniLM-L6-v2@abc") == "task: search result | query: x"
    qwen = "Qwen3-Embedding-0.6B-Q8_0.gguf"
    assert format_query("ssh keys", qwen) == (
        "Instruct: Retrieve relevant documents for the given query\nQuery: ssh keys"
    )
    assert format_doc("body", "Title", qwen) == "Title\nbody"
    assert format_doc("body", "", qwen) == "body"


def test_load_embedder_names(tmp_path: Path) -> None:
    assert load_embedder(None) is None
    assert load_embedder("none") is None
    toy = BagOfWords()
    assert load_embedder(toy) is toy
    with pytest.raises(ValueError, match="no such GGUF file"):
        load_embedder(str(tmp_path / "embeddinggemma-300M-Q8_0.gguf"))
    with pytest.raises(ValueError, match="no such"):
        load_embedder(str(tmp_path / "missing-model"))
    with pytest.raises(ValueError, match=r"config\.json"):
        load_embedder(str(tmp_path))


def test_without_the_extra_dense_is_off_and_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, corpus: Corpus
) -> None:
    monkeypatch.setattr(embedding, "dense_available", lambda: False)
    monkeypatch.setattr(embedding, "_warned", False)
    with caplog.at_level(logging.WARNING, logger=embedding.__name__):
        first = RetrievalJudge.for_corpus(corpus, use_cache=False)  # embedder="auto"
        second = RetrievalJudge.for_corpus(corpus, use_cache=False)
    assert not first.dense and not second.dense
    warnings = [r for r in caplog.records if "Dense retrieval is off" in r.getMessage()]
    assert len(warnings) == 1
    assert "qmd-reward[dense]" in warnings[0].getMessage()


def test_batches_group_texts_of_similar_length() -> None:
    from qmd_reward.retrieval.embedding import BATCH_OVERHEAD_TOKENS, plan_batches

    lengths = [12] + [18] * 8 + [20] * 8 + [32] * 8  # a GRPO batch: query, vec, hyde lines
    batches = plan_batches(lengths, 64)
    assert batches[0][0] == 0 and batches[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(batches))
    assert (17, 25) in batches  # the long hyde lines are not padding the short ones

    def cost(plan: list[tuple[int, int]]) -> int:
        return sum(BATCH_OVERHEAD_TOKENS + (b - a) * lengths[b - 1] for a, b in plan)

    assert cost(batches) < cost([(0, len(lengths))])
    assert all(b - a <= 4 for a, b in plan_batches(lengths, 4))
    assert plan_batches([], 8) == []
