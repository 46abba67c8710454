"""Session fixtures: a synthetic training set, a tiny base model, one SFT run, one GRPO run.

Everything is built offline in a temporary directory; the runs are two optimizer steps each,
enough to exercise every code path (chat formatting, masking, reward, manifests) in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOPICS = [
    ("ssh key authentication", "tech"),
    ("postgres connection pool exhausted", "tech"),
    ("rust borrow checker error", "tech"),
    ("docker compose volumes", "tech"),
    ("react useEffect cleanup", "tech"),
    ("kubernetes pod restart loop", "tech"),
    ("git rebase interactive", "tech"),
    ("python asyncio timeout", "tech"),
    ("nginx reverse proxy headers", "tech"),
    ("tls certificate rotation", "tech"),
    ("sourdough starter feeding schedule", "food"),
    ("cast iron pan seasoning", "food"),
    ("cold brew coffee ratio", "food"),
    ("fermented hot sauce recipe", "food"),
    ("pizza dough hydration", "food"),
    ("knife sharpening angle", "food"),
    ("meeting notes with Priya about the Q3 budget", "personal"),
    ("dentist appointment reminder", "personal"),
    ("tax return deadline checklist", "personal"),
    ("who is TDS motorsports", "personal"),
]


def training_record(query: str, category: str) -> dict:
    words = query.split()
    return {
        "query": query,
        "category": category,
        "output": [
            ["lex", " ".join(words[:3])],
            ["lex", f'"{" ".join(words[:2])}" {words[-1]}'],
            ["vec", f"how do I deal with {query} step by step"],
            ["hyde", f"A practical note on {query}: what it is, why it matters, how to fix it."],
        ],
    }


def write_training_data(path: Path) -> Path:
    rows = [training_record(q, c) for q, c in TOPICS]
    rows += [{**training_record(q, c), "query": f"{q} /only:lex"} for q, c in TOPICS[:6]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "this line is not json\n")
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trainers")


@pytest.fixture(scope="session")
def train_file(workdir: Path) -> Path:
    return write_training_data(workdir / "train.jsonl")


@pytest.fixture(scope="session")
def tiny_base(workdir: Path, train_file: Path) -> Path:
    pytest.importorskip("transformers")
    from trainers.tiny import make_tiny_model

    return make_tiny_model(workdir / "tiny", [str(train_file)])


def data_section(train_file: Path) -> dict:
    return {"files": [str(train_file)], "validation_fraction": 0.2, "seed": 0}


QUICK = {
    "max_steps": 2,
    "use_cpu": True,
    "logging_steps": 1,
    "report_to": "none",
    "save_strategy": "no",
    "seed": 0,
    "activation_checkpointing": False,
}


@pytest.fixture(scope="session")
def sft_run(workdir: Path, tiny_base: Path, train_file: Path):
    pytest.importorskip("trl")
    from trainers.config import config_from_dict
    from trainers.sft import train_sft

    config = config_from_dict(
        {
            "kind": "sft",
            "model": str(tiny_base),
            "output_dir": str(workdir / "runs" / "sft"),
            "dtype": "float32",
            "data": data_section(train_file),
            "training": {**QUICK, "per_device_train_batch_size": 4, "learning_rate": 1e-3},
        }
    )
    return train_sft(config)


@pytest.fixture(scope="session")
def grpo_run(workdir: Path, sft_run, train_file: Path):
    from trainers.config import config_from_dict
    from trainers.grpo import train_grpo

    config = config_from_dict(
        {
            "kind": "grpo",
            "model": str(sft_run.output_dir),
            "output_dir": str(workdir / "runs" / "grpo"),
            "dtype": "float32",
            "data": data_section(train_file),
            "lora": {"r": 4, "alpha": 8, "dropout": 0.05, "target_modules": ["q_proj", "v_proj"]},
            "training": {
                **QUICK,
                "per_device_train_batch_size": 4,
                "num_generations": 4,
                "max_completion_length": 24,
                "learning_rate": 1e-4,
            },
        }
    )
    return train_grpo(config)
