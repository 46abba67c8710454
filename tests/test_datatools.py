import argparse
import json
import random

import pytest

from qmd_reward import split_only_mode
from qmd_reward.present import histogram
from trainers.data import cli as data_cli
from trainers.data.audit import deciles, hyde_buckets, near_duplicates, run_audit
from trainers.data.validate import Validation, line_problems, validate_files

from samples import GOOD

GOOD_TRAINING = {
    "query": "ssh key authentication",
    "output": [
        ["lex", "ssh key login"],
        ["lex", '"authorized_keys" permissions'],
        ["vec", "how do I log in to a server with an ssh key instead of a password"],
        ["hyde", "Run ssh-keygen -t ed25519, then ssh-copy-id user@host to install the key."],
    ],
    "category": "extra keys are allowed",
}

# (line text, the reasons validate must give for it), one schema problem per line.
BAD_LINES = [
    (json.dumps({"query": "  ", "output": [["lex", "a"]]}), ["empty query"]),
    (
        json.dumps({"query": "q", "output": [["bogus", "a"]]}),
        ["output[0]: unknown type 'bogus' (expected lex, vec or hyde)"],
    ),
    (json.dumps({"query": "q", "output": [["lex", "a"], ["vec", " "]]}), ["output[1]: empty text"]),
    (json.dumps({"query": 7, "output": [["lex", "a"]]}), ["'query' must be a string, got number"]),
    (
        json.dumps({"query": "q", "output": {"lex": "a"}}),
        ["'output' must be an array of [type, text] pairs, got object"],
    ),
    (
        json.dumps({"query": "q", "output": [["lex", "a", "b"]]}),
        ["output[0] is not a [type, text] pair (3 items)"],
    ),
    (
        json.dumps({"query": "q", "output": ["lex: a"]}),
        ["output[0] is not a [type, text] pair (string)"],
    ),
    (
        json.dumps({"query": "q", "output": [[1, None]]}),
        [
            "output[0]: type must be a string, got number",
            "output[0]: text must be a string, got null",
        ],
    ),
    (json.dumps({"query": "q", "output": []}), ["'output' is empty"]),
    (
        '{"query": "q", "query": "r", "output": [["lex", "a"]]}',
        ["duplicate key 'query' in a JSON object"],
    ),
    (
        '{"query": "q", "output": [["lex", "a"]], "meta": {"k": 1, "k": 2}}',
        ["duplicate key 'k' in a JSON object"],
    ),
    (
        '{"query": "q", "output": [["lex", "a"]',
        ["invalid JSON: Expecting ',' delimiter (column 39)"],
    ),
    ('{"query": "q", "score": NaN, "output": [["lex", "a"]]}', ["NaN is not valid JSON"]),
    ("", ["blank line"]),
    ("[1, 2]", ["expected a JSON object, got array"]),
    (
        json.dumps({"query": "q", "expansion": "lex: a"}),
        ["missing 'output' (this is an eval record: 'expansion' text)"],
    ),
    (json.dumps({"output": [["lex", "a"]]}), ["missing 'query'"]),
    (
        json.dumps({"query": "q", "output": [["hyde", "one\ntwo"]]}),
        ["output[0]: text contains a line break"],
    ),
    (json.dumps({"_meta": True}), ["a _meta line is not a training record"]),
]


def test_good_record_has_no_problems():
    assert line_problems(json.dumps(GOOD_TRAINING)) == []


@pytest.mark.parametrize(("line", "reasons"), BAD_LINES)
def test_each_problem_is_named(line, reasons):
    assert line_problems(line) == reasons


def test_every_problem_of_a_line_is_reported():
    line = '{"query": 1, "query": 2, "output": [["x", ""], 5]}'
    assert line_problems(line) == [
        "duplicate key 'query' in a JSON object",
        "'query' must be a string, got number",
        "output[0]: unknown type 'x' (expected lex, vec or hyde)",
        "output[0]: empty text",
        "output[1] is not a [type, text] pair (number)",
    ]


def parse(argv):
    parser = argparse.ArgumentParser(prog="qmd-reward")
    data_cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def run(argv) -> int:
    args = parse(argv)
    return args.func(args)


def test_validate_reports_file_and_line(tmp_path, capsys):
    good = json.dumps(GOOD_TRAINING)
    path = tmp_path / "train.jsonl"
    lines = [good, *(line for line, _ in BAD_LINES), good]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"query": "\xff"}\n')
    assert run(["data", "validate", str(path)]) == 1
    out = capsys.readouterr()
    expected = [
        f"{path}:{number}: {reason}"
        for number, (_, reasons) in enumerate(BAD_LINES, start=2)
        for reason in reasons
    ]
    expected.append(f"{path}:{len(lines) + 1}: not valid UTF-8")
    assert out.out.splitlines() == expected
    assert f"on {len(BAD_LINES) + 1} of {len(lines) + 1} line(s)" in out.err


def test_validate_ok_summary_and_missing_file(tmp_path, capsys):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(GOOD_TRAINING) + "\n" + json.dumps(GOOD_TRAINING) + "\n")
    assert run(["data", "validate", str(path)]) == 0
    assert capsys.readouterr().out == "OK: 2 records in 1 file(s), no problems\n"
    stats = Validation()
    problems = list(validate_files([str(tmp_path / "nope.jsonl")], stats))
    assert len(problems) == 1 and "cannot read" in str(problems[0]) and stats.problems == 1


def brute_force(queries, threshold=90.0):
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    parts = [split_only_mode(q) for q in queries]
    found = []
    for i in range(len(queries)):
        for j in range(i + 1, len(queries)):
            if parts[i].only != parts[j].only or not default_process(parts[i].text):
                continue
            similarity = fuzz.token_sort_ratio(
                parts[i].text, parts[j].text, processor=default_process
            )
            if similarity >= threshold:
                found.append((i, j))
    return found


def test_near_duplicates_equal_brute_force():
    rng = random.Random(11)
    vocab = "ssh key login git rebase merge docker compose network nginx proxy cache".split()
    queries = []
    for _ in range(300):
        words = rng.sample(vocab, rng.randint(1, 4))
        if rng.random() < 0.2:
            words[0] = words[0][:-1]  # a typo
        suffix = rng.choice(["", "", "", " /only:lex"])
        queries.append(" ".join(words) + suffix)
    queries += ["", "???"]
    got = near_duplicates(queries)
    assert [(i, j) for i, j, _ in got] == brute_force(queries)
    assert len(got) > 100  # the vocabulary is small on purpose


def test_near_duplicates_examples():
    pairs = near_duplicates(
        ["git rebase vs merge", "merge vs rebase git", "docker networking", "docker networkin",
         "git rebase vs merge /only:lex", "completely different"]
    )  # fmt: skip
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (2, 3)]
    assert pairs[0][2] == 100.0 and 90 <= pairs[1][2] < 100


def test_distribution_helpers():
    assert histogram([0.0, 0.05, 0.5, 0.99, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    cuts = deciles([i / 10 for i in range(11)])
    assert cuts == pytest.approx([0.1 * k for k in range(1, 10)])
    assert hyde_buckets([10, 50, 150, 151, 200, 201]) == {
        "< 50": 1, "50-150": 2, "151-200": 2, "> 200": 1
    }  # fmt: skip


def audit_file(tmp_path):
    rows = [
        json.dumps(GOOD_TRAINING),
        json.dumps({"query": "authentication ssh key", "output": GOOD_TRAINING["output"][:2]}),
        json.dumps({"query": "ssh key authentication /only:lex", "output": [["lex", "ssh login"]]}),
        json.dumps({"query": "docker compose networking", "expansion": GOOD}),
        json.dumps({"query": "bad"}),
        "",
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_audit_scores_counts_and_duplicates(tmp_path, scorer):
    path = audit_file(tmp_path)
    audit = run_audit([str(path)], scorer=scorer)
    assert len(audit.examples) == 6
    assert audit.summary.scored == 4 and audit.summary.errors == 1 and audit.summary.skipped == 1
    assert audit.duplicate_pairs == [(0, 1, 100.0)]  # the /only:lex query is another task
    assert [e.type_counts for e in audit.examples[:4]] == [
        (2, 1, 1),
        (2, 0, 0),
        (1, 0, 0),
        (2, 1, 1),
    ]
    counts = audit.type_count_table()
    assert counts["lex"] == {2: 3, 1: 1} and counts["hyde"] == {1: 2, 0: 2}
    card = scorer.score(
        GOOD_TRAINING["query"], "\n".join(f"{k}: {t}" for k, t in GOOD_TRAINING["output"])
    )
    assert audit.examples[0].card == card  # the scorer's verdict, unchanged
    assert audit.lowest(1)[0].card.score == min(audit.scores())


def test_audit_cli_prints_and_writes_one_line_per_input(tmp_path, capsys):
    path = audit_file(tmp_path)
    out_path = tmp_path / "audit.jsonl"
    assert run(["data", "audit", str(path), "--output", str(out_path), "--worst", "2"]) == 1
    captured = capsys.readouterr()
    assert f"{path}:5: record has a 'query' but no 'expansion' or 'output'" in captured.err
    text = captured.out
    for heading in (
        "examples scored: 4",
        "score deciles",
        "score histogram",
        "examples by number of lines of each type",
        "hyde length (chars): n=2",
        "near-duplicate queries (token sort ratio >= 90): 1 pair(s), 2 example(s)",
        "lowest-scoring examples (worst 2)",
    ):
        assert heading in text
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["near_duplicates"] == [
        {"file": str(path), "line": 2, "query": "authentication ssh key", "similarity": 100.0}
    ]
    assert rows[1]["near_duplicates"][0]["line"] == 1
    assert rows[2]["near_duplicates"] == [] and rows[4]["error"] and rows[5]["skipped"]
    assert {"file", "line", "query", "score", "rating", "dimensions", "deductions"} <= set(rows[0])
