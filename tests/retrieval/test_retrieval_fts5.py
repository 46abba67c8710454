"""The BM25 index against SQLite FTS5 itself, the engine QMD ranks lex lines with.

Each corpus is loaded into an in-memory FTS5 table laid out as QMD's ``documents_fts``
(columns filepath, title, body; ``tokenize='porter unicode61'``), each line is turned into
QMD's MATCH expression (``evals.qmd_parity.fts5_match``, written apart from the judge's
parser), and FTS5's ``bm25(t, 1.5, 4.0, 1.0)`` order and values are the expected answer.
The rows are written here from QMD's conventions, not by the judge's ``note_row``, which
is checked against the same conventions separately.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.qmd_parity import fts5_match
from qmd_reward.retrieval import BM25Index, Corpus, Document
from qmd_reward.retrieval.notes import NoteRow, note_row


def _fts5_available() -> bool:
    try:
        with sqlite3.connect(":memory:") as db:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(a, tokenize='porter unicode61')")
    except sqlite3.OperationalError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _fts5_available(), reason="this Python's sqlite3 is built without FTS5"
)

RANK_SQL = (
    "SELECT rowid, bm25(t, 1.5, 4.0, 1.0) FROM t WHERE t MATCH ? "
    "ORDER BY bm25(t, 1.5, 4.0, 1.0), rowid"
)


def qmd_row(number: int, title: str, text: str) -> NoteRow | None:
    """The row QMD indexes for the note d{number}.md, for texts without a heading."""
    body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
    if not body.strip():
        return None
    name = f"d{number:04d}"
    return NoteRow(f"corpus/{name}.md", title or name, body)


def fts5_search(corpus: Corpus, lines: Sequence[str]) -> list[list[tuple[str, float]]]:
    """FTS5's ranking of each line: (doc id, score) best first, the score made positive."""
    ids = [doc.doc_id for doc in corpus.documents]
    with sqlite3.connect(":memory:") as db:
        db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(filepath, title, body, tokenize='porter unicode61')"
        )
        for number, doc in enumerate(corpus.documents, 1):
            row = qmd_row(number, doc.title, doc.text)
            if row is not None:
                db.execute(
                    "INSERT INTO t(rowid, filepath, title, body) VALUES (?, ?, ?, ?)",
                    (number, *row),
                )
        results = []
        for line in lines:
            match = fts5_match(line)
            hits = db.execute(RANK_SQL, (match,)).fetchall() if match else []
            results.append([(ids[rowid - 1], -score) for rowid, score in hits])
        return results


def assert_same_as_fts5(corpus: Corpus, lines: Sequence[str]) -> None:
    index = BM25Index.build(corpus, use_cache=False)
    for line, expected in zip(lines, fts5_search(corpus, lines)):
        ours = index.search_line(line, strict=False)
        assert [d for d, _ in ours] == [d for d, _ in expected], line
        for (_, score), (_, want) in zip(ours, expected):
            assert score == pytest.approx(want, rel=1e-9, abs=1e-12), line


NOTES = Corpus(
    (
        Document(
            "ssh", "SSH keys", "Log in to the server with an SSH key: ssh-keygen, then ssh-copy-id."
        ),
        Document("passwd", "", "Change a forgotten login password with passwd on the server."),
        Document("nginx", "Nginx", "Reverse proxy config: proxy_pass to the app server on 8080."),
        Document("tls", "Server certificates", "Rotate the TLS certificate before it expires."),
        Document("bread", "Sourdough", "Sourdough bread needs an active starter and a cold proof."),
        Document("pizza", "", "Pizza dough: flour, water, salt, yeast; proof it overnight."),
        Document(
            "knee", "Knee pain", "Knee pain after running: rest, ice and stretch; pain fades."
        ),
        Document("flight", "", "Book the flight to Lisbon early; the server at the cafe was rude."),
        Document("empty", "", "   "),
        Document("version", "Python 3.12", "Python 3.12 ships a faster interpreter; node.js too."),
        Document("graph", "", "Each node of the graph runs its own interpreter."),
    )
)


@pytest.mark.parametrize(
    "line",
    [
        "server",  # in titles (weight 4) and bodies
        "pain",  # repeated in one note: term frequency
        "knee pain",  # multi-term AND
        "serv",  # prefix: server, serve...
        "proof",
        "ssh",
        "ssh key server",
        '"public key"',
        '"cold proof"',  # a phrase is one unit with its own document frequency
        "ssh-keygen",  # hyphenated: a phrase
        "proof -pizza",  # negation
        'proof -"cold proof"',
        "server -flight -nginx",
        "3.12",  # dotted: ANDed prefix parts
        "node.js",
        "interpreter -node.js",  # a negated dotted term excludes notes holding every part
        "corpus",  # the file path column: every note
        "md",
        "d000",  # prefix of every file name
        "sourdough bread",
        '"md ssh"',  # must not join the file path column to the title
        '"keys log"',  # title then body text: adjacent in the body column
        "the",  # in most notes: IDF at its floor
    ],
)
def test_ranking_equals_fts5(line: str) -> None:
    assert_same_as_fts5(NOTES, [line])


def test_empty_note_is_not_a_row() -> None:
    index = BM25Index.build(NOTES, use_cache=False)
    assert "empty" not in {d for d, _ in index.search_line("corpus")}
    assert index.weights.n_rows == len(NOTES.documents) - 1


def test_overlapping_phrase_occurrences_count() -> None:
    corpus = Corpus(
        (
            Document("three", "", "echo echo echo"),
            Document("two", "", "echo echo golf"),
            Document("one", "", "echo golf echo"),
        )
    )
    assert_same_as_fts5(corpus, ['"echo echo"', "echo", "golf"])


def test_note_row_follows_qmd() -> None:
    docs = (
        Document("a", "Kubernetes", "pods and services"),
        Document("b", "", "no title here"),
        Document("c", "", "intro line\n## Setup steps\nmore"),
        Document("d", "", " \n "),
    )
    assert note_row(docs[0], 1) == (
        "corpus/d0001.md",
        "Kubernetes",
        "# Kubernetes\n\npods and services\n",
    )
    assert note_row(docs[1], 2) == ("corpus/d0002.md", "d0002", "no title here\n")
    # QMD's title is the first # or ## heading of the file, wherever it is.
    assert note_row(docs[2], 3) == (
        "corpus/d0003.md",
        "Setup steps",
        "intro line\n## Setup steps\nmore\n",
    )
    assert note_row(docs[3], 4) is None


# Words the two porter stemmers agree on, with shared prefixes (run/runner/running,
# serve/server) so that prefix terms gather several stems.
WORDS = [
    "alpha",
    "bravo",
    "echo",
    "golf",
    "run",
    "runner",
    "running",
    "serve",
    "server",
    "key",
    "keys",
    "cold",
]
_word = st.sampled_from(WORDS)


@st.composite
def lex_lines(draw: st.DrawFn) -> str:
    """A lex line of plain terms, prefixes, phrases and negations."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["term", "prefix", "phrase", "hyphen"]))
        if kind == "term":
            parts.append(draw(_word))
        elif kind == "prefix":
            word = draw(_word)
            parts.append(word[: draw(st.integers(1, len(word)))])
        elif kind == "phrase":
            parts.append('"' + " ".join(draw(st.lists(_word, min_size=2, max_size=3))) + '"')
        else:
            parts.append(f"{draw(_word)}-{draw(_word)}")
    if draw(st.booleans()):
        parts.append("-" + draw(_word))
    return " ".join(parts)


@settings(max_examples=80, deadline=None)
@given(
    docs=st.lists(
        st.tuples(
            st.lists(_word, max_size=2).map(" ".join),
            st.lists(_word, max_size=14).map(" ".join),
        ),
        min_size=1,
        max_size=12,
    ),
    lines=st.lists(lex_lines(), min_size=1, max_size=4),
)
def test_ranking_equals_fts5_on_random_corpora(
    docs: list[tuple[str, str]], lines: list[str]
) -> None:
    corpus = Corpus(tuple(Document(str(i), title, text) for i, (title, text) in enumerate(docs)))
    assert_same_as_fts5(corpus, lines)
