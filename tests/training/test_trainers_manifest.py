"""Manifest chains checked without loading any weights (fake weight files, no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainers.loading import plan
from trainers.manifest import (
    MANIFEST,
    Manifest,
    ManifestError,
    adapter_step,
    base_step,
    chain_of,
    is_prefix,
    read_manifest,
    with_relpaths,
    write_manifest,
)


def fake_base(path: Path, content: bytes = b"base weights") -> Path:
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(content)
    write_manifest(path, Manifest("base", "tiny-model", (base_step(str(path)),)))
    return path


def fake_adapter(path: Path, parent: Path, stage: str, content: bytes) -> Path:
    path.mkdir(parents=True)
    (path / "adapter_model.safetensors").write_bytes(content)
    (path / "adapter_config.json").write_text("{}")
    chain = with_relpaths((*chain_of(parent), adapter_step(stage, path)), path)
    write_manifest(path, Manifest("adapter", stage, chain))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    base = fake_base(tmp_path / "base")
    sft = fake_adapter(tmp_path / "runs" / "sft", base, "sft", b"sft weights")
    grpo = fake_adapter(tmp_path / "runs" / "grpo", sft, "grpo", b"grpo weights")
    return {"base": base, "sft": sft, "grpo": grpo}


def test_chain_is_recorded_in_training_order(runs):
    manifest = read_manifest(runs["grpo"])
    assert [s.get("stage", s["type"]) for s in manifest.chain] == ["base", "sft", "grpo"]
    assert manifest.chain[1]["relpath"] == "../sft"
    load_plan = plan(runs["grpo"])
    assert load_plan.start == str(runs["base"].resolve())
    assert load_plan.adapters == (runs["sft"].resolve(), runs["grpo"].resolve())


def test_plain_models_and_hub_ids_load_directly(runs, tmp_path: Path):
    assert plan("Qwen/Qwen3-0.6B").adapters == ()
    assert plan(runs["base"]).start == str(runs["base"])
    with pytest.raises(ManifestError, match="base= only applies"):
        plan("Qwen/Qwen3-0.6B", base="x")


def test_a_different_base_is_refused_before_loading(runs, tmp_path: Path):
    other = fake_base(tmp_path / "other", b"other weights")
    with pytest.raises(ManifestError, match="cannot be loaded on") as caught:
        plan(runs["grpo"], base=other)
    assert "trained on: base" in str(caught.value) and "sft adapter" in str(caught.value)


def test_an_earlier_stage_is_an_accepted_base(runs):
    assert plan(runs["grpo"], base=runs["sft"]).adapters == (runs["grpo"].resolve(),)
    assert plan(runs["grpo"], base=runs["base"]).adapters == (
        runs["sft"].resolve(),
        runs["grpo"].resolve(),
    )


def test_changed_base_weights_are_refused(runs):
    (runs["base"] / "model.safetensors").write_bytes(b"retrained base")
    with pytest.raises(ManifestError, match="has changed"):
        plan(runs["grpo"])


def test_missing_base_is_refused(runs, tmp_path: Path):
    (runs["base"] / "model.safetensors").rename(tmp_path / "moved")
    (runs["base"] / MANIFEST).unlink()
    runs["base"].rmdir()
    with pytest.raises(ManifestError, match="missing"):
        plan(runs["grpo"])


def test_retrained_parent_adapter_is_refused(runs):
    (runs["sft"] / "adapter_model.safetensors").write_bytes(b"sft weights, retrained")
    with pytest.raises(ManifestError, match=r"sft adapter .* has changed"):
        plan(runs["grpo"])


def test_moved_runs_are_found_through_relative_paths(runs, tmp_path: Path):
    moved = tmp_path / "moved"
    (runs["sft"].parent).rename(moved)
    load_plan = plan(moved / "grpo")
    assert load_plan.adapters == ((moved / "sft").resolve(), (moved / "grpo").resolve())


def test_missing_parent_adapter_is_refused(runs):
    for child in runs["sft"].iterdir():
        child.unlink()
    runs["sft"].rmdir()
    with pytest.raises(ManifestError, match="which is missing"):
        plan(runs["grpo"])


def test_adapter_without_manifest_is_refused(runs):
    (runs["grpo"] / MANIFEST).unlink()
    with pytest.raises(ManifestError, match="adapter directory without"):
        plan(runs["grpo"])
    with pytest.raises(ManifestError, match="adapter without"):
        plan(runs["sft"], base=runs["grpo"])


def test_broken_manifests_are_clear_errors(tmp_path: Path):
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ManifestError, match="unreadable"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"kind": "adapter", "chain": []}))
    with pytest.raises(ManifestError, match="non-empty chain"):
        read_manifest(tmp_path)


def test_standalone_export_stands_for_its_history(runs, tmp_path: Path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "model.safetensors").write_bytes(b"merged")
    write_manifest(export, Manifest("standalone", "export", read_manifest(runs["sft"]).chain))
    assert plan(export).adapters == ()
    # an exported SFT model can stand in for the SFT stage of the GRPO chain
    assert plan(runs["grpo"], base=export).adapters == (runs["grpo"].resolve(),)
    # training on top of an export starts a new chain from the export itself
    assert chain_of(export)[0]["source"] == str(export.resolve())


def test_prefix_uses_fingerprints():
    a = {"type": "base", "source": "x", "sha256": "1"}
    b = {"type": "base", "source": "y", "sha256": "1"}
    hub = {"type": "base", "source": "Qwen/Qwen3-0.6B", "sha256": None}
    assert is_prefix([a], [b, {"type": "adapter"}])
    assert is_prefix([hub], [dict(hub)]) and not is_prefix([hub], [a])
    assert not is_prefix([a, a], [a])
