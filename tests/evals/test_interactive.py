"""``qmd-reward try``: one-shot with a tiny local model, and the prompt loop with a fake one."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from evals import interactive


def run_try(*argv: str) -> int:
    """Parse and run ``try`` as the main parser will once ``evals.interactive`` is wired in."""
    parser = argparse.ArgumentParser(prog="qmd-reward")
    interactive.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["try", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from trainers.tiny import make_tiny_model

    workdir = tmp_path_factory.mktemp("try")
    data = workdir / "data.jsonl"
    row = {"query": "ssh keys", "output": [["lex", "ssh key login"], ["vec", "ssh keys setup"]]}
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return make_tiny_model(workdir / "tiny", [str(data)], vocab_size=300)


def test_one_shot_with_a_tiny_model(tiny_model: Path, capsys):
    assert run_try("--model", str(tiny_model), "--query", "ssh keys", "--greedy") == 0
    out = capsys.readouterr().out
    assert "model output (" in out
    assert "query:     'ssh keys'" in out
    assert "score:" in out and "rating:" in out


class FakeExpander:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, query: str) -> str:
        self.queries.append(query)
        return f"lex: {query} setup\nvec: how do I set up {query} on a new machine"


def test_loop_reads_until_end_of_input(monkeypatch, capsys):
    fake = FakeExpander()
    seen: dict = {}

    def load(model_path: str, **options) -> FakeExpander:
        seen.update(options, model=model_path)
        return fake

    monkeypatch.setattr(interactive, "load_expander", load)
    monkeypatch.setattr(sys, "stdin", io.StringIO("ssh keys\n\n   \nnginx reverse proxy\n"))
    assert run_try("--model", "fake/model", "--seed", "3") == 0
    assert fake.queries == ["ssh keys", "nginx reverse proxy"]  # blank lines skipped
    assert seen == {
        "model": "fake/model",
        "greedy": False,
        "seed": 3,
        "max_new_tokens": 200,
        "device": "auto",
    }
    out = capsys.readouterr().out
    assert out.count("score:") == 2
    assert "lex   ssh keys setup" in out
    assert interactive.PROMPT not in out  # piped input: no prompt clutter


def test_interrupting_a_generation_returns_to_the_prompt(monkeypatch, capsys):
    calls: list[str] = []

    def expand(query: str) -> str:
        calls.append(query)
        if query == "slow":
            raise KeyboardInterrupt
        return f"lex: {query} docs\nvec: where are the {query} docs"

    monkeypatch.setattr(sys, "stdin", io.StringIO("slow\nfast query\n"))
    assert interactive.repl(expand, interactive.Scorer(), sys.stdout, interactive=False) == 0
    out = capsys.readouterr().out
    assert calls == ["slow", "fast query"]
    assert "(interrupted)" in out and out.count("score:") == 1


def test_a_model_that_will_not_load_is_an_error(tmp_path: Path, capsys):
    assert run_try("--model", str(tmp_path / "missing"), "--query", "x") == 2
    assert "no such model directory" in capsys.readouterr().err


def test_control_characters_are_escaped():
    assert interactive.printable("a\x1b[2Jb\tc") == "a\\x1b[2Jb\tc"
