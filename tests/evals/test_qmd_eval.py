"""``eval qmd``'s pure parts, offline: records, metrics, errors, the streaming runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from evals.cli import cmd_qmd
from evals.compare import compare_files
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
