from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from qmd_reward.fts import stems
from qmd_reward.retrieval import BM25Index
from qmd_reward.retrieval.store import cache_path

from retrieval_helpers import IndexFactory, corpus_of

NOTES = (
    ("ssh", "Log in to the server with an SSH key: ssh-keygen, then ssh-copy-id."),
    ("passwd", "Change a forgotten login password with passwd on the server."),
    ("nginx", "Nginx reverse proxy config: proxy_pass to the app server on port 8080."),
    ("tls", "Rotate the TLS certificate before it expires; certbot renews it."),
    ("bread", "Sourdough bread needs an active starter and a long cold proof."),
    ("pizza", "Pizza dough: flour, water, salt, yeast; proof it overnight."),
    ("knee", "Knee pain after running: rest, ice and stretch the quads."),
    ("flight", "Book the flight to Lisbon early; the server at the cafe was rude."),
)


def reference_scores(index: BM25Index, texts: list[str], query: list[str]) -> dict[str, float]:
    model = BM25Okapi([stems(text) for text in texts])
    scores = model.get_scores(query)
    return {doc_id: float(score) for doc_id, score in zip(index.doc_ids, scores)}


def test_scores_equal_rank_bm25_for_whole_stems(make_index: IndexFactory) -> None:
    index = make_index(*NOTES)
    texts = [text for _, text in NOTES]
    vocab = index.arrays.vocab
    for query in (["server"], ["proof"], ["server", "login"], ["sourdough", "starter"]):
        # Whole stems no other stem extends: prefix matching then equals exact matching.
        assert all(sum(v.startswith(q) for v in vocab) == 1 for q in query)
        expected = reference_scores(index, texts, query)
        results = index.search_line(" ".join(query))
        assert results
        for doc_id, score in results:
            assert score == pytest.approx(expected[doc_id], abs=1e-9)


def test_results_are_ranked_best_first(make_index: IndexFactory) -> None:
    index = make_index(*NOTES)
    scores = [score for _, score in index.search_line("server")]
    assert scores == sorted(scores, reverse=True)
    assert {doc for doc, _ in index.search_line("server")} == {"ssh", "passwd", "nginx", "flight"}


def test_plain_terms_are_prefix_matches(make_index: IndexFactory) -> None:
    index = make_index(("a", "authentication with tokens"), ("b", "author of the book"))
    assert {d for d, _ in index.search_line("auth")} == {"a", "b"}
    assert [d for d, _ in index.search_line("authent")] == ["a"]


def test_terms_are_anded(make_index: IndexFactory) -> None:
    index = make_index(*NOTES)
    assert [d for d, _ in index.search_line("ssh key server")] == ["ssh"]
    assert index.search_line("ssh key server nginx") == []


def test_quoted_phrase_needs_adjacency(make_index: IndexFactory) -> None:
    index = make_index(
        ("adjacent", "the public key goes on the server"),
        ("apart", "the key is public on the server"),
    )
    assert [d for d, _ in index.search_line('"public key"')] == ["adjacent"]
    assert {d for d, _ in index.search_line("public key")} == {"adjacent", "apart"}


def test_phrase_does_not_span_documents(make_index: IndexFactory) -> None:
    index = make_index(("first", "ends with public"), ("second", "key starts this one"))
    assert index.search_line('"public key"') == []


def test_hyphenated_term_is_a_phrase(make_index: IndexFactory) -> None:
    index = make_index(("p", "a multi-agent system"), ("s", "multi tenant agent"))
    assert [d for d, _ in index.search_line("multi-agent")] == ["p"]


def test_negation_removes_documents(make_index: IndexFactory) -> None:
    index = make_index(*NOTES)
    assert {d for d, _ in index.search_line("proof")} == {"bread", "pizza"}
    assert [d for d, _ in index.search_line("proof -pizza")] == ["bread"]
    assert [d for d, _ in index.search_line('proof -"cold proof"')] == ["pizza"]


def test_invalid_lines_match_nothing(make_index: IndexFactory) -> None:
    index = make_index(*NOTES)
    assert index.search_line("-pizza") == []
    assert index.search_line('"server') == []
    assert index.search_line("") == []
    assert index.search_line('"server', strict=False) != []


def test_title_and_text_are_indexed_together() -> None:
    from qmd_reward.retrieval import Corpus, Document

    corpus = Corpus((Document("d", "Kubernetes", "pods and services"),))
    index = BM25Index.build(corpus, use_cache=False)
    assert index.search_line("kubernetes pods") == index.search_line("kubernetes services")
    assert index.search_line("kubernetes pods")


def test_empty_corpus() -> None:
    index = BM25Index.build(corpus_of(), use_cache=False)
    assert index.search_line("anything") == []


def test_cache_round_trip(tmp_path) -> None:
    corpus = corpus_of(*NOTES)
    built = BM25Index.build(corpus, tmp_path)
    path = cache_path(tmp_path, corpus.content_hash)
    assert path.is_file()
    loaded = BM25Index.build(corpus, tmp_path)
    assert loaded.arrays.vocab == built.arrays.vocab
    assert np.array_equal(loaded.arrays.positions, built.arrays.positions)
    assert loaded.search_line("server login") == built.search_line("server login")


def test_corrupt_cache_is_rebuilt(tmp_path) -> None:
    corpus = corpus_of(*NOTES)
    path = cache_path(tmp_path, corpus.content_hash)
    path.write_bytes(b"not a zip file")
    index = BM25Index.build(corpus, tmp_path)
    assert index.search_line("server")
    assert BM25Index.build(corpus, tmp_path).search_line("server") == index.search_line("server")


def test_cache_key_follows_content() -> None:
    assert corpus_of(("a", "one")).content_hash != corpus_of(("a", "two")).content_hash


# Words whose porter stems never prefix one another, so prefix search equals exact search.
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "kilo"]


@settings(max_examples=60, deadline=None)
@given(
    # rank-bm25 divides by the vocabulary size, so some document must have words.
    docs=st.lists(st.lists(st.sampled_from(WORDS), max_size=12), min_size=1, max_size=15).filter(
        any
    ),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
)
def test_bm25_equals_rank_bm25_on_random_corpora(docs: list[list[str]], query: list[str]) -> None:
    texts = [" ".join(words) for words in docs]
    index = BM25Index.build(corpus_of(*((str(i), t) for i, t in enumerate(texts))), use_cache=False)
    query_stems = stems(" ".join(query))
    expected = reference_scores(index, texts, query_stems)
    results = index.search_line(" ".join(query))
    matching = {str(i) for i, words in enumerate(docs) if set(query) <= set(words)}
    assert {doc_id for doc_id, _ in results} == matching
    for doc_id, score in results:
        assert abs(score - expected[doc_id]) <= 1e-9


def test_limit_keeps_corpus_order_among_ties(make_index: IndexFactory) -> None:
    index = make_index(*((f"same-{i}", "identical note text") for i in range(5)))
    assert [d for d, _ in index.search_line("note", limit=2)] == ["same-0", "same-1"]
    assert index.search_line("note", limit=2) == index.search_line("note")[:2]
    assert index.search_line("note", limit=0) == []
