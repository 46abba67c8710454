"""``qmd-reward data prepare``: deterministic, leak-free splits, short queries, the card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmd_reward import kept_by_qmd, parse_expansion
from qmd_reward.cli import main
from qmd_reward.prompts import user_message
from trainers.data.examples import Example, normalise_query, prepare_examples, read_examples
from trainers.data.prepare import (
    FILES,
    PrepareOptions,
    echoes,
    prepare_dataset,
    short_examples,
    short_query,
    shorten,
)

TOPICS = {
    "tech": [
        "postgres connection pool exhausted",
        "rust borrow checker error",
        "docker compose volume permissions",
        "kubernetes pod restart loop",
        "nginx reverse proxy headers",
        "python asyncio task cancellation",
        "git interactive rebase conflicts",
        "terraform state file locking",
        "redis cache eviction policy",
        "webpack bundle size analysis",
        "ssh tunnel port forwarding",
        "grafana dashboard alert rules",
    ],
    "food": [
        "sourdough starter feeding schedule",
        "cast iron skillet seasoning",
        "cold brew coffee ratio",
        "fermented hot sauce recipe",
        "pizza dough hydration percentage",
        "japanese knife sharpening angle",
        "homemade ramen broth",
        "vegan chocolate mousse",
    ],
    "travel": [
        "cheap flights to lisbon",
        "hiking trails near kyoto",
        "iceland ring road itinerary",
        "patagonia trekking permits",
        "venice water taxi prices",
        "scottish highlands castle tours",
    ],
}


def record(query: str, category: str | None) -> dict:
    words = query.split()
    row = {
        "query": query,
        "output": [
            ["lex", " ".join(words[:3])],
            ["lex", f"{words[0]} {words[-1]} troubleshooting"],
            ["vec", f"how do I deal with {query} in practice"],
            ["vec", f"a clear explanation of {words[-2]} {words[-1]}"],
            ["hyde", f"A practical note on {query}: what causes it and how to fix it quickly."],
        ],
    }
    if category:
        row["category"] = category
    return row


def write_rows(path: Path, rows: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    rows: list[dict | str] = [record(q, c) for c, qs in TOPICS.items() for q in qs]
    # Duplicates under normalisation: case, spacing, a trailing question mark.
    rows.append(record("Postgres  Connection Pool Exhausted?", "tech"))
    rows.append(record("COLD BREW COFFEE RATIO", "food"))
    rows.append(record("ssh keys", None))  # already short: never a source
    rows.append({**record("redis cache eviction policy", None), "query": "redis /only:lex"})
    return write_rows(tmp_path / "train.jsonl", rows)


def prepare(data: Path, out: Path, *extra: str) -> int:
    return main(["data", "prepare", str(data), "--out", str(out), *extra])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def queries_of(path: Path) -> list[str]:
    examples, _ = read_examples([path])
    return [e.query for e in examples]


def test_same_seed_same_files(data_file: Path, tmp_path: Path, capsys):
    options = ("--seed", "3", "--validation-fraction", "0.25", "--add-short", "5")
    assert prepare(data_file, tmp_path / "a", *options) == 0
    assert prepare(data_file, tmp_path / "b", *options) == 0
    for name in FILES:
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        if name == "README.md":  # the card names its own output directory
            a, b = a.replace(b"/a ", b"/X "), b.replace(b"/b ", b"/X ")
        assert a == b, name
    assert prepare(data_file, tmp_path / "c", "--seed", "4", "--validation-fraction", "0.25") == 0
    assert queries_of(tmp_path / "a" / "validation.jsonl") != queries_of(
        tmp_path / "c" / "validation.jsonl"
    )


def test_no_query_in_both_splits_and_duplicates_removed(data_file: Path, tmp_path: Path, capsys):
    options = ("--validation-fraction", "0.3", "--add-short", "6")
    assert prepare(data_file, tmp_path / "out", *options) == 0
    assert "2 duplicate queries removed" in capsys.readouterr().out
    train = [normalise_query(q) for q in queries_of(tmp_path / "out" / "train.jsonl")]
    validation = [normalise_query(q) for q in queries_of(tmp_path / "out" / "validation.jsonl")]
    assert validation and train
    assert not set(train) & set(validation)
    assert len(set(train)) == len(train) and len(set(validation)) == len(validation)
    # 30 records, 2 of them duplicates, then 6 short queries added
    assert len(train) + len(validation) == 30 - 2 + 6


def test_rows_are_the_trainers_rows(data_file: Path, tmp_path: Path):
    """Without --add-short the training rows are exactly what the trainers would use."""
    assert prepare(data_file, tmp_path / "out", "--seed", "5") == 0
    examples, _ = read_examples([data_file])
    expected = prepare_examples(examples, validation_fraction=0.05, seed=5)
    train = read_jsonl(tmp_path / "out" / "train.jsonl")
    assert [row["messages"][0]["role"] for row in train] == ["system"] * len(expected.train)
    assert [row["messages"][1]["content"] for row in train] == [
        user_message(e.query) for e in expected.train
    ]
    assert train[0]["messages"][1]["content"].startswith("/no_think ")
    assert [row["messages"][2] for row in train] == [
        {"role": "assistant", "content": e.expansion} for e in expected.train
    ]
    grpo = read_jsonl(tmp_path / "out" / "grpo_train.jsonl")
    assert [row["query"] for row in grpo] == [e.query for e in expected.train]
    assert {"prompt", "reference", "query"} <= set(grpo[0])


def test_add_short_adds_the_requested_count(data_file: Path, tmp_path: Path, capsys):
    assert prepare(data_file, tmp_path / "out", "--add-short", "8", "--seed", "1") == 0
    assert "short queries added: 8\n" in capsys.readouterr().out
    original = {normalise_query(q) for q in queries_of(data_file)}
    train, _ = read_examples([tmp_path / "out" / "train.jsonl"])
    short = [e for e in train if normalise_query(e.query) not in original]
    assert len(short) == 8
    for example in short:
        assert 1 <= len(example.query.split()) <= 2
        parsed = parse_expansion(example.expansion)
        assert not parsed.invalid
        # QMD searches with every line
        assert all(kept_by_qmd(line.text, example.query) for line in parsed.lines)
        assert parsed.of_type("lex") and parsed.of_type("vec")
    grpo_queries = {row["query"] for row in read_jsonl(tmp_path / "out" / "grpo_train.jsonl")}
    assert {e.query for e in short} <= grpo_queries


def test_add_short_says_how_many_it_could(data_file: Path, tmp_path: Path, capsys):
    assert prepare(data_file, tmp_path / "out", "--add-short", "1000") == 0
    out = capsys.readouterr().out
    assert "of 1000 requested" in out
    added = int(out.split("short queries added: ")[1].split()[0])
    assert 0 < added < 1000
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert f"{added} added of 1000 requested" in card


def test_card(data_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert prepare(data_file, out, "--validation-fraction", "0.25", "--add-short", "3") == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    train, validation = read_jsonl(out / "train.jsonl"), read_jsonl(out / "validation.jsonl")
    assert f"| `train.jsonl` | {len(train)} |" in card
    assert f"| `validation.jsonl` | {len(validation)} |" in card
    assert "duplicate queries removed: 2 " in card
    assert "3 added, as requested" in card
    assert f"qmd-reward data prepare {data_file} --out {out} --validation-fraction 0.25" in card
    for category in ("tech", "food", "travel", "(none)"):
        assert f"| {category} |" in card
    assert "| lex lines |" in card and "| `/only:` queries | " in card


def test_unreadable_lines_are_reported_and_the_rest_written(tmp_path: Path, capsys):
    data = write_rows(tmp_path / "d.jsonl", [record("cold brew coffee ratio", None), "{oops"])
    assert prepare(data, tmp_path / "out", "--validation-fraction", "0") == 1
    assert f"{data}:2: invalid JSON" in capsys.readouterr().err
    assert len(read_jsonl(tmp_path / "out" / "train.jsonl")) == 1


def test_nothing_usable_writes_nothing(tmp_path: Path, capsys):
    data = write_rows(tmp_path / "d.jsonl", ["{oops"])
    assert prepare(data, tmp_path / "out") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [("--validation-fraction", "1"), ("--add-short", "-1")])
def test_bad_options_are_usage_errors(data_file: Path, tmp_path: Path, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        prepare(data_file, tmp_path / "out", *option)
    assert exit_info.value.code == 2


# -- short queries, unit level ----------------------------------------------------------------


def example(query: str, *lines: str) -> Example:
    return Example(query, "\n".join(lines), "cat", "f:1")


def test_short_query_takes_the_discriminating_words_the_lines_use():
    gothic = example(
        "what defines gothic architecture",
        "lex: gothic architecture features",
        "lex: gothic cathedral pointed arch",
        "vec: what are the main features of gothic architecture",
    )
    # "defines" is rare enough but no line uses it: the example is not about it.
    assert short_query(gothic, 2) == "gothic architecture"
    assert short_query(gothic, 1) == "gothic"


def test_short_query_keeps_casing_and_drops_possessives():
    notes = example(
        "Marcus's notes on the audit",
        "lex: Marcus audit notes",
        "lex: Marcus review",
        "vec: the notes Marcus wrote about the audit",
    )
    assert short_query(notes, 1) == "Marcus"


def test_no_single_word_torn_out_of_a_phrase():
    war = example(
        "what was the impact of the cold war",
        "lex: cold war impact",
        "lex: cold war consequences",
        "vec: how the cold war shaped world politics",
    )
    assert short_query(war, 1) is None  # "cold" alone means something else
    assert short_query(war, 2) == "cold war"


def test_shorten_keeps_only_lines_qmd_would_use():
    source = example(
        "docker compose volume permissions",
        "lex: docker compose named volume ownership",
        "lex: bind mount uid gid",  # no term of "docker compose": QMD drops it
        "lex: docker compose setup",  # only repeats the short query, give or take a word
        "vec: how to fix permission errors on docker compose volumes",
        "hyde: Named volumes are owned by root unless the image sets a user.",
    )
    short = shorten(source, "docker compose")
    assert short is not None
    assert short.expansion == (
        "lex: docker compose named volume ownership\n"
        "vec: how to fix permission errors on docker compose volumes"
    )
    assert short.category == "cat" and short.source == "short:f:1"
    assert shorten(source, "uid") is None  # one lex line left, no vec line


def test_short_examples_never_repeat_a_query():
    sources = [
        example(f"kubernetes pod {word} loop", f"lex: kubernetes {word}", f"vec: kubernetes {word}")
        for word in ("restart", "crash", "evict")
    ]
    made = short_examples(sources, {"kubernetes"}, 10, seed=0)
    queries = [normalise_query(e.query) for e in made]
    assert "kubernetes" not in queries
    assert len(set(queries)) == len(queries)


def test_prepare_dataset_keeps_short_examples_out_of_validation(data_file: Path):
    options = PrepareOptions(validation_fraction=0.3, seed=2, add_short=6)
    prepared = prepare_dataset([data_file], options)
    assert len(prepared.short) == 6
    assert set(prepared.short) <= set(prepared.train)
    assert not set(prepared.short) & set(prepared.validation)


@pytest.mark.parametrize(
    ("line", "query", "echo"),
    [
        ("docker compose", "docker compose", True),
        ("Docker  Compose setup", "docker compose", True),  # the query and a few characters
        ("compose for docker", "docker compose", True),  # nothing but the query's words
        ("docker composee", "docker compose", True),  # barely respelled
        ("docker compose named volume ownership", "docker compose", False),
        ("how to fix permission errors on docker compose volumes", "docker compose", False),
        ("anything", "", False),
    ],
)
def test_echoes(line: str, query: str, echo: bool):
    assert echoes(line, query) is echo
