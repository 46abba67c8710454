"""GRPO past one process: two training processes on the CPU (gloo), launched as users
launch them, and a reward served by ``qmd-reward serve`` (``reward.remote_url``).

``accelerate launch --config_file trainers/configs/accelerate-cpu.yaml`` runs the shipped
command line, ``qmd-reward train grpo --config FILE``, through ``spy_launch.py``, which
records what each process's reward saw, which process wrote a manifest, and each process's
log history. The run is done twice with the same seed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[2]
SPY = Path(__file__).with_name("spy_launch.py")
ACCELERATE_CPU = ROOT / "trainers" / "configs" / "accelerate-cpu.yaml"
PROCESSES = 2
STEPS = 2
PER_DEVICE = 4
GENERATIONS = 4
# Fields that measure time, not training: they differ between two identical runs.
TIMING = ("step_time", "train_runtime", "train_samples_per_second", "train_steps_per_second")


def queries(train_file: Path) -> list[str]:
    found = []
    for line in train_file.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line)["query"])
        except ValueError:
            continue  # the fixture's file holds one line that is not JSON, on purpose
    return found


def generation_bias(model_dir: Path, train_file: Path) -> list[list[Any]]:
    """A ``sequence_bias`` towards ``lex:`` lines of the queries' words.

    Two SFT steps leave the tiny model sampling noise, which the judge scores 0.0 throughout;
    then the advantages, the loss and the update are all zero and a check that rewards are
    gathered, or that training is repeatable, would pass for nothing. Biased sampling
    writes lines such as ``lex: authentication tls`` that earn points, so rewards differ
    within groups and the GRPO step has work to do.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def ids(text: str) -> list[int]:
        return list(tokenizer.encode(text, add_special_tokens=False))

    words = sorted({i for q in queries(train_file) for i in ids(" " + q)})
    (lex,), (colon,), (newline,) = ids("lex"), ids(":"), ids("\n")
    return [[[i], 6.0] for i in words] + [
        [[newline], 7.0],  # short lines
        [[newline, lex], 12.0],  # that start with lex
        [[lex, colon], 14.0],  # followed by its colon
    ]


def write_config(path: Path, model: Path, train_file: Path, output_dir: Path, **reward: Any):
    """A GRPO config of two short steps; ``reward`` fills its reward section."""
    import yaml

    config = {
        "kind": "grpo",
        "model": str(model),
        "output_dir": str(output_dir),
        "dtype": "float32",
        "data": {"files": [str(train_file)], "validation_fraction": 0.2, "seed": 0},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.05, "target_modules": ["q_proj", "v_proj"]},
        "reward": reward or {"retrieval": "references"},
        "training": {
            "max_steps": STEPS,
            "use_cpu": True,
            "logging_steps": 1,
            "report_to": "none",
            "save_strategy": "no",
            "seed": 0,
            "activation_checkpointing": False,
            "per_device_train_batch_size": PER_DEVICE,
            "num_generations": GENERATIONS,
            "max_completion_length": 24,
            "learning_rate": 1e-3,
            "disable_tqdm": True,  # metrics printed as one line each, by the main process
            "generation_kwargs": {"sequence_bias": generation_bias(model, train_file)},
        },
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def launch(config: Path, spy_dir: Path) -> subprocess.CompletedProcess[str]:
    """``accelerate launch`` of the CLI on PROCESSES CPU processes (free port: no clashes)."""
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ACCELERATE_CPU),
        "--num_processes",
        str(PROCESSES),
        "--main_process_port",
        "0",
        str(SPY),
        "train",
        "grpo",
        "--config",
        str(config),
    ]
    env = {**os.environ, "QMD_SPY_DIR": str(spy_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def spied(spy_dir: Path) -> dict[int, list[dict[str, Any]]]:
    """Each rank's records, in the order it wrote them."""
    return {
        rank: [
            json.loads(line)
            for line in (spy_dir / f"rank{rank}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        for rank in range(PROCESSES)
    }


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def step_logs(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [h for h in history if "loss" in h]


def without_timing(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, sft_run, train_file: Path) -> Iterator[dict]:
    """Two launches of the same config but for output_dir; what each spied and printed."""
    root = tmp_path_factory.mktemp("multiprocess")
    found = {}
    for name in ("first", "second"):
        out = root / name / "grpo"
        config = write_config(root / f"{name}.yaml", sft_run.output_dir, train_file, out)
        done = launch(config, root / name / "spy")
        found[name] = {"out": out, "spy": spied(root / name / "spy"), "stdout": done.stdout}
    yield found


def test_each_rank_scores_its_own_completions(runs):
    spy = runs["first"]["spy"]
    calls = {rank: of_kind(records, "reward") for rank, records in spy.items()}
    assert all(len(c) == STEPS for c in calls.values())
    for step in range(STEPS):
        per_rank = [calls[rank][step] for rank in range(PROCESSES)]
        assert all(c["step"] == step and c["rank"] == r for r, c in enumerate(per_rank))
        assert all(len(c["completions"]) == PER_DEVICE for c in per_rank)
        # Whole groups go to one process here: each rank's prompts are its own.
        queries = [set(c["queries"]) for c in per_rank]
        assert all(len(q) == PER_DEVICE // GENERATIONS for q in queries)
        assert not set.intersection(*queries)
        assert per_rank[0]["completions"] != per_rank[1]["completions"]


def test_metrics_are_gathered_over_both_ranks_and_printed_once(runs):
    spy, stdout = runs["first"]["spy"], runs["first"]["stdout"]
    histories = [of_kind(spy[rank], "history")[0]["log_history"] for rank in range(PROCESSES)]
    # Every rank holds the same, gathered, numbers.
    assert without_timing(histories[0]) == without_timing(histories[1])
    logged = step_logs(histories[0])
    assert len(logged) == STEPS
    for step, entry in enumerate(logged):
        calls = [of_kind(spy[rank], "reward")[step] for rank in range(PROCESSES)]
        rewards = [r for c in calls for r in c["rewards"]]
        assert len(rewards) == PROCESSES * PER_DEVICE  # the two ranks cover the batch
        assert entry["rewards/qmd/mean"] == pytest.approx(sum(rewards) / len(rewards), abs=1e-6)
        # log_metric values: each rank's batch mean, averaged by TRL over the ranks that
        # logged the name (qmd/retrieval only where some completion has that dimension).
        names = {name for c in calls for name in c["metrics"]}
        assert names
        for name in names:
            values = [c["metrics"][name] for c in calls if name in c["metrics"]]
            assert entry[name] == pytest.approx(sum(values) / len(values), rel=1e-5, abs=1e-6)
    assert all(math.isfinite(e["loss"]) for e in logged)
    # Without a completion that earns points every check here would hold for nothing.
    assert any(r > 0 for rank in spy for c in of_kind(spy[rank], "reward") for r in c["rewards"])
    # Printed by the main process only: one line per step, one summary.
    printed = [line for line in stdout.splitlines() if line.startswith("{'loss'")]
    assert len(printed) == STEPS
    assert sum("'train_runtime'" in line for line in stdout.splitlines()) == 1
    assert stdout.count("grpo output:") == 1


def test_the_main_process_alone_writes_the_one_manifest(runs):
    from trainers.loading import plan
    from trainers.manifest import MANIFEST, read_manifest

    run = runs["first"]
    writes = {rank: of_kind(records, "manifest") for rank, records in run["spy"].items()}
    assert [w["directory"] for w in writes[0]] == [str(run["out"])]
    assert all(not writes[rank] for rank in range(1, PROCESSES))
    assert [p.name for p in run["out"].glob("qmd_manifest*")] == [MANIFEST]
    manifest = read_manifest(run["out"])
    assert manifest is not None
    assert [s.get("stage", s["type"]) for s in manifest.chain] == ["base", "sft", "grpo"]
    assert plan(run["out"]).adapters[-1] == run["out"].resolve()  # fingerprints check out


def test_the_run_is_repeatable_for_a_seed(runs):
    first, second = runs["first"], runs["second"]
    for rank in range(PROCESSES):
        a, b = of_kind(first["spy"][rank], "reward"), of_kind(second["spy"][rank], "reward")
        assert a == b  # the same completions, queries, rewards and metrics
        history_a = of_kind(first["spy"][rank], "history")[0]["log_history"]
        history_b = of_kind(second["spy"][rank], "history")[0]["log_history"]
        assert without_timing(history_a) == without_timing(history_b)
    chains = [json.loads((r["out"] / "qmd_manifest.json").read_text()) for r in (first, second)]
    assert chains[0]["chain"][-1]["sha256"] == chains[1]["chain"][-1]["sha256"]


# -- the reward in another process ------------------------------------------------------------


class Compared:
    """The trainer's reward, called as TRL calls it, next to an in-process reward given the
    very same batch; every pair of answers is kept."""

    def __init__(self, served: Any, local: Any) -> None:
        self.__name__ = served.__name__
        self.served = served
        self.local = local
        self.pairs: list[tuple[list[float], list[float]]] = []

    def __call__(self, prompts: Any = None, completions: Any = None, **kwargs: Any) -> Any:
        got = self.served(prompts=prompts, completions=completions, **kwargs)
        columns = {k: v for k, v in kwargs.items() if k not in ("log_metric", "log_extra")}
        self.pairs.append((got, self.local(prompts=prompts, completions=completions, **columns)))
        return got


def test_grpo_scores_on_a_served_reward_as_in_process(
    tmp_path: Path, sft_run, train_file: Path
) -> None:
    import threading

    import yaml

    from qmd_reward.remote import RemoteQMDReward
    from qmd_reward.serve import make_server
    from qmd_reward.trl import QMDReward
    from trainers.config import config_from_dict
    from trainers.data import grpo_datasets, load_split
    from trainers.grpo import train_grpo

    path = write_config(tmp_path / "remote.yaml", sft_run.output_dir, train_file, tmp_path / "out")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["training"]["max_steps"] = 1
    # The server and the comparison both judge retrieval against the training references,
    # as the trainer's own reward does; BM25 only, so neither loads an embedding model.
    rows = grpo_datasets(load_split(config_from_dict(raw).data))[0]
    references = list(zip(rows["query"], rows["reference"], strict=True))
    served = QMDReward.with_references(references, embedder="none", log_details=False)
    server = make_server(served, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        raw["reward"] = {"remote_url": server.url}
        local = QMDReward.with_references(references, embedder="none", log_details=False)
        found: list[Compared] = []

        def compare(trainer: Any) -> None:
            assert isinstance(trainer.reward_funcs[0], RemoteQMDReward)
            found.append(Compared(trainer.reward_funcs[0], local))
            trainer.reward_funcs[0] = found[0]

        result = train_grpo(config_from_dict(raw), on_trainer=compare)
    finally:
        server.shutdown()
        server.server_close()
    assert result.steps == 1
    (compared,) = found
    assert compared.pairs
    for remote_scores, local_scores in compared.pairs:
        assert remote_scores == pytest.approx(local_scores, abs=1e-9)
    logged = step_logs(result.log_history)
    assert "rewards/qmd/mean" in logged[0] and "qmd/lex" in logged[0]
