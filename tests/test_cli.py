"""The qmd-reward command line: score files of records and explain one expansion."""

import json
import re
from pathlib import Path
from statistics import mean

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmd_reward.cli import main

from samples import GOOD

DATA = Path(__file__).resolve().parents[1] / "data" / "examples.jsonl"

VALID = [
    json.dumps({"query": "ssh key authentication", "expansion": GOOD}),
    json.dumps({"query": "auth", "output": [["lex", "auth setup"], ["vec", "how to log in"]]}),
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": "/no_think Expand this search query: auth"},
                {"role": "assistant", "content": "lex: auth config\nvec: how to configure login"},
            ]
        }
    ),
]
INVALID = [
    "{not json",
    json.dumps({"query": 3, "expansion": "lex: a"}),
    json.dumps({"query": "a"}),
    json.dumps({"expansion": "lex: a"}),
    json.dumps(["a", "b"]),
    json.dumps({"query": "a", "output": [["lex"]]}),
    json.dumps({"query": "a", "output": [["bogus", "x"]]}),
    json.dumps({"query": "a", "expansion": None}),
]


def run(tmp_path, lines, *extra):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["score", str(src), "--output", str(out), *extra])
    return code, [json.loads(x) for x in out.read_text().splitlines()]


def test_score_writes_one_record_per_line(tmp_path, capsys):
    meta = json.dumps({"_meta": True, "model": "m"})
    code, rows = run(tmp_path, [meta, *VALID])
    assert code == 0
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["skipped"] and rows[0]["score"] is None and rows[0]["error"] is None
    assert all(r["score"] is not None and r["error"] is None for r in rows[1:])
    assert set(rows[1]) >= {
        "file",
        "line",
        "query",
        "score",
        "rating",
        "dimensions",
        "deductions",
        "entities",
        "error",
    }
    assert rows[3]["query"] == "auth"
    assert "records scored: 3" in capsys.readouterr().out


def test_errors_are_reported_and_exit_1(tmp_path, capsys):
    code, rows = run(tmp_path, [VALID[0], *INVALID, VALID[1]])
    assert code == 1
    assert len(rows) == len(INVALID) + 2
    assert rows[0]["score"] is not None and rows[-1]["score"] is not None
    for row in rows[1:-1]:
        assert row["score"] is None and row["error"]
    err = capsys.readouterr().err
    for number in range(2, len(INVALID) + 2):
        assert f"in.jsonl:{number}: " in err


def test_missing_file_is_reported(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl: cannot read" in capsys.readouterr().err


def test_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(VALID[0] + "\n"))
    assert main(["score", "-"]) == 0
    assert "records scored: 1" in capsys.readouterr().out


def test_shipped_examples_separate_good_from_broken(tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["score", str(DATA), "--output", str(out)]) == 0
    labels = [json.loads(x).get("label") for x in DATA.read_text().splitlines()]
    scores = [json.loads(x)["score"] for x in out.read_text().splitlines()]
    assert len(labels) == len(scores)
    by_label = {
        label: [s for s, lab in zip(scores, labels) if lab == label]
        for label in ("good", "mediocre", "broken")
    }
    good, mediocre, broken = by_label["good"], by_label["mediocre"], by_label["broken"]
    assert good and mediocre and broken
    assert min(good) - max(broken) >= 0.25  # every good record above every broken one, by a margin
    assert min(good) > max(mediocre)
    assert mean(good) > mean(mediocre) > mean(broken)


EXPLAINED = "lex: TDS history\nvec: who runs TDS\nSure, here you go!"


def test_explain_shows_the_query_lines_dimensions_and_penalties(capsys):
    assert main(["explain", "who is TDS motorsports", EXPLAINED]) == 0
    out = capsys.readouterr().out
    assert re.search(r"entities:.*tds", out)
    assert re.search(r"key terms:.*motorsports", out)
    # each typed line with its value
    assert re.search(r"^\s+[01]\.\d\d\s+lex\s+TDS history$", out, re.M)
    assert re.search(r"^\s+[01]\.\d\d\s+vec\s+who runs TDS$", out, re.M)
    dimensions = out.split("dimensions:")[1]
    for name in ("lex", "vec", "hyde", "format", "total"):
        assert re.search(rf"^\s+{name}\s+\d", dimensions, re.M), name
    assert re.search(r"^\s+unprefixed\s+x0\.\d+$", out.split("penalties")[1], re.M)
    assert "deductions (costliest first):" in out
    assert re.search(r"score: [01]\.\d{3}\s+rating: \w+", out)


def test_explain_reads_the_expansion_from_stdin_and_shows_an_only_request(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("lex: ssh key login\n"))
    assert main(["explain", "ssh key authentication /only:lex"]) == 0
    out = capsys.readouterr().out
    assert "(/only:lex)" in out and "ssh key login" in out
    assert "penalties" not in out  # a clean expansion has none to show


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(VALID + INVALID + [""]), min_size=1, max_size=12))
def test_mixed_file_one_output_per_line_in_order(tmp_path, lines):
    code, rows = run(tmp_path, lines)
    assert [r["line"] for r in rows] == list(range(1, len(lines) + 1))
    bad = [r for r in rows if r["error"]]
    assert code == (1 if bad else 0)
    for line, row in zip(lines, rows):
        assert (row["score"] is None) == (line in INVALID or line == "")
