"""``python -m qmd_reward`` with spies, for tests that launch several training processes.

``accelerate launch tests/training/spy_launch.py train grpo --config FILE`` runs the shipped
command line unchanged, but each process first wraps three things and appends what they saw
to ``$QMD_SPY_DIR/rank<N>.jsonl``:

- the reward's ``__call__`` (``QMDReward`` and ``RemoteQMDReward``): the step, the queries,
  the completion texts, the rewards returned and the metrics passed to ``log_metric``;
- ``trainers.stage.write_manifest``: every manifest written, by which process;
- ``trainers.stage.save_stage``: the trainer's log history as this process holds it.

The real functions still run; the spies only watch. Not a test module: pytest leaves it alone.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPY_DIR_ENV = "QMD_SPY_DIR"


def rank() -> int:
    """This process's rank as accelerate sees it (0 when not launched by it)."""
    from accelerate import PartialState

    return int(PartialState().process_index)


def record(kind: str, **fields: Any) -> None:
    where = Path(os.environ[SPY_DIR_ENV])
    where.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, "rank": rank(), **fields}, default=str)
    with open(where / f"rank{rank()}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def spy_reward(cls: type) -> None:
    from qmd_reward.trl import completion_text

    original: Callable[..., list[Any]] = cls.__call__

    def call(
        self: Any,
        prompts: Any = None,
        completions: Any = None,
        completion_ids: Any = None,
        **kwargs: Any,
    ) -> list[Any]:
        metrics: dict[str, float] = {}
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):

            def watched(name: str, value: float) -> None:
                metrics[name] = value
                log_metric(name, value)

            kwargs["log_metric"] = watched
        rewards = original(self, prompts, completions, completion_ids, **kwargs)
        state = kwargs.get("trainer_state")
        record(
            "reward",
            reward=cls.__name__,
            step=getattr(state, "global_step", None),
            queries=list(kwargs.get("query") or []),
            completions=[completion_text(c) for c in completions or []],
            rewards=list(rewards),
            metrics=metrics,
        )
        return rewards

    cls.__call__ = call  # type: ignore[method-assign]


def spy_stage() -> None:
    import trainers.stage as stage

    write_manifest = stage.write_manifest
    save_stage = stage.save_stage

    def watched_write(directory: Any, manifest: Any) -> Path:
        record("manifest", directory=str(directory), stage=manifest.stage)
        return write_manifest(directory, manifest)

    def watched_save(trainer: Any, *args: Any, **kwargs: Any) -> Any:
        result = save_stage(trainer, *args, **kwargs)
        record("history", log_history=result.log_history, steps=result.steps)
        return result

    stage.write_manifest = watched_write  # type: ignore[assignment]
    stage.save_stage = watched_save  # type: ignore[assignment]


def main() -> None:
    from qmd_reward.remote import RemoteQMDReward
    from qmd_reward.trl import QMDReward

    spy_reward(QMDReward)
    spy_reward(RemoteQMDReward)
    spy_stage()
    sys.argv = ["qmd-reward", *sys.argv[1:]]
    runpy.run_module("qmd_reward", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
