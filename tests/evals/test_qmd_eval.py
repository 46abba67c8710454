"""``eval qmd``'s pure parts, offline: records, metrics, errors, the streaming runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from evals.cli import cmd_qmd
from evals.compare import compare_files
from evals.qmd_corpus import (
    BEIR,
    NOTES,
    EvalQmdError,
    list_notes,
    load_eval_corpus,
    notes_by_path,
    read_query_file,
)
from evals.qmd_eval import meta_record
from evals.qmd_records import (
    build_record,
    expansion_text,
    metric_of,
    metrics,
    missing_record,
    note_path,
    ranking,
    spearman,
)
from evals.qmd_runner import (
    SDK_MARK,
    SDK_SCRIPT,
    THREADS_ENV,
    QmdError,
    QmdTimeout,
    parse_sdk_line,
    stream_group,
    thread_count,
)
from qmd_reward.records import read_records

BY_PATH = {"d0001.md": "a", "d0002.md": "b", "d0003.md": "c"}
LINES = [{"type": "lex", "query": "git undo"}, {"type": "vec", "query": "how to undo a commit"}]


def row(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "q1",
        "expansion": LINES,
        "expansion_used": True,
        "strong_signal": False,
        "fallback": None,
        "results": [{"file": "qmd://corpus/d0002.md"}, {"file": "qmd://corpus/d0001.md"}],
        "error": None,
    }
    base.update(extra)
    return base


def test_expansion_text_keeps_qmds_order() -> None:
    assert expansion_text(LINES) == "lex: git undo\nvec: how to undo a commit"


def test_paths_map_to_document_ids() -> None:
    assert note_path({"file": "qmd://corpus/d0001.md"}) == "d0001.md"
    assert note_path({"display_path": "corpus/d0003.md"}) == "d0003.md"
    results = [{"file": "qmd://corpus/d0003.md"}, {"file": "qmd://corpus/zz.md"}]
    assert ranking(results, BY_PATH) == ["c", "?zz.md"]


def test_metrics_against_graded_qrels() -> None:
    found = metrics(["b", "a", "c"], {"a": 2})
    assert found["mrr"] == pytest.approx(0.5)
    assert found["recall@10"] == 1.0
    assert 0.0 < found["ndcg@10"] < 1.0
    assert metrics(["b"], {"a": 1}) == {"mrr": 0.0, "ndcg@10": 0.0, "recall@10": 0.0}


def test_record_carries_expansion_ranking_and_metrics() -> None:
    record = build_record("q1", "undo commit", row(), BY_PATH, {"a": 1}, raw=False)
    assert record["expansion"] == expansion_text(LINES)
    assert record["qmd"]["ranking"] == ["b", "a"]
    assert record["qmd"]["mrr"] == pytest.approx(0.5)
    assert record["qmd"]["expansion_used"] is True
    assert "error" not in record
    assert metric_of(record, "mrr") == pytest.approx(0.5)


def test_error_without_expansion_is_kept_and_not_judged(tmp_path: Path) -> None:
    record = build_record("q1", "undo", row(expansion=None, error="boom"), BY_PATH, {}, raw=False)
    assert record["error"] == "boom" and "expansion" not in record
    assert metric_of(record, "mrr") is None
    lost = missing_record("q2", "other", "node died")
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (record, lost)) + "\n")
    # eval report/compare read both lines and count them as errors: nothing disappears.
    assert [r.error is not None for r in read_records(str(path))] == [True, True]


def test_error_after_expansion_keeps_the_expansion() -> None:
    record = build_record("q1", "undo", row(error="search failed"), BY_PATH, {}, raw=False)
    assert record["expansion"] and record["error"] == "search failed"
    assert "ranking" not in record["qmd"]


def test_raw_record_has_empty_expansion() -> None:
    record = build_record("q1", "undo", row(expansion=[]), BY_PATH, {"b": 1}, raw=True)
    assert record["raw"] is True and record["expansion"] == ""
    assert record["qmd"]["mrr"] == 1.0


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1, 2], [1, 2]) is None


def test_compare_on_a_qmd_metric(tmp_path: Path) -> None:
    def write(name: str, values: list[float]) -> str:
        path = tmp_path / name
        rows = [
            {"query": f"q{i}", "expansion": "", "qmd": {"ndcg@10": v}} for i, v in enumerate(values)
        ]
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        return str(path)

    comparison = compare_files(
        write("a.jsonl", [0.5, 0.2, 1.0]), write("b.jsonl", [1.0, 0.2, 0.5]), metric="ndcg@10"
    )
    assert [p.delta for p in comparison.pairs] == pytest.approx([0.5, 0.0, -0.5])
    assert comparison.wins == 1 and comparison.losses == 1 and comparison.ties == 1


def test_thread_count_leaves_a_core_free() -> None:
    assert thread_count({THREADS_ENV: "3"}) == 3
    assert thread_count({THREADS_ENV: "0"}) == 1
    assert thread_count({}) >= 1


def test_sdk_lines_are_marked() -> None:
    assert parse_sdk_line(SDK_MARK + '{"id": "q1"}') == {"id": "q1"}
    assert parse_sdk_line("llama.cpp says hello") is None
    assert SDK_SCRIPT.is_file()


def child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_stream_group_yields_lines_as_they_come() -> None:
    code = "import sys\nfor line in sys.stdin: print(line.strip().upper(), flush=True)"
    assert list(stream_group(child(code), stdin="a\nb\n", timeout=30)) == ["A\n", "B\n"]


def test_stream_group_reports_failure_and_timeout() -> None:
    with pytest.raises(QmdError, match="exited 3"):
        list(stream_group(child("import sys; print('x'); sys.exit(3)"), stdin=""))
    with pytest.raises(QmdTimeout):
        list(stream_group(child("import time; time.sleep(30)"), stdin="", timeout=0.5))


def test_cli_needs_exactly_one_of_model_and_no_expand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from argparse import Namespace

    args = Namespace(no_expand=False, model=None)
    assert cmd_qmd(args) == 2
    assert "--no-expand" in capsys.readouterr().err


# -- a folder of markdown notes as the corpus --------------------------------------------


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: text} under root; return root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def queries_jsonl(pairs: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in pairs)


NOTES_FILES = {
    "git.md": "# Undoing commits\n\nUse git revert for a pushed commit.\n",
    "projects/alpha.md": "# Project Alpha\n\nThe launch plan for alpha.\n",
    "cooking.md": "Bread wants a long, cold proof.\n",
    "queries.jsonl": queries_jsonl([("q1", "undo a pushed commit"), ("q2", "alpha launch")]),
    "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\tgit.md\t1\nq2\tprojects/alpha.md\t2\n",
}


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    return write_files(tmp_path / "notes", NOTES_FILES)


def test_notes_are_listed_as_qmd_indexes_them(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "n",
        {
            "a.md": "# A\n",
            "sub/deep/b.md": "b",
            "blank.md": " \n\n",  # QMD skips a note with no text
            ".hidden.md": "h",
            ".obsidian/c.md": "c",
            "node_modules/pkg/d.md": "d",
            "build/e.md": "e",
            "notes.txt": "not markdown",
        },
    )
    assert list_notes(root) == ["a.md", "sub/deep/b.md"]


def test_a_notes_folder_loads_its_queries_and_qrels(notes_dir: Path) -> None:
    source = load_eval_corpus(notes_dir)
    assert source.kind == NOTES and source.documents is None
    assert source.notes == ("cooking.md", "git.md", "projects/alpha.md")
    assert [(q.query_id, q.text) for q in source.queries] == [
        ("q1", "undo a pushed commit"),
        ("q2", "alpha launch"),
    ]
    assert source.qrels == {"q1": {"git.md": 1}, "q2": {"projects/alpha.md": 2}}


def test_a_notes_path_is_its_id_in_qmds_ranking(notes_dir: Path) -> None:
    by_path = notes_by_path(load_eval_corpus(notes_dir).notes)
    assert by_path["projects/alpha.md"] == "projects/alpha.md"
    rows = [{"file": "qmd://corpus/projects/alpha.md"}, {"file": "qmd://corpus/git.md"}]
    assert ranking(rows, by_path) == ["projects/alpha.md", "git.md"]


def test_queries_and_qrels_given_as_files(notes_dir: Path, tmp_path: Path) -> None:
    text = write_files(tmp_path, {"q.txt": "# git\nundo a pushed commit\nsomething new\n"})
    trec = write_files(tmp_path, {"run.qrels": "q1 0 cooking.md 1\nt2 0 git.md 1\n"})
    source = load_eval_corpus(notes_dir, queries_file=text / "q.txt", qrels_file=trec / "run.qrels")
    # A text query the folder's queries.jsonl knows keeps its id; a new one is numbered.
    assert [(q.query_id, q.category) for q in source.queries] == [("q1", "git"), ("t2", "git")]
    assert source.qrels == {"q1": {"cooking.md": 1}, "t2": {"git.md": 1}}


def test_a_tab_separated_qrels_line_may_name_a_note_with_spaces(notes_dir: Path) -> None:
    write_files(
        notes_dir,
        {"Meeting notes.md": "# Standup\n", "qrels/test.tsv": "q1\tMeeting notes.md\t1\n"},
    )
    assert load_eval_corpus(notes_dir).qrels == {"q1": {"Meeting notes.md": 1}}


def test_a_query_without_qrels_is_kept(notes_dir: Path) -> None:
    write_files(notes_dir, {"queries.jsonl": queries_jsonl([("q1", "undo"), ("q9", "other")])})
    source = load_eval_corpus(notes_dir)
    assert [q.query_id for q in source.queries] == ["q1", "q9"]
    assert "q9" not in source.qrels


def test_a_folder_without_notes_is_an_error(tmp_path: Path) -> None:
    empty = write_files(tmp_path / "empty", {"readme.txt": "x", "blank.md": "\n"})
    with pytest.raises(EvalQmdError, match=r"no corpus\.jsonl and no markdown note"):
        load_eval_corpus(empty)
    with pytest.raises(EvalQmdError, match="no such folder"):
        load_eval_corpus(tmp_path / "absent")


def test_missing_queries_are_an_error(notes_dir: Path, tmp_path: Path) -> None:
    (notes_dir / "queries.jsonl").unlink()
    with pytest.raises(EvalQmdError, match=r"queries\.jsonl: no queries"):
        load_eval_corpus(notes_dir)
    empty = write_files(tmp_path, {"none.jsonl": "\n"}) / "none.jsonl"
    with pytest.raises(EvalQmdError, match=r"none\.jsonl: no queries in this file"):
        load_eval_corpus(notes_dir, queries_file=empty)
    with pytest.raises(EvalQmdError, match=r"absent\.jsonl: no such queries file"):
        load_eval_corpus(notes_dir, queries_file=tmp_path / "absent.jsonl")


def test_a_bad_query_line_names_file_and_line(tmp_path: Path) -> None:
    path = write_files(tmp_path, {"q.jsonl": '{"_id": "q1", "text": "a"}\n{"text": "b"}\n'})
    with pytest.raises(EvalQmdError, match=r"q\.jsonl:2: a query needs an _id and a text"):
        read_query_file(path / "q.jsonl", {})


def test_missing_qrels_are_an_error(notes_dir: Path, tmp_path: Path) -> None:
    (notes_dir / "qrels" / "test.tsv").unlink()
    with pytest.raises(EvalQmdError, match=r"no qrels \(give --qrels FILE"):
        load_eval_corpus(notes_dir)
    header_only = write_files(tmp_path, {"h.tsv": "query-id\tcorpus-id\tscore\n"}) / "h.tsv"
    with pytest.raises(EvalQmdError, match=r"h\.tsv: no relevance judgements"):
        load_eval_corpus(notes_dir, qrels_file=header_only)
    with pytest.raises(EvalQmdError, match=r"absent\.tsv: no such qrels file"):
        load_eval_corpus(notes_dir, qrels_file=tmp_path / "absent.tsv")


def test_a_qrels_line_naming_no_note_is_an_error(notes_dir: Path) -> None:
    qrels = notes_dir / "qrels" / "test.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\tgit.md\t1\nq2\tproject/alpha.md\t1\n")
    with pytest.raises(EvalQmdError) as caught:
        load_eval_corpus(notes_dir)
    message = str(caught.value)
    assert message.startswith(f"{qrels}:3: 'project/alpha.md' is not a note in {notes_dir}")
    assert "did you mean 'projects/alpha.md'?" in message


def test_a_qrels_line_naming_a_note_qmd_skips_is_an_error(notes_dir: Path) -> None:
    write_files(notes_dir, {"blank.md": "\n", "qrels/test.tsv": "q1\tblank.md\t1\n"})
    with pytest.raises(EvalQmdError, match=r"test\.tsv:1: 'blank\.md' is a file QMD does not"):
        load_eval_corpus(notes_dir)


def test_a_malformed_qrels_line_names_file_and_line(notes_dir: Path) -> None:
    write_files(notes_dir, {"qrels/test.tsv": "q1\tgit.md\t1\nq2 projects/alpha.md\n"})
    with pytest.raises(ValueError, match=r"test\.tsv:2: expected query-id, corpus-id, score"):
        load_eval_corpus(notes_dir)


def test_a_beir_folder_takes_qrels_from_a_file(tmp_path: Path) -> None:
    beir = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": json.dumps({"_id": "a", "title": "A", "text": "x"}) + "\n",
            "queries.jsonl": queries_jsonl([("q1", "x")]),
            "qrels/test.tsv": "q1\ta\t1\n",
            "other.tsv": "q1\ta\t2\n",
        },
    )
    assert load_eval_corpus(beir).qrels == {"q1": {"a": 1}}
    source = load_eval_corpus(beir, qrels_file=beir / "other.tsv")
    assert source.kind == BEIR and source.documents is not None
    assert source.qrels == {"q1": {"a": 2}}


def test_meta_record_names_the_corpus_kind(notes_dir: Path) -> None:
    meta = meta_record(None, notes_dir, 2, 1, kind=NOTES)
    assert meta["corpus_kind"] == "notes" and meta["corpus"] == str(notes_dir)


def test_cli_reports_a_bad_notes_folder_before_starting_qmd(
    notes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from argparse import Namespace

    (notes_dir / "qrels" / "test.tsv").write_text("q1\tmissing.md\t1\n")
    args = Namespace(
        no_expand=True,
        model=None,
        corpus=str(notes_dir),
        queries=None,
        qrels=None,
        output=str(tmp_path / "out.jsonl"),
        limit=10,
        threads=1,
    )
    assert cmd_qmd(args) == 2
    assert "test.tsv:1: 'missing.md' is not a note" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.qmd
def test_eval_qmd_end_to_end_on_a_small_corpus(tmp_path: Path) -> None:
    """Real QMD (opt-in: ``pytest -m qmd``): index, embed with the MiniLM GGUF and query
    three notes with the raw queries; every query gets a record with QMD's metrics."""
    from evals.qmd_eval import run_eval

    corpus = tmp_path / "corpus"
    (corpus / "qrels").mkdir(parents=True)
    docs = [
        ("fox", "Foxes", "A quick fox jumps over the fence at night."),
        ("dog", "Dogs", "A lazy dog sleeps in the sun all day."),
        ("cat", "Cats", "Cats purr when they are content."),
    ]
    (corpus / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    )
    queries = [("q1", "quick fox"), ("q2", "sleeping dog")]
    (corpus / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries)
    )
    (corpus / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tfox\t1\nq2\tdog\t1\n"
    )
    output = tmp_path / "raw.jsonl"
    records = run_eval(corpus, output, model=None, progress=False)
    assert [r["query_id"] for r in records] == ["q1", "q2"]
    assert all("error" not in r for r in records), records
    assert [r["qmd"]["ranking"][0] for r in records] == ["fox", "dog"]
    assert records[0]["qmd"]["mrr"] == 1.0
    lines = output.read_text().splitlines()
    assert json.loads(lines[0])["_meta"] is True and len(lines) == 3


@pytest.mark.qmd
def test_eval_qmd_end_to_end_on_a_notes_folder(tmp_path: Path) -> None:
    """Real QMD (opt-in: ``pytest -m qmd``): a folder of notes indexed in place, a note in a
    subfolder and one whose name has a space; records name notes by their paths."""
    from evals.qmd_eval import run_eval

    notes = write_files(
        tmp_path / "notes",
        {
            "git.md": "# Undoing commits\n\nUse git revert to undo a commit already pushed.\n",
            "projects/alpha.md": "# Project Alpha\n\nThe alpha launch is planned for May.\n",
            "recipes/Sourdough Bread.md": "Feed the starter, then give the dough a cold proof.\n",
            "cooking.md": "Onions soften in butter over a low heat.\n",
            "queries.jsonl": queries_jsonl(
                [("q1", "project alpha launch"), ("q2", "sourdough starter"), ("q3", "zebras")]
            ),
        },
    )
    qrels = write_files(
        tmp_path,
        {"judged.tsv": "q1\tprojects/alpha.md\t1\nq2\trecipes/Sourdough Bread.md\t1\n"},
    )
    before = sorted((p.relative_to(notes), p.stat().st_mtime_ns) for p in notes.rglob("*"))
    output = tmp_path / "raw.jsonl"
    records = run_eval(notes, output, model=None, qrels_file=qrels / "judged.tsv", progress=False)
    assert [r["query_id"] for r in records] == ["q1", "q2", "q3"]
    assert all("error" not in r for r in records), records
    first, second, unjudged = (r["qmd"] for r in records)
    assert first["ranking"][0] == "projects/alpha.md" and first["mrr"] == 1.0
    assert first["ndcg@10"] == 1.0 and first["recall@10"] == 1.0
    assert second["ranking"][0] == "recipes/Sourdough Bread.md" and second["mrr"] == 1.0
    # A query without qrels keeps its record, measured against no relevant note.
    assert unjudged["mrr"] == 0.0 and unjudged["recall@10"] == 0.0
    every = {doc for r in records for doc in r["qmd"]["ranking"]}
    assert every <= {"git.md", "projects/alpha.md", "recipes/Sourdough Bread.md", "cooking.md"}
    meta = json.loads(output.read_text().splitlines()[0])
    assert meta["corpus_kind"] == "notes" and meta["queries"] == 3
    # QMD only read the folder.
    after = sorted((p.relative_to(notes), p.stat().st_mtime_ns) for p in notes.rglob("*"))
    assert after == before


class _CrashingHome:
    """A stand-in for QmdHome whose node process dies on given queries, once each."""

    crash_on: ClassVar[set[str]] = set()
    started: ClassVar[list[list[str]]] = []

    def __init__(self, install, models, **_: object) -> None:
        self.root = Path(str(install))

    def __enter__(self) -> _CrashingHome:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_collection(self, folder, name) -> None:
        pass

    def embed(self, timeout=None) -> None:
        pass

    def clear_cache(self) -> None:
        pass

    def sdk(self, action, items, **_: object):
        from evals.qmd_runner import QmdError

        _CrashingHome.started.append([str(item["id"]) for item in items])
        for item in items:
            if item["id"] in _CrashingHome.crash_on:
                _CrashingHome.crash_on.discard(item["id"])
                raise QmdError("qmd_sdk.mjs exited -6: GGML_ASSERT failed")
            lines = [{"type": "lex", "query": item["query"]}]
            yield {"id": item["id"], "expansion": lines, "expansion_used": True, "results": []}


def test_a_query_that_kills_qmd_costs_only_itself(tmp_path: Path, monkeypatch) -> None:
    from evals import qmd_eval

    corpus = tmp_path / "corpus"
    (corpus / "qrels").mkdir(parents=True)
    (corpus / "corpus.jsonl").write_text('{"_id": "d1", "title": "", "text": "one"}\n')
    queries = [f"q{n}" for n in range(5)]
    (corpus / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": f"query {q}"}) + "\n" for q in queries)
    )
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(qmd_eval, "embedding_gguf", lambda: tmp_path / "embed.gguf")
    monkeypatch.setattr(qmd_eval, "ensure_qmd", lambda: tmp_path / "home")
    monkeypatch.setattr(qmd_eval, "QmdHome", _CrashingHome)
    _CrashingHome.crash_on, _CrashingHome.started = {"q1", "q3"}, []
    records = qmd_eval.run_eval(corpus, tmp_path / "out.jsonl", model=model, progress=False)
    assert [r["query_id"] for r in records] == queries
    failed = [r["query_id"] for r in records if r.get("error")]
    assert failed == ["q1", "q3"]
    assert all("GGML_ASSERT" in r["error"] for r in records if r.get("error"))
    assert all(r["expansion"] for r in records if not r.get("error"))
    # Started again after each crash, without the query it died on.
    assert _CrashingHome.started == [queries, ["q2", "q3", "q4"], ["q4"]]
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(written) == 1 + len(queries)
