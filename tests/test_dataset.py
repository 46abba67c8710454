"""Training examples: reading, deduplication, deterministic split, caps, row shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmd_reward.prompts import SYSTEM_PROMPT, user_message
from trainers.data.examples import (
    Example,
    dedupe,
    examples_from_objects,
    grpo_rows,
    normalise_query,
    prepare,
    prepare_examples,
    read_examples,
    sft_row,
    split,
)


def training_record(query: str, category: str | None = None, **extra) -> dict:
    record = {"query": query, "output": [["lex", f"{query} docs"], ["vec", f"how to {query}"]]}
    if category:
        record["category"] = category
    return {**record, **extra}


def write(path: Path, rows: list) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def examples(count: int, categories: tuple[str | None, ...] = (None,)) -> list[Example]:
    return [
        Example(f"query number {i}", f"lex: query number {i}", categories[i % len(categories)])
        for i in range(count)
    ]


def test_read_all_formats_and_report_errors(tmp_path: Path):
    path = write(
        tmp_path / "mixed.jsonl",
        [
            training_record("ssh keys", "tech", query_id=7, relevant_docs=["a.md", 3]),
            {"query": "sourdough", "expansion": "lex: sourdough starter"},
            {
                "messages": [
                    {"role": "user", "content": user_message("tax")},
                    {"role": "assistant", "content": "lex: tax"},
                ]
            },
            {"_meta": True, "model": "x"},
            "\n",
            "{not json\n",
            {"query": "no output"},
        ],
    )
    found, report = read_examples([path])
    assert [e.query for e in found] == ["ssh keys", "sourdough", "tax"]
    assert found[0].expansion == "lex: ssh keys docs\nvec: how to ssh keys"
    assert found[0].category == "tech"
    assert found[0].extra == {"relevant_docs": ["a.md", "3"], "query_id": "7"}
    assert report.read == 5 and report.kept == 3 and len(report.errors) == 2


def test_labels_filter(tmp_path: Path):
    path = write(
        tmp_path / "labelled.jsonl",
        [
            {"query": "a", "expansion": "lex: a", "label": "good"},
            {"query": "b", "expansion": "lex: b", "label": "broken"},
            {"query": "c", "expansion": "lex: c"},
        ],
    )
    found, report = read_examples([path], keep_labels=["good"])
    assert [e.query for e in found] == ["a", "c"] and report.skipped_labels == 1
    assert len(read_examples([path])[0]) == 3


def test_hub_rows_are_read_like_files():
    found, report = examples_from_objects(
        [training_record("ssh keys"), {"bad": 1}, "not a dict"], "hub/name"
    )
    assert [e.query for e in found] == ["ssh keys"] and len(report.errors) == 2
    assert found[0].source == "hub/name:1"


def test_normalised_query_deduplication():
    assert normalise_query("  SSH   Keys? ") == normalise_query("ssh keys")
    assert normalise_query("ssh keys /only:lex") != normalise_query("ssh keys")
    kept = dedupe(
        [Example("SSH keys", "first"), Example("ssh  keys?", "second"), Example("tax", "t")]
    )
    assert [e.expansion for e in kept] == ["first", "t"]


def test_split_is_deterministic_and_disjoint():
    pool = examples(200, ("tech", "food", None))
    first = split(pool, 0.1, seed=3)
    assert split(pool, 0.1, seed=3) == first
    # which queries are held out does not depend on the order of the input files
    reordered = split(list(reversed(pool)), 0.1, seed=3)
    assert {e.query for e in reordered.validation} == {e.query for e in first.validation}
    assert split(pool, 0.1, seed=4).validation != first.validation
    train_queries = {normalise_query(e.query) for e in first.train}
    validation_queries = {normalise_query(e.query) for e in first.validation}
    assert not train_queries & validation_queries
    assert len(first.train) + len(first.validation) == 200
    assert len(first.validation) == pytest.approx(20, abs=2)


def test_split_is_stratified_by_category():
    pool = examples(100, ("tech",)) + [
        Example(f"recipe {i}", f"lex: recipe {i}", "food") for i in range(20)
    ]
    parts = split(pool, 0.25, seed=0)
    categories = [e.category for e in parts.validation]
    assert categories.count("tech") == 25 and categories.count("food") == 5


def test_duplicate_queries_never_straddle_the_split():
    pool = [Example(f"q{i % 30}", f"lex: q{i % 30} v{i}") for i in range(90)]
    parts = split(pool, 0.3, seed=1)
    assert not {e.query for e in parts.train} & {e.query for e in parts.validation}


def test_max_samples_caps_each_split_after_splitting():
    pool = examples(100)
    full = prepare_examples(pool, validation_fraction=0.2, seed=5)
    capped = prepare_examples(
        pool, validation_fraction=0.2, seed=5, max_samples=10, max_validation_samples=3
    )
    assert capped.train == full.train[:10] and capped.validation == full.validation[:3]
    with pytest.raises(ValueError):
        prepare_examples(pool, max_samples=-1)
    with pytest.raises(ValueError):
        split(pool, 1.0, seed=0)


def test_prepare_from_files(tmp_path: Path):
    rows = [training_record(f"topic {i}", "c") for i in range(40)] + [training_record("topic 1")]
    path = write(tmp_path / "train.jsonl", rows)
    parts, report = prepare([path], validation_fraction=0.25, seed=1)
    assert report.kept == 41
    assert len(parts.train) + len(parts.validation) == 40  # one duplicate dropped


def test_row_shapes():
    example = Example("ssh keys", "lex: ssh keys", extra={"query_id": "7"})
    assert sft_row(example) == {
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "/no_think Expand this search query: ssh keys"},
            {"role": "assistant", "content": "lex: ssh keys"},
        ]
    }
    rows = grpo_rows([example, Example("tax", "lex: tax")])
    assert rows[0] == {
        "prompt": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message("ssh keys")},
        ],
        "reference": "lex: ssh keys",
        "query": "ssh keys",
        "query_id": "7",
    }
    assert rows[1]["query_id"] is None  # same columns in every row


def test_min_score_keeps_only_what_the_judge_rates_high_enough(tmp_path: Path):
    from trainers.config import ConfigError, DataConfig, config_from_dict
    from trainers.data.load import load_split

    good = (
        "lex: ssh-keygen ed25519 authorized_keys\nlex: passwordless ssh login\n"
        "vec: how do I log in to a server with an ssh key instead of a password\n"
        "hyde: Run ssh-keygen -t ed25519, then ssh-copy-id user@host to copy the public key."
    )
    template = "lex: ssh key authentication overview\nvec: ssh key authentication"
    path = tmp_path / "train.jsonl"
    rows = [
        {
            "query": "ssh key authentication",
            "output": [line.split(": ", 1) for line in good.split("\n")],
        },
        {
            "query": "ssh key authentication setup",
            "output": [line.split(": ", 1) for line in template.split("\n")],
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    everything = load_split(DataConfig(files=(str(path),), validation_fraction=0.0))
    judged = load_split(DataConfig(files=(str(path),), validation_fraction=0.0, min_score=0.6))
    assert len(everything.train) == 2
    assert [e.query for e in judged.train] == ["ssh key authentication"]
    with pytest.raises(ConfigError, match="min_score"):
        config_from_dict(
            {
                "kind": "sft",
                "model": "m",
                "output_dir": "o",
                "data": {"files": ["x"], "min_score": 2},
            }
        )
