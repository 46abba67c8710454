"""Parity of the judge's BM25 lists with real QMD's (``qmd search``), line by line.

The corpus is written as one markdown file per document, as a user's notes would be:
``# {title}`` then a blank line and the text (no heading when there is no title), in the
collection ``corpus``. These are the notes the judge indexes (``qmd_reward.retrieval.notes``:
the file path, title and body columns of QMD's FTS5 table). Files are named ``d0001.md``
... in corpus order, so QMD's rowids follow corpus order (the judge's tie order) and the
names add as few words as possible to the searchable file path column.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.qmd_runner import QmdHit, QmdHome
from qmd_reward.parse import parse_expansion
from qmd_reward.retrieval import BM25Index, Corpus
from qmd_reward.retrieval.notes import COLLECTION, note_name, note_text, note_title


def write_notes(corpus: Corpus, folder: Path, *, names: str = "neutral") -> dict[str, str]:
    """Write every document as a markdown file; return the map file path -> document id.
    ``names="ids"`` names files by document id instead (``prog-01.md``)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_path: dict[str, str] = {}
    for number, doc in enumerate(corpus.documents, 1):
        name = note_name(number) if names == "neutral" else f"{_safe(doc.doc_id)}.md"
        (folder / name).write_text(note_text(doc.title, doc.text), encoding="utf-8")
        by_path[name] = doc.doc_id
    return by_path


def _safe(doc_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in doc_id)


def lex_lines(expansions: Path) -> list[tuple[str, str]]:
    """(query id or query, lex line) for every lex line of an eval-format JSONL file."""
    found: list[tuple[str, str]] = []
    for raw in expansions.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        record = json.loads(raw)
        label = str(record.get("query_id") or record.get("query", ""))
        for line in parse_expansion(str(record.get("expansion", ""))).lines:
            if line.type == "lex":
                found.append((label, line.text))
    return found


@dataclass(frozen=True)
class LineParity:
    label: str
    line: str
    ours: tuple[str, ...]
    qmd: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return self.ours == self.qmd

    @property
    def same_set(self) -> bool:
        return set(self.ours) == set(self.qmd)

    @property
    def overlap(self) -> float:
        """|ours ∩ qmd| / max(|ours|, |qmd|); 1.0 when both are empty."""
        size = max(len(self.ours), len(self.qmd))
        return 1.0 if size == 0 else len(set(self.ours) & set(self.qmd)) / size


@dataclass(frozen=True)
class ParityReport:
    lines: tuple[LineParity, ...]
    depth: int

    @property
    def identical_share(self) -> float:
        return sum(p.identical for p in self.lines) / len(self.lines) if self.lines else 1.0

    @property
    def same_set_share(self) -> float:
        return sum(p.same_set for p in self.lines) / len(self.lines) if self.lines else 1.0

    @property
    def mean_overlap(self) -> float:
        return sum(p.overlap for p in self.lines) / len(self.lines) if self.lines else 1.0

    @property
    def disagreeing(self) -> tuple[LineParity, ...]:
        return tuple(p for p in self.lines if not p.identical)


def ours_ranking(index: BM25Index, line: str, depth: int) -> tuple[str, ...]:
    """The judge's list for a lex line: what ``RetrievalJudge`` searches for one (an
    expansion line is read without the typed-query checks, ``strict=False``)."""
    return tuple(doc for doc, _ in index.search_line(line, strict=False, limit=depth))


def qmd_ranking(hits: Sequence[QmdHit], by_path: dict[str, str]) -> tuple[str, ...]:
    return tuple(by_path.get(hit.path, f"?{hit.path}") for hit in hits)


def compare(
    corpus: Corpus,
    lines: Iterable[tuple[str, str]],
    home: QmdHome,
    folder: Path,
    *,
    depth: int = 10,
    names: str = "neutral",
) -> ParityReport:
    """Index ``corpus`` in ``home`` (files under ``folder``) and compare every line."""
    by_path = write_notes(corpus, folder, names=names)
    home.add_collection(folder, COLLECTION)
    index = BM25Index.build(corpus, use_cache=False)
    results = []
    for label, line in lines:
        ours = ours_ranking(index, line, depth)
        theirs = qmd_ranking(home.search(line, depth, collection=COLLECTION), by_path)
        results.append(LineParity(label, line, ours, theirs))
    return ParityReport(tuple(results), depth)


# -- an FTS5 laboratory: QMD's scoring rebuilt in SQLite, one factor changed at a time --------
#
# Python's sqlite3 ships FTS5 with the same porter unicode61 tokenizer, so QMD's index can be
# rebuilt in memory and searched with variants (column weights, columns, content). Each
# variant's agreement with ours and with QMD attributes a disagreement to its cause. The
# MATCH string is built as QMD's buildFTS5Query builds it (src/store.ts), in our own code;
# CJK normalisation is left out (the shipped corpus has none).

_WORD = r"[^\W_]"
_HYPHENATED = re.compile(rf"^{_WORD}(?:{_WORD}|['-])*-{_WORD}(?:{_WORD}|['-])*$")
_DOTTED_PART = re.compile(r"^\w+$")
_NOT_KEPT = re.compile(r"[^\w']")


def _clean(term: str) -> str:
    return _NOT_KEPT.sub("", term).lower()


def _dotted(term: str) -> bool:
    parts = term.split(".")
    return len(parts) >= 2 and all(part and _DOTTED_PART.match(part) for part in parts)


def _phrase(text: str) -> str:
    words: list[str] = []
    for token in text.split():
        if _dotted(token):
            words += [p for p in (_clean(part) for part in token.split(".")) if p]
        elif cleaned := _clean(token):
            words.append(cleaned)
    return " ".join(words)


def fts5_match(line: str) -> str | None:
    """The FTS5 MATCH expression QMD searches for a lex line, or None (nothing to search)."""
    positive: list[str] = []
    negative: list[str] = []
    text, i = line.strip(), 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        negated = text[i] == "-"
        i += negated
        parts: list[str] = []
        if i < len(text) and text[i] == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            phrase = _phrase(text[i + 1 : end].strip())
            i = end + 1
            parts = [f'"{phrase}"'] if phrase else []
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] != '"':
                i += 1
            term = text[start:i]
            if _HYPHENATED.match(term):
                phrase = " ".join(p for p in (_clean(x) for x in term.split("-")) if p)
                parts = [f'"{phrase}"'] if phrase else []
            elif _dotted(term):
                pieces = [f'"{p}"*' for p in (_clean(x) for x in term.split(".")) if p]
                parts = ([f"({' AND '.join(pieces)})"] if negated else pieces) if pieces else []
            elif cleaned := _clean(term):
                parts = [f'"{cleaned}"*']
        (negative if negated else positive).extend(parts)
    if not positive:
        return None
    query = " AND ".join(positive)
    for clause in negative:
        query = f"{query} NOT {clause}"
    return query


@dataclass(frozen=True)
class Variant:
    """One way to index and weigh: which columns, with what content and bm25 weights."""

    name: str
    columns: tuple[str, ...]  # any of "filepath", "title", "body", "text" (title + text)
    weights: tuple[float, ...]


VARIANTS = (
    Variant("qmd", ("filepath", "title", "body"), (1.5, 4.0, 1.0)),
    Variant("qmd, title weight 1", ("filepath", "title", "body"), (1.5, 1.0, 1.0)),
    Variant("qmd, no filepath column", ("title", "body"), (4.0, 1.0)),
    Variant("qmd, no title column", ("filepath", "body"), (1.5, 1.0)),
    Variant("one field (title + text), FTS5 bm25", ("text",), (1.0,)),
)


def _column_text(column: str, path: str, doc_title: str, doc_text: str) -> str:
    content = note_text(doc_title, doc_text)
    if column == "filepath":
        return f"{COLLECTION}/{path}"
    if column == "title":
        return note_title(content, path)
    if column == "body":
        return content
    return f"{doc_title}\n{doc_text}" if doc_title else doc_text


def lab_rankings(
    corpus: Corpus, lines: Sequence[str], variant: Variant, depth: int = 10
) -> list[tuple[str, ...]]:
    """Top ``depth`` document ids for each line under ``variant``, from SQLite's FTS5."""
    db = sqlite3.connect(":memory:")
    try:
        columns = ", ".join(variant.columns)
        db.execute(f"CREATE VIRTUAL TABLE t USING fts5({columns}, tokenize='porter unicode61')")
        names = [note_name(n) for n in range(1, len(corpus.documents) + 1)]
        rows = [
            (n, *(_column_text(c, names[n - 1], d.title, d.text) for c in variant.columns))
            for n, d in enumerate(corpus.documents, 1)
        ]
        marks = ", ".join("?" * (len(variant.columns) + 1))
        db.executemany(f"INSERT INTO t(rowid, {columns}) VALUES ({marks})", rows)
        weights = ", ".join(str(w) for w in variant.weights)
        sql = f"SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t, {weights}) LIMIT {depth}"
        ids = [d.doc_id for d in corpus.documents]
        found: list[tuple[str, ...]] = []
        for line in lines:
            match = fts5_match(line)
            hits = db.execute(sql, (match,)).fetchall() if match else []
            found.append(tuple(ids[rowid - 1] for (rowid,) in hits))
        return found
    finally:
        db.close()
