"""QMD's chunking (src/store.ts) and searchVec's best-chunk-per-document search."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from qmd_reward.retrieval import Corpus, DenseIndex, Document
from qmd_reward.retrieval.chunking import (
    CHUNK_OVERLAP_CHARS,
    CHUNK_OVERLAP_TOKENS,
    CHUNK_SIZE_CHARS,
    CHUNK_SIZE_TOKENS,
    chunk_by_tokens,
    chunk_document,
    find_best_cutoff,
    find_code_fences,
    markdown_title,
    scan_break_points,
)
from qmd_reward.retrieval.dense import chunk_budget, chunk_corpus


def section(title: str, words: int) -> str:
    return f"## {title}\n\n" + " ".join(f"w{i}" for i in range(words)) + "\n"


def test_qmds_constants() -> None:
    assert (CHUNK_SIZE_TOKENS, CHUNK_OVERLAP_TOKENS) == (900, 135)
    assert (CHUNK_SIZE_CHARS, CHUNK_OVERLAP_CHARS) == (3600, 540)


def test_a_short_document_is_one_chunk() -> None:
    assert chunk_document("short note") == [("short note", 0)]
    assert chunk_document("") == [("", 0)]


def test_break_points_keep_the_best_score_at_a_position() -> None:
    text = "intro\n# Title\n\n## Sub\ntext\n- item\n1. first\n```\ncode\n```\n"
    points = dict(scan_break_points(text))
    assert points[text.index("\n# Title")] == 100
    assert points[text.index("\n## Sub")] == 90
    assert points[text.index("\n\n## Sub")] == 20  # the blank line before the heading
    assert points[text.index("\n- item")] == 5
    assert points[text.index("\n1. first")] == 5
    assert points[text.index("\n```")] == 80
    assert find_code_fences(text) == [(text.index("\n```"), text.rindex("```") + 3)]


def test_cutoff_prefers_a_heading_over_a_nearer_newline() -> None:
    points = [(100, 90), (190, 1)]
    assert find_best_cutoff(points, 200, window=200) == 100
    assert find_best_cutoff(points, 200, window=50) == 190  # the heading is out of the window
    assert find_best_cutoff([], 200) == 200


def test_long_documents_are_cut_at_headings_with_overlap() -> None:
    doc = "".join(section(f"Part {i}", 150) for i in range(6))
    chunks = chunk_document(doc, max_chars=1500, overlap_chars=100, window_chars=600)
    assert len(chunks) > 1
    for (text, pos), (_, next_pos) in itertools.pairwise(chunks):
        assert doc[pos : pos + len(text)] == text
        end = pos + len(text)
        assert doc[end:].startswith("\n## ")  # cut just before a heading
        assert next_pos == end - 100  # and the next chunk starts 100 characters back
    assert chunks[-1][1] + len(chunks[-1][0]) == len(doc)


def test_never_cut_inside_a_code_fence() -> None:
    intro = "Intro text. " * 25  # 300 characters
    code = "\n```\n" + "\n".join(f"line {i:03d}" for i in range(60)) + "\n```"
    doc = intro + code + "\nAfter the code.\n" + "more words " * 100
    fence_start, fence_end = find_code_fences(doc)[0]
    assert fence_start < 800 < fence_end  # the 800-character target falls in the code
    chunks = chunk_document(doc, max_chars=800, overlap_chars=0, window_chars=700)
    # The newlines inside the fence are skipped; the fence's own start is the cut.
    assert chunks[0] == (doc[:fence_start], 0)


def words(texts: Sequence[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def test_token_chunks_fit_the_limit_and_cover_the_document() -> None:
    doc = "\n\n".join(" ".join(f"t{i}x{j}" for j in range(40)) for i in range(30))
    chunks = chunk_by_tokens(doc, words, max_tokens=100, overlap_tokens=15, window_tokens=22)
    assert len(chunks) > 1
    assert all(n <= 100 for n in words([text for text, _ in chunks]))
    covered = np.zeros(len(doc), dtype=bool)
    for text, pos in chunks:
        assert doc[pos : pos + len(text)] == text
        covered[pos : pos + len(text)] = True
    assert covered.all()


def test_an_oversized_chunk_is_split_again_at_its_measured_density() -> None:
    # 3 characters a token is the first guess; one-letter words are denser than that.
    doc = " ".join("a" for _ in range(2000))
    chunks = chunk_by_tokens(doc, words, max_tokens=300, overlap_tokens=45, window_tokens=66)
    assert all(n <= 300 for n in words([text for text, _ in chunks]))


def test_titles_are_qmds() -> None:
    assert markdown_title("intro\n# Big title\n## Sub") == "Big title"
    assert markdown_title("## Notes\n## Real title") == "Notes"  # QMD's regex finds it again
    assert markdown_title("# Notes\n## Real title") == "Real title"
    assert markdown_title("no heading") is None


def test_chunks_are_the_note_qmd_embeds() -> None:
    """The whole note, heading included, under the title QMD extracts from it (the heading,
    else the file name); an empty note has no chunk, as QMD indexes no empty file."""
    docs = (
        Document("a", "Given", "body a"),
        Document("b", "", "# Heading\nbody b"),
        Document("c", "", "body c"),
        Document("d", "", "   "),
        Document("e", "Last", "body e"),
    )
    texts, numbers, _ = chunk_corpus(Corpus(docs), WordCounter())
    assert texts == [
        "title: Given | text: # Given\n\nbody a\n",
        "title: Heading | text: # Heading\nbody b\n",
        "title: d0003 | text: body c\n",
        "title: Last | text: # Last\n\nbody e\n",
    ]
    assert numbers.tolist() == [0, 1, 2, 4]


class WordCounter:
    """An embedder that counts words as tokens and reads 64 of them."""

    name = "word-counter"
    max_tokens = 64

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return words(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_chunks_shrink_to_the_models_window() -> None:
    size, overlap, window = chunk_budget(WordCounter(), "A title")
    prefix = len("title: A title | text: ".split())
    assert size == 64 - prefix - 2 - 2
    assert overlap == int(size * 0.15) and window == int(size * 200 / 900)
    long_doc = Document("long", "A title", " ".join(f"w{i}" for i in range(500)))
    texts, docs, _ = chunk_corpus(Corpus((long_doc,)), WordCounter())
    assert len(texts) > 1 and set(docs.tolist()) == {0}
    assert all(text.startswith("title: A title | text: ") for text in texts)
    assert all(len(text.split()) <= 64 - 2 for text in texts)


def test_a_document_scores_its_best_chunk_among_three_times_the_limit() -> None:
    # Chunks 0-2 belong to "a", 3 to "b", 4 to "c"; the query points along the first axis.
    vectors = np.array(
        [[0.6, 0.8], [1.0, 0.0], [0.8, 0.6], [0.9, np.sqrt(1 - 0.81)], [0.0, 1.0]],
        dtype=np.float32,
    )
    index = DenseIndex(
        vectors, np.array([0, 0, 0, 1, 2]), np.zeros(5, dtype=np.int64), ("a", "b", "c"), "m"
    )
    ((docs, scores),) = index.search(np.array([[1.0, 0.0]]), limit=3)
    assert docs.tolist() == [0, 1, 2]  # each document once, by its best chunk
    assert scores.tolist() == [1.0, np.float32(0.9), 0.0]
    # With limit 1, searchVec looks at the 3 nearest chunks only: a, b and a again.
    ((docs, _),) = index.search(np.array([[1.0, 0.0]]), limit=1)
    assert docs.tolist() == [0]
    crowded = DenseIndex(
        np.array([[1.0, 0.0]] * 6 + [[0.9, np.sqrt(0.19)]], dtype=np.float32),
        np.array([0, 0, 0, 0, 0, 0, 1]),
        np.zeros(7, dtype=np.int64),
        ("a", "b"),
        "m",
    )
    # limit 2: sqlite-vec returns 6 chunks, all of "a", so "b" is never seen, as in QMD.
    ((docs, _),) = crowded.search(np.array([[1.0, 0.0]]), limit=2)
    assert docs.tolist() == [0]
    ((docs, _),) = crowded.search(np.array([[1.0, 0.0]]), limit=3)
    assert docs.tolist() == [0, 1]
