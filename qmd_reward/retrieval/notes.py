"""A corpus document as the row QMD's full-text index would hold for it.

QMD indexes each markdown file as one row of an FTS5 table with three columns
(``documents_fts`` in QMD's ``src/store.ts``):

- ``filepath``: ``collection/path`` of the file;
- ``title``: ``extractTitle`` of the file, its first ``#`` or ``##`` heading, else the
  file name without its extension;
- ``body``: the whole file, heading included.

A corpus has no files, so each document is written as the note QMD would be given: the
file ``d0001.md``, ``d0002.md``, ... (its 1-based place in the corpus) in the collection
``corpus``, holding ``# {title}``, a blank line and the text (the text alone when there is
no title). Neutral names add as few words as possible to the row (``corpus``, ``d0001``,
``md``) and leak nothing about the document, where a name made from a document id
(``prog-01.md``) would put the id's words into every search. ``evals/qmd_parity.py``
writes the same files for real QMD, so both index identical rows.
"""

from __future__ import annotations

from typing import NamedTuple

from qmd_reward.retrieval.chunking import markdown_title
from qmd_reward.retrieval.corpus import Document

COLLECTION = "corpus"

# QMD ranks with bm25(documents_fts, 1.5, 4.0, 1.0): weights in column order.
COLUMN_WEIGHTS = (1.5, 4.0, 1.0)


class NoteRow(NamedTuple):
    """The three FTS5 columns of one note, in the table's order."""

    filepath: str
    title: str
    body: str


def note_name(number: int) -> str:
    """File name of the ``number``-th document (1-based)."""
    return f"d{number:04d}.md"


def note_text(title: str, text: str) -> str:
    """The markdown file written for a document."""
    return f"# {title}\n\n{text}\n" if title else f"{text}\n"


def note_title(content: str, name: str) -> str:
    """QMD's ``extractTitle`` for a markdown file: first heading, else the bare name."""
    return markdown_title(content) or name.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def note_row(doc: Document, number: int) -> NoteRow | None:
    """The FTS5 row QMD indexes for ``doc``, the ``number``-th document (1-based).

    None when QMD would skip the file: it indexes no file whose content is only
    whitespace (JavaScript's ``trim`` also strips a byte-order mark).
    """
    content = note_text(doc.title, doc.text)
    if not content.strip().strip("\ufeff").strip():
        return None
    name = note_name(number)
    return NoteRow(f"{COLLECTION}/{name}", note_title(content, name), content)
