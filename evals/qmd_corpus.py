"""What ``qmd-reward eval qmd`` searches, and the queries and qrels it measures QMD with.

Two kinds of corpus folder, told apart by ``corpus.jsonl``:

- ``beir``: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``. The documents are written
  as the judge's notes into the private QMD home (``evals/qmd_parity.write_notes``), and
  QMD's result paths are mapped back to document ids.
- ``notes``: the user's own markdown notes, indexed where they are (QMD only reads them).
  A note's id is its path relative to the folder, ``projects/alpha.md``: QMD stores that
  literal path (it does not rewrite it at index time) and answers with
  ``qmd://COLLECTION/projects/alpha.md``, so each path maps to itself. Queries come from
  ``queries.jsonl`` in the folder or ``--queries``; qrels from ``qrels/*.tsv`` in the folder
  or ``--qrels``, and they name notes by that path.

Nothing here runs QMD, so all of it is tested offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from qmd_reward.retrieval import Corpus
from qmd_reward.retrieval.corpus import QrelsLine, qrels_of, read_qrels_lines

BEIR = "beir"
NOTES = "notes"
# QMD's collection scan (reindexCollection in its dist/store.js) skips these folders at any
# depth, every hidden file or folder, and notes holding only whitespace.
SKIPPED_FOLDERS = frozenset({"node_modules", ".git", ".cache", "vendor", "dist", "build"})


class EvalQmdError(RuntimeError):
    """The run cannot start (no corpus, no model, no converter); the message says why."""


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    category: str | None = None


@dataclass(frozen=True)
class EvalCorpus:
    """One run's corpus: where it is, its kind, the queries and their graded relevance.
    ``documents`` is the BEIR corpus to write as notes; ``notes`` the notes folder's ids."""

    kind: str
    folder: Path
    queries: tuple[Query, ...]
    qrels: Mapping[str, Mapping[str, int]]
    documents: Corpus | None = None
    notes: tuple[str, ...] = ()


def load_eval_corpus(
    folder: str | Path,
    *,
    queries_file: str | Path | None = None,
    qrels_file: str | Path | None = None,
) -> EvalCorpus:
    """The corpus folder as ``eval qmd`` takes it: BEIR when it has ``corpus.jsonl``,
    otherwise a folder of markdown notes. ``queries_file`` and ``qrels_file`` replace the
    folder's own queries and qrels."""
    root = Path(folder)
    if not root.is_dir():
        raise EvalQmdError(f"{root}: no such folder")
    queries_path = _existing(queries_file, "queries")
    qrels_path = _existing(qrels_file, "qrels")
    if (root / "corpus.jsonl").is_file():
        return _load_beir(root, queries_path, qrels_path)
    return _load_notes(root, queries_path, qrels_path)


def _existing(path: str | Path | None, what: str) -> Path | None:
    # Checked up front, so a mistyped option fails before QMD is installed or started.
    if path is None:
        return None
    found = Path(path)
    if not found.is_file():
        raise EvalQmdError(f"{found}: no such {what} file")
    return found


def _load_beir(root: Path, queries_file: Path | None, qrels_file: Path | None) -> EvalCorpus:
    corpus = Corpus.from_beir(root)
    if queries_file is not None:
        queries = read_query_file(queries_file, corpus.queries)
    else:
        queries = [Query(qid, text) for qid, text in corpus.queries.items()]
    if not queries:
        raise EvalQmdError(f"no queries (give --queries, or a queries.jsonl in {root})")
    qrels = corpus.qrels if qrels_file is None else qrels_of(_judgements([qrels_file]))
    return EvalCorpus(BEIR, root, tuple(queries), qrels, documents=corpus)


def _load_notes(root: Path, queries_file: Path | None, qrels_file: Path | None) -> EvalCorpus:
    notes = list_notes(root)
    if not notes:
        raise EvalQmdError(
            f"{root}: no corpus.jsonl and no markdown note (*.md) to index: give a BEIR "
            "folder or a folder of notes"
        )
    queries = _notes_queries(root, queries_file)
    sources = [qrels_file] if qrels_file is not None else qrels_files(root)
    if not sources:
        raise EvalQmdError(
            f"{root}: no qrels (give --qrels FILE, or put TSV files in {root / 'qrels'})"
        )
    lines = _judgements(sources)
    check_note_ids(lines, notes, root)
    return EvalCorpus(NOTES, root, tuple(queries), qrels_of(lines), notes=tuple(notes))


def _notes_queries(root: Path, queries_file: Path | None) -> list[Query]:
    default = root / "queries.jsonl"
    listed = read_query_file(default, {}) if default.is_file() else []
    if queries_file is None:
        if not listed:
            raise EvalQmdError(f"{default}: no queries (give --queries FILE, or write this file)")
        return listed
    # An eval query file's lines keep the ids the folder's queries.jsonl gives their text.
    found = read_query_file(queries_file, {q.query_id: q.text for q in listed})
    if not found:
        raise EvalQmdError(f"{queries_file}: no queries in this file")
    return found


def _judgements(paths: Sequence[Path]) -> list[QrelsLine]:
    lines = list(read_qrels_lines(paths))
    if not lines:
        raise EvalQmdError(f"{', '.join(map(str, paths))}: no relevance judgements")
    return lines


def qrels_files(folder: Path) -> list[Path]:
    """The BEIR qrels of a folder: ``qrels/*.tsv``, in name order."""
    qrels_dir = folder / "qrels"
    return sorted(qrels_dir.glob("*.tsv")) if qrels_dir.is_dir() else []


def list_notes(folder: Path) -> list[str]:
    """The notes QMD indexes in ``folder`` with its default mask ``**/*.md``, as sorted
    relative POSIX paths (their ids)."""
    root = folder.resolve()
    found: list[str] = []
    # Linked folders are not entered: QMD's scan does not follow them either.
    for current, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not _skipped_folder(name)]
        for name in files:
            path = Path(current) / name
            if name.endswith(".md") and not name.startswith(".") and _indexed(path, root):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _skipped_folder(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def _indexed(path: Path, root: Path) -> bool:
    """Whether QMD keeps this file: inside the folder once links are resolved, readable and
    not blank (JavaScript's trim() also drops a byte-order mark, Python's strip() does not)."""
    if not path.resolve().is_relative_to(root):
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(text.replace("\ufeff", "").strip())


def notes_by_path(notes: Iterable[str]) -> dict[str, str]:
    """QMD's path of each note -> its id, which is that same path."""
    return {note: note for note in notes}


def check_note_ids(lines: Iterable[QrelsLine], notes: Collection[str], folder: Path) -> None:
    """Every judgement must name a note QMD indexes: a mistyped path would otherwise only
    show up as a score of 0. The first bad line is named, with a close match if any."""
    known = set(notes)
    wrong = [line for line in lines if line.doc_id not in known]
    if not wrong:
        return
    first = wrong[0]
    candidate = folder / first.doc_id
    if candidate.is_file() and candidate.resolve().is_relative_to(folder.resolve()):
        why = "is a file QMD does not index (blank, hidden or under a skipped folder)"
    else:
        why = f"is not a note in {folder}"
    hint = get_close_matches(first.doc_id, sorted(known), n=1)
    guess = f" (did you mean {hint[0]!r}?)" if hint else ""
    more = f"; {len(wrong) - 1} more such line(s)" if len(wrong) > 1 else ""
    raise EvalQmdError(
        f"{first.path}:{first.line_no}: {first.doc_id!r} {why}{guess}{more}. Qrels name a "
        "note by its path relative to the folder, like projects/alpha.md"
    )


def read_query_file(path: Path, known: Mapping[str, str]) -> list[Query]:
    """Queries from a BEIR ``queries.jsonl`` (``_id``, ``text``) or an eval query file (one
    a line, ``# category`` headers). ``known`` maps query ids to text: a text query that is
    one of them gets that id, so its qrels still apply."""
    if path.suffix == ".jsonl":
        return _read_jsonl_queries(path)
    from evals.queries import read_queries

    by_text = {text: qid for qid, text in known.items()}
    return [
        Query(by_text.get(text, f"t{number}"), text, category)
        for number, (category, text) in enumerate(read_queries(path), 1)
    ]


def _read_jsonl_queries(path: Path) -> list[Query]:
    found: list[Query] = []
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as error:
            raise EvalQmdError(f"{path}:{line_no}: not valid JSON ({error.msg})") from error
        if not isinstance(row, dict) or "_id" not in row or "text" not in row:
            raise EvalQmdError(f"{path}:{line_no}: a query needs an _id and a text")
        found.append(Query(str(row["_id"]), str(row["text"])))
    return found
