"""Config files, --set overrides, --dry-run, and clear errors for mistakes."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from trainers.cli import add_parsers
from trainers.config import (
    CONFIG_DIR,
    DEFAULT_BETA,
    ConfigError,
    apply_overrides,
    config_from_dict,
    find_config,
    load_config,
    parse_value,
)

HAVE_TRL = importlib.util.find_spec("trl") is not None


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="qmd-reward")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.mark.parametrize("name", ["sft", "grpo", "sft-tiny", "grpo-tiny"])
def test_shipped_configs_are_valid(name: str):
    kind = name.split("-")[0]
    config = load_config(name, kind)
    assert config.kind == kind
    if HAVE_TRL:
        from trainers.trl_args import check_training_keys, trl_config_class

        check_training_keys(trl_config_class(kind), dict(config.training))


def test_original_recipe_values():
    sft = load_config("sft", "sft")
    assert sft.model == "Qwen/Qwen3-0.6B"
    assert (sft.lora.r, sft.lora.alpha, sft.lora.dropout) == (16, 32, 0.0)
    assert len(sft.lora.target_modules) == 7
    assert sft.training["learning_rate"] == 2e-4 and sft.training["max_length"] == 512
    assert (
        sft.training["per_device_train_batch_size"] * sft.training["gradient_accumulation_steps"]
        == 16
    )
    grpo = load_config("grpo", "grpo")
    assert (grpo.lora.r, grpo.lora.alpha, grpo.lora.dropout) == (4, 8, 0.05)
    assert grpo.lora.target_modules == ("q_proj", "v_proj")
    assert grpo.training["beta"] == 0.04 and grpo.training["learning_rate"] == 5e-7
    assert grpo.training["num_generations"] == 4
    assert grpo.training["max_completion_length"] == 200
    assert grpo.training["chat_template_kwargs"] == {"enable_thinking": False}


def test_dry_run_prints_the_resolved_config_with_overrides(capsys):
    code = run_cli(
        "train",
        "sft",
        "--config",
        "sft-tiny",
        "--dry-run",
        "--set",
        "training.learning_rate=1e-4",
        "--set",
        "lora.r=8",
        "--set",
        "data.max_samples=100",
        "--set",
        "training.warmup_steps=5",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("# resolved configuration: qmd-reward train sft")
    assert "learning_rate: 0.0001" in out
    assert "  r: 8" in out and "max_samples: 100" in out and "warmup_steps: 5" in out


def test_dry_run_of_grpo_shows_the_kl_default_and_warns_at_zero(capsys):
    assert run_cli("train", "grpo", "--config", "grpo-tiny", "--dry-run") == 0
    assert "beta: 0.04" in capsys.readouterr().out
    assert run_cli("train", "grpo", "--dry-run", "--set", "training.beta=0") == 0
    assert "KL term" in capsys.readouterr().err


def test_set_values_are_typed_as_yaml():
    assert parse_value("1e-4") == 1e-4 and isinstance(parse_value("1e-4"), float)
    assert parse_value("3") == 3 and parse_value("true") is True
    assert parse_value("null") is None and parse_value("[q_proj, v_proj]") == ["q_proj", "v_proj"]
    assert parse_value("{format: 1, entity: 2}") == {"format": 1, "entity": 2}
    assert parse_value("Qwen/Qwen3-1.7B") == "Qwen/Qwen3-1.7B"


def test_dotted_overrides_reach_into_sections():
    raw = apply_overrides({"lora": {"r": 16}}, ["lora.r=4", "training.beta=0.1", "model=x"])
    assert raw == {"lora": {"r": 4}, "training": {"beta": 0.1}, "model": "x"}
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["lora.r"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"model": "x"}, ["model.name=y"])


BASE = {"kind": "sft", "model": "m", "output_dir": "o", "data": {"files": ["a.jsonl"]}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"modle": "x"}, "unknown key.*modle.*known: kind, model"),
        ({"lora": {"rank": 4}}, r"unknown key.*lora\.rank.*lora\.r"),
        ({"data": {"files": ["a"], "max_sample": 3}}, r"data\.max_sample"),
        ({"lora": {"r": "big"}}, r"lora\.r: expected int"),
        ({"lora": {"r": True}}, r"lora\.r: expected int"),
        ({"data": {"files": []}}, "give files"),
        ({"data": {"files": ["a"], "validation_fraction": 1.5}}, "validation_fraction"),
        ({"kind": "dpo"}, "kind must be one of"),
        ({"training": {"output_dir": "x"}}, "top level"),
        ({"reward": {"remote_url": "127.0.0.1:8000"}}, r"reward\.remote_url: expected an http"),
        (
            {"reward": {"remote_url": "http://127.0.0.1:8000", "dimension_weights": {"lex": 1}}},
            "leave reward.dimension_weights unset",
        ),
    ],
)
def test_mistakes_are_clear_errors(change: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({**BASE, **change})


def test_lists_become_tuples_and_ints_become_floats():
    config = config_from_dict(
        {**BASE, "lora": {"target_modules": "q_proj", "dropout": 0}, "data": {"files": "a"}}
    )
    assert config.lora.target_modules == ("q_proj",) and config.data.files == ("a",)
    assert isinstance(config.lora.dropout, float)


def test_grpo_defaults_keep_a_kl_term():
    config = config_from_dict({**BASE, "kind": "grpo"})
    assert config.training["beta"] == DEFAULT_BETA > 0
    assert (
        config_from_dict({**BASE, "kind": "grpo", "training": {"beta": 0.0}}).training["beta"]
        == 0.0
    )


@pytest.mark.skipif(not HAVE_TRL, reason="trl not installed")
def test_unknown_training_key_is_caught_with_a_suggestion(capsys):
    code = run_cli("train", "sft", "--dry-run", "--set", "training.learning_rat=1e-4")
    assert code == 2
    err = capsys.readouterr().err
    assert "training.learning_rat" in err and "learning_rate" in err


def test_cli_errors_are_messages_not_tracebacks(capsys, tmp_path: Path):
    assert run_cli("train", "sft", "--config", "nope", "--dry-run") == 2
    assert "shipped configs" in capsys.readouterr().err
    wrong_kind = tmp_path / "c.yaml"
    wrong_kind.write_text("kind: grpo\n")
    assert run_cli("train", "sft", "--config", str(wrong_kind), "--dry-run") == 2
    assert "is a 'grpo' config" in capsys.readouterr().err
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("model: [unclosed\n")
    assert run_cli("train", "sft", "--config", str(bad_yaml), "--dry-run") == 2
    assert "invalid YAML" in capsys.readouterr().err


def test_find_config_by_name_or_path():
    assert find_config("grpo-tiny") == CONFIG_DIR / "grpo-tiny.yaml"
    assert find_config(str(CONFIG_DIR / "sft.yaml")) == CONFIG_DIR / "sft.yaml"
    assert (CONFIG_DIR / "accelerate-multi-gpu.yaml").is_file()


def test_parser_builds_without_heavy_imports():
    import subprocess
    import sys

    code = (
        "import argparse, sys; from trainers.cli import add_parsers; "
        "p = argparse.ArgumentParser(); add_parsers(p.add_subparsers()); "
        "print(sorted(m for m in ('torch', 'trl', 'transformers', 'yaml') if m in sys.modules))"
    )
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_a_remote_url_makes_the_served_reward():
    from qmd_reward.remote import RemoteQMDReward
    from trainers.grpo import reward_functions

    config = load_config("grpo-tiny", "grpo", ["reward.remote_url=http://127.0.0.1:8000/"])
    (reward,), weights = reward_functions(config.reward, train_rows=None)
    assert isinstance(reward, RemoteQMDReward) and weights is None
    assert reward.url == "http://127.0.0.1:8000"
