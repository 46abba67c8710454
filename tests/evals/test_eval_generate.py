"""``qmd-reward eval generate`` on a tiny local Qwen3: the _meta line, one record per query in
order, and the same file again for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmd_reward.cli import main
from qmd_reward.records import read_records

QUERIES = """\
## three queries, two categories
# technical docs
ssh key authentication
docker compose volumes
# personal notes
meeting notes with Priya about the budget
"""
EXPECTED = [
    ("technical docs", "ssh key authentication"),
    ("technical docs", "docker compose volumes"),
    ("personal notes", "meeting notes with Priya about the budget"),
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from trainers.tiny import make_tiny_model

    workdir = tmp_path_factory.mktemp("generate")
    data = workdir / "data.jsonl"
    rows = [{"query": q, "output": [["lex", q], ["vec", f"how to {q}"]]} for _, q in EXPECTED]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return make_tiny_model(workdir / "tiny", [str(data)], vocab_size=512)


@pytest.fixture
def queries_file(tmp_path: Path) -> Path:
    path = tmp_path / "queries.txt"
    path.write_text(QUERIES, encoding="utf-8")
    return path


def generate(model: Path, queries: Path, output: Path, *options: str) -> list[dict]:
    argv = ["eval", "generate", "--model", str(model), "--queries", str(queries)]
    assert main([*argv, "--output", str(output), "--max-new-tokens", "12", *options]) == 0
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def test_greedy_writes_meta_then_one_record_per_query(tiny_model, queries_file, tmp_path):
    rows = generate(tiny_model, queries_file, tmp_path / "a.jsonl", "--greedy")
    meta, records = rows[0], rows[1:]
    assert meta["_meta"] is True
    assert meta["model"] == str(tiny_model)
    assert meta["chain"][0]["type"] == "base"
    assert meta["chain"][0]["source"] == str(tiny_model.resolve())
    assert meta["sampling"] == {"greedy": True, "max_new_tokens": 12}
    assert meta["seed"] == 0 and meta["queries"] == 3
    assert meta["created"].endswith("+00:00")
    assert meta["qmd_reward_version"]
    assert [(r["category"], r["query"]) for r in records] == EXPECTED
    assert all(set(r) == {"query", "category", "expansion"} for r in records)
    assert all(isinstance(r["expansion"], str) for r in records)

    again = generate(tiny_model, queries_file, tmp_path / "b.jsonl", "--greedy")
    assert again[1:] == records


def test_the_file_reads_as_eval_records(tiny_model, queries_file, tmp_path):
    generate(tiny_model, queries_file, tmp_path / "a.jsonl", "--greedy", "--batch-size", "2")
    records = list(read_records(str(tmp_path / "a.jsonl")))
    assert records[0].skipped == "_meta line"
    assert [r.format for r in records[1:]] == ["eval"] * 3


def test_sampling_with_a_seed_is_reproducible(tiny_model, queries_file, tmp_path):
    first = generate(tiny_model, queries_file, tmp_path / "a.jsonl", "--seed", "7")
    second = generate(tiny_model, queries_file, tmp_path / "b.jsonl", "--seed", "7")
    other = generate(tiny_model, queries_file, tmp_path / "c.jsonl", "--seed", "8")
    assert first[0]["sampling"] == {
        "greedy": False,
        "temperature": 0.7,
        "top_p": 0.8,
        "top_k": 20,
        "max_new_tokens": 12,
    }
    assert first[0]["seed"] == 7
    assert first[1:] == second[1:]
    # A random tiny model spreads its probability thinly: another seed samples other text.
    assert [r["expansion"] for r in first[1:]] != [r["expansion"] for r in other[1:]]


def test_missing_model_directory_is_an_error(queries_file, tmp_path, capsys):
    argv = ["eval", "generate", "--model", str(tmp_path / "nope"), "--queries", str(queries_file)]
    assert main([*argv, "--output", str(tmp_path / "out.jsonl")]) == 2
    assert "no such model directory" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_vllm_missing_is_a_clear_error(queries_file, tmp_path, capsys):
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here")
    argv = ["eval", "generate", "--model", "some/model", "--queries", str(queries_file)]
    assert main([*argv, "--output", str(tmp_path / "out.jsonl"), "--vllm"]) == 2
    assert "--vllm needs the vllm package" in capsys.readouterr().err


def test_empty_query_file_is_an_error(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("# a category and nothing in it\n", encoding="utf-8")
    argv = ["eval", "generate", "--model", "some/model", "--queries", str(empty)]
    assert main([*argv, "--output", str(tmp_path / "out.jsonl")]) == 2
    assert "holds no queries" in capsys.readouterr().err
