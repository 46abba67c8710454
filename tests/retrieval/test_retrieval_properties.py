"""Property tests: no text makes the judge raise, and its figures stay in range."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmd_reward.retrieval import BM25Index, RetrievalJudge, parse_lex_line

from retrieval_helpers import corpus_of

INDEX = BM25Index.build(
    corpus_of(
        ("a", "ssh key login to the server with authorized_keys"),
        ("b", "node.js 20 and python 3.12 on a multi-agent server"),
        ("c", "sourdough starter, bread flour and a cold proof"),
        ("d", "Crème brûlée with caramelised sugar; 数据库 notes"),
    ),
    use_cache=False,
)
JUDGE = RetrievalJudge(INDEX)

PIECES = [
    "ssh",
    "key",
    "server",
    "node.js",
    "3.12",
    "multi-agent",
    "sourdough",
    "brûlée",
    "数据库",
    '"',
    "-",
    '-"',
    "'",
    "_",
    ".",
    "*",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "\n",
    "\t",
    "  ",
    "",
]
lex_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(PIECES), max_size=10).map(" ".join),
    st.lists(st.sampled_from(PIECES), max_size=10).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(
    query=lex_text, lines=st.lists(lex_text, max_size=4), relevant=st.sets(st.sampled_from("abcdz"))
)
def test_random_lex_strings_never_raise_and_gain_is_bounded(
    query: str, lines: list[str], relevant: set[str]
) -> None:
    result = JUDGE.evaluate(query, lines, sorted(relevant))
    assert 0.0 <= result.points <= 20.0
    for value in (result.rr_before, result.rr_after, result.ndcg_before, result.ndcg_after):
        assert 0.0 <= value <= 1.0
    assert len(result.lines) == len(lines)
    if not any(not line.dropped and line.matched for line in result.lines):
        assert result.points == pytest.approx(10.0)


@settings(max_examples=300, deadline=None)
@given(line=lex_text)
def test_parse_and_search_never_raise(line: str) -> None:
    parsed = parse_lex_line(line)
    results = INDEX.search_line(line)
    if not parsed.searchable:
        assert results == []
    assert [score for _, score in results] == sorted((s for _, s in results), reverse=True)
    # Top-k selection must pick exactly what a full sort would, ties included.
    assert INDEX.search_line(line, limit=2) == results[:2]
