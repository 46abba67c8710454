"""Documents, queries and relevance judgements that retrieval gain is measured against.

Two sources: a BEIR-style folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``)
and, when no judged corpus exists, the training files themselves: every example's
reference passage is a document and is the one relevant document for its own query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from qmd_reward.retrieval.querytext import base_query

# Bump when tokenisation or the index layout changes, so cached indexes are rebuilt.
INDEX_FORMAT = "qmd-reward-bm25-v2"


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Corpus:
    """A document collection with optional queries and graded relevance (qrels)."""

    documents: tuple[Document, ...]
    queries: Mapping[str, str] = field(default_factory=dict)
    qrels: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @cached_property
    def content_hash(self) -> str:
        """Hash of everything the index depends on: the index cache key."""
        digest = hashlib.sha256(INDEX_FORMAT.encode())
        for doc in self.documents:
            digest.update(json.dumps([doc.doc_id, doc.title, doc.text]).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    @classmethod
    def from_beir(cls, path: str | Path) -> Corpus:
        """Load ``corpus.jsonl`` or a folder holding it with ``queries.jsonl`` and qrels."""
        root = Path(path)
        corpus_file = root / "corpus.jsonl" if root.is_dir() else root
        folder = corpus_file.parent
        documents = tuple(_read_documents(corpus_file))
        queries_file = folder / "queries.jsonl"
        queries = read_beir_queries(queries_file) if queries_file.is_file() else {}
        qrels_dir = folder / "qrels"
        qrels_files = sorted(qrels_dir.glob("*.tsv")) if qrels_dir.is_dir() else []
        return cls(documents, queries, read_qrels(qrels_files))

    @classmethod
    def from_training_files(
        cls, paths: Iterable[str | Path]
    ) -> tuple[Corpus, dict[str, list[str]]]:
        """Pseudo-relevance corpus: reference passages as documents.

        Returns the corpus and, for each query (as written, less a trailing "/only:..."
        directive, so a lex-only example finds its hyde-only sibling's passage), the ids of
        its reference passages. Identical passages share one document.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        examples = (
            (f"{Path(path).stem}:{line_no}", record.get("query"), record.get("output"))
            for path in paths
            for line_no, record in _read_jsonl(Path(path))
        )
        return cls.from_examples(examples)

    @classmethod
    def from_references(
        cls, rows: Iterable[tuple[str, str]]
    ) -> tuple[Corpus, dict[str, list[str]]]:
        """The same pseudo-relevance corpus from (query, reference expansion text) pairs,
        as a GRPO dataset carries them in its ``query`` and ``reference`` columns."""
        from qmd_reward.parse import parse_expansion

        def pairs(text: str) -> list[tuple[str, str]]:
            return [(line.type, line.text) for line in parse_expansion(text).lines]

        examples = (
            (f"ref:{n}", query, pairs(text) if isinstance(text, str) else None)
            for n, (query, text) in enumerate(rows)
        )
        return cls.from_examples(examples)

    @classmethod
    def from_examples(
        cls, examples: Iterable[tuple[str, Any, Any]]
    ) -> tuple[Corpus, dict[str, list[str]]]:
        """(document id, query, output pairs) triples to a corpus and its relevance map."""
        documents: list[Document] = []
        by_passage: dict[str, str] = {}
        relevant: dict[str, list[str]] = {}
        for doc_id, query, output in examples:
            if not isinstance(query, str) or not isinstance(output, list):
                continue
            passage = reference_passage(output)
            if not passage:
                continue
            known = by_passage.get(passage)
            if known is None:
                by_passage[passage] = known = doc_id
                documents.append(Document(doc_id, "", passage))
            ids = relevant.setdefault(base_query(query), [])
            if known not in ids:
                ids.append(known)
        return cls(tuple(documents)), relevant


def reference_passage(output_pairs: Sequence[Any]) -> str:
    """The passage a training example says answers its query: its hyde, else its vec lines."""
    hyde: list[str] = []
    vec: list[str] = []
    for pair in output_pairs:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) < 2:
            continue
        kind, text = pair[0], pair[1]
        if not isinstance(text, str) or not text.strip():
            continue
        if kind == "hyde":
            hyde.append(text.strip())
        elif kind == "vec":
            vec.append(text.strip())
    if hyde:
        return hyde[0]
    return " ".join(vec)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from exc
            if isinstance(record, dict):
                yield line_no, record


def _read_documents(path: Path) -> Iterator[Document]:
    seen: set[str] = set()
    for line_no, record in _read_jsonl(path):
        if "_id" not in record:
            raise ValueError(f"{path}:{line_no}: document without an _id")
        doc_id = str(record["_id"])
        if doc_id in seen:
            raise ValueError(f"{path}:{line_no}: duplicate document id {doc_id!r}")
        seen.add(doc_id)
        yield Document(doc_id, str(record.get("title") or ""), str(record.get("text") or ""))


def read_beir_queries(path: Path) -> dict[str, str]:
    """A BEIR ``queries.jsonl``: query id -> text (lines without an ``_id`` are skipped)."""
    return {
        str(record["_id"]): str(record.get("text") or "")
        for _, record in _read_jsonl(path)
        if "_id" in record
    }


@dataclass(frozen=True)
class QrelsLine:
    """One relevance judgement, with the file and line it came from (for error messages)."""

    path: Path
    line_no: int
    query_id: str
    doc_id: str
    score: int


def read_qrels_lines(paths: Iterable[Path]) -> Iterator[QrelsLine]:
    """The judgements of BEIR qrels (query-id, corpus-id, score; an optional header line)
    or TREC qrels (query, iteration, document, score), in file order."""
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                fields = _qrels_fields(line)
                if not fields or fields[0] == "query-id":
                    continue
                if len(fields) < 3:
                    raise ValueError(f"{path}:{line_no}: expected query-id, corpus-id, score")
                try:
                    score = int(float(fields[-1]))
                except ValueError as exc:
                    raise ValueError(f"{path}:{line_no}: score is not a number") from exc
                # TREC qrels carry an unused iteration column between query and document.
                doc_id = fields[2] if len(fields) >= 4 else fields[1]
                yield QrelsLine(path, line_no, fields[0], doc_id, score)


def _qrels_fields(line: str) -> list[str]:
    # A tab-separated line is split on tabs alone, so an id may hold spaces (a note named
    # "Meeting notes.md"); a line without a tab is split on any whitespace, as TREC's are.
    if "\t" in line:
        return [field for field in (part.strip() for part in line.split("\t")) if field]
    return line.split()


def qrels_of(lines: Iterable[QrelsLine]) -> dict[str, dict[str, int]]:
    """Judgements as query id -> {document id: score}; a repeated pair keeps its last score."""
    qrels: dict[str, dict[str, int]] = {}
    for line in lines:
        qrels.setdefault(line.query_id, {})[line.doc_id] = line.score
    return qrels


def read_qrels(paths: Iterable[Path]) -> dict[str, dict[str, int]]:
    return qrels_of(read_qrels_lines(paths))
