"""SFT then GRPO on the tiny model, the manifest chain, load_model and export."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import pytest

pytest.importorskip("trl")

from qmd_reward.prompts import SYSTEM_PROMPT
from trainers import load_model
from trainers.cli import add_parsers
from trainers.config import ConfigError, config_from_dict
from trainers.generation import generate, render_prompt
from trainers.manifest import MANIFEST, ManifestError, read_manifest

QUERIES = ["ssh key authentication", "cold brew coffee ratio"]


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="qmd-reward")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def losses(history: list[dict]) -> list[float]:
    return [h["loss"] for h in history if "loss" in h]


def test_tiny_model_is_a_small_qwen3_with_a_qwen3_style_template(tiny_base: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    assert model.config.model_type == "qwen3"
    assert 300_000 < sum(p.numel() for p in model.parameters()) < 2_000_000
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    for token in ("<|im_start|>", "<think>", "</think>"):
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1
    assert render_prompt(tokenizer, "ssh") == (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        "<|im_start|>user\n/no_think Expand this search query: ssh<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )
    manifest = read_manifest(tiny_base)
    assert manifest is not None and manifest.kind == "base"


def test_sft_masks_the_prompt_and_keeps_the_stop_token(tiny_base: Path, train_file: Path):
    from trl import SFTConfig, SFTTrainer

    from trainers.config import LoraSpec
    from trainers.data import load_split, sft_datasets
    from trainers.stage import lora_config

    config = config_from_dict(
        {"kind": "sft", "model": "x", "output_dir": "y", "data": {"files": [str(train_file)]}}
    )
    rows, _ = sft_datasets(load_split(config.data))
    model, tokenizer = load_model(tiny_base)
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(output_dir=str(tiny_base.parent / "mask"), use_cpu=True, report_to="none"),
        train_dataset=rows.select(range(2)),
        processing_class=tokenizer,
        peft_config=lora_config(LoraSpec()),
    )
    row = trainer.train_dataset[0]
    trained = [i for i, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100]
    text = tokenizer.decode(trained)
    assert text.startswith("lex: ") or text.startswith("hyde: ")
    assert text.endswith("<|im_end|>\n")
    assert "<think>" not in text and "/no_think" not in text


def test_sft_run_is_finite_and_records_its_chain(sft_run, tiny_base: Path):
    assert sft_run.steps == 2
    found = losses(sft_run.log_history)
    assert found and all(math.isfinite(x) for x in found)
    manifest = read_manifest(sft_run.output_dir)
    assert manifest.kind == "adapter" and manifest.stage == "sft"
    assert [s.get("stage", s["type"]) for s in manifest.chain] == ["base", "sft"]
    assert manifest.chain[0]["source"] == str(tiny_base.resolve())
    assert (sft_run.output_dir / "README.md").is_file()


def test_grpo_run_logs_reward_metrics_and_keeps_the_kl_term(grpo_run):
    history = grpo_run.log_history
    assert grpo_run.steps == 2
    assert losses(history) and all(math.isfinite(x) for x in losses(history))
    keys = {k for h in history for k in h}
    assert {"rewards/qmd/mean", "qmd/lex", "qmd/vec", "qmd/format"} <= keys
    assert "kl" in keys  # beta > 0 by default


def test_grpo_chain_is_base_then_sft_then_grpo(grpo_run, sft_run):
    manifest = read_manifest(grpo_run.output_dir)
    assert [s.get("stage", s["type"]) for s in manifest.chain] == ["base", "sft", "grpo"]
    assert manifest.chain[1]["path"] == str(sft_run.output_dir.resolve())
    assert manifest.info["config"]["training"]["beta"] == 0.04
    adapter_config = json.loads((grpo_run.output_dir / "adapter_config.json").read_text())
    # PEFT's own loader is pointed at the SFT output, not the bare base
    assert adapter_config["base_model_name_or_path"] == str(sft_run.output_dir.resolve())
    assert adapter_config["r"] == 4
    assert set(adapter_config["target_modules"]) == {"q_proj", "v_proj"}


def test_load_model_applies_the_chain_and_generates(grpo_run, sft_run, tiny_base: Path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model, tokenizer = load_model(grpo_run.output_dir)
    texts = generate(model, tokenizer, QUERIES, max_new_tokens=8)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)

    by_hand = AutoModelForCausalLM.from_pretrained(tiny_base)
    by_hand = PeftModel.from_pretrained(by_hand, str(sft_run.output_dir)).merge_and_unload()
    by_hand = PeftModel.from_pretrained(by_hand, str(grpo_run.output_dir)).merge_and_unload()
    ids = tokenizer(render_prompt(tokenizer, QUERIES[0]), return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(model(**ids).logits, by_hand(**ids).logits, atol=1e-5)


def test_an_earlier_stage_of_the_same_chain_is_an_accepted_base(grpo_run, sft_run, tiny_base):
    for base in (tiny_base, sft_run.output_dir):
        model, _ = load_model(grpo_run.output_dir, base=base)
        assert model is not None


def test_a_different_base_is_refused(grpo_run, workdir: Path, train_file: Path):
    other = workdir / "tiny-other"
    argv = ["tiny-model", str(other), "--data", str(train_file), "--seed", "1"]
    assert cli(*argv, "--pretrain-epochs", "2") == 0
    info = read_manifest(other).info
    assert info["pretrain_epochs"] == 2 and len(info["pretrain_loss"]) == 2
    assert all(math.isfinite(x) for x in info["pretrain_loss"])
    with pytest.raises(ManifestError, match="cannot be loaded on") as caught:
        load_model(grpo_run.output_dir, base=other)
    assert "sft adapter" in str(caught.value)


def test_pack_cuts_documents_into_blocks():
    from trainers.pretrain import pack

    assert pack([[1, 2], [3, 4, 5]], block=3, separator=0) == [[1, 2, 0], [3, 4, 5]]
    assert pack([[1]], block=4, separator=0) == []


def copy_runs(grpo_run, sft_run, into: Path) -> tuple[Path, Path]:
    sft = shutil.copytree(sft_run.output_dir, into / "sft")
    grpo = shutil.copytree(grpo_run.output_dir, into / "grpo")
    return Path(sft), Path(grpo)


def edit_manifest(directory: Path, change) -> None:
    path = directory / MANIFEST
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_missing_parent_is_a_clear_error(grpo_run, sft_run, tmp_path: Path):
    sft, grpo = copy_runs(grpo_run, sft_run, tmp_path)

    def elsewhere(data):  # as if trained on another machine: the recorded path does not exist
        data["chain"][1]["path"] = "/nonexistent/runs/sft"

    edit_manifest(grpo, elsewhere)
    assert load_model(grpo)[0] is not None  # found beside it through the relative path
    shutil.rmtree(sft)
    with pytest.raises(ManifestError, match="which is missing"):
        load_model(grpo)


def test_changed_parent_is_a_clear_error(grpo_run, sft_run, tmp_path: Path):
    _, grpo = copy_runs(grpo_run, sft_run, tmp_path)

    def retrained(data):
        data["chain"][1]["sha256"] = "0" * 64

    edit_manifest(grpo, retrained)
    with pytest.raises(ManifestError, match="has changed"):
        load_model(grpo)


def test_adapter_without_manifest_is_refused(grpo_run, tmp_path: Path):
    bare = Path(shutil.copytree(grpo_run.output_dir, tmp_path / "bare"))
    (bare / MANIFEST).unlink()
    with pytest.raises(ManifestError, match=r"without qmd_manifest\.json"):
        load_model(bare)


def test_grpo_refuses_a_start_without_manifest(tmp_path: Path, train_file: Path):
    from trainers.grpo import train_grpo

    config = config_from_dict(
        {
            "kind": "grpo",
            "model": str(tmp_path),
            "output_dir": str(tmp_path / "out"),
            "data": {"files": [str(train_file)]},
        }
    )
    with pytest.raises(ConfigError, match="train sft"):
        train_grpo(config)


def test_export_writes_a_standalone_model_with_the_same_greedy_text(grpo_run, tmp_path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "standalone"
    assert cli("export", str(grpo_run.output_dir), str(out)) == 0
    assert not (out / "adapter_config.json").exists()
    manifest = read_manifest(out)
    assert manifest.kind == "standalone" and len(manifest.chain) == 3

    chained = generate(*load_model(grpo_run.output_dir), QUERIES, max_new_tokens=12)
    plain_model = AutoModelForCausalLM.from_pretrained(out)
    plain = generate(plain_model, AutoTokenizer.from_pretrained(out), QUERIES, max_new_tokens=12)
    assert plain == chained
    assert generate(*load_model(out), QUERIES, max_new_tokens=12) == chained
    assert cli("export", str(grpo_run.output_dir), str(out)) == 2  # refuses a non-empty OUT
