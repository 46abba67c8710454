from __future__ import annotations

import numpy as np

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


def test_title_outranks_the_same_words_in_the_text() -> None:
    from qmd_reward.retrieval import Corpus, Document

    # QMD's title column weighs 4 and the body (heading included) counts the word again.
    corpus = Corpus(
        (
            Document("body", "", "kubernetes pods and kubernetes services"),
            Document("title", "Kubernetes", "pods and services"),
        )
    )
    index = BM25Index.build(corpus, use_cache=False)
    assert [d for d, _ in index.search_line("kubernetes")] == ["title", "body"]
    assert [d for d, _ in index.search_line("kubernetes pods")] == ["title", "body"]


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


def test_limit_keeps_corpus_order_among_ties(make_index: IndexFactory) -> None:
    index = make_index(*((f"same-{i}", "identical note text") for i in range(5)))
    assert [d for d, _ in index.search_line("note", limit=2)] == ["same-0", "same-1"]
    assert index.search_line("note", limit=2) == index.search_line("note")[:2]
    assert index.search_line("note", limit=0) == []
