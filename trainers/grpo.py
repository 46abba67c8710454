"""GRPO on top of a merged SFT model, rewarded by :class:`qmd_reward.trl.QMDReward`."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from qmd_reward.remote import RemoteQMDReward
from qmd_reward.trl import QMDReward

from .config import ConfigError, RewardConfig, TrainConfig
from .manifest import read_manifest
from .stage import StageResult, run_stage
from .trl_args import build_args

log = logging.getLogger(__name__)

NO_KL_WARNING = (
    "training.beta is 0: GRPO without a KL term drifted to a 0 % score in the original qmd "
    "run. Keep it above 0 (0.04 is the recipe's) unless you are measuring exactly that."
)


def check_start(model_dir: str) -> None:
    """GRPO starts from a directory the trainers wrote (normally ``train sft``'s output)."""
    manifest = read_manifest(model_dir)
    if manifest is None:
        raise ConfigError(
            f"model: {model_dir} has no qmd_manifest.json. GRPO starts from an SFT output "
            "directory: run `qmd-reward train sft` first and point model at its output_dir."
        )
    if not any(step.get("stage") == "sft" for step in manifest.chain):
        log.warning("model: %s has no SFT stage in its chain; GRPO from a raw model", model_dir)


def warn_if_no_kl(training: dict[str, Any]) -> None:
    if float(training.get("beta", 0.0)) == 0.0:
        warnings.warn(NO_KL_WARNING, stacklevel=2)
        log.warning(NO_KL_WARNING)


def base_reward(config: RewardConfig, train_rows: Any) -> QMDReward | RemoteQMDReward:
    """The reward, with the retrieval dimension as configured, or the served one."""
    if config.remote_url is not None:
        log.info("scoring with the qmd-reward server at %s", config.remote_url)
        return RemoteQMDReward(config.remote_url)
    if config.retrieval == "none":
        return QMDReward()
    if config.retrieval == "references":
        if "reference" not in train_rows.column_names:
            return QMDReward()
        return QMDReward.with_references(zip(train_rows["query"], train_rows["reference"]))
    return QMDReward.with_corpus(config.retrieval)


def reward_functions(config: RewardConfig, train_rows: Any) -> tuple[list[Any], list[float] | None]:
    """The total score as one reward, or weighted per-dimension rewards."""
    reward = base_reward(config, train_rows)
    if not config.dimension_weights:
        return [reward], None
    weights = dict(config.dimension_weights)
    if not isinstance(reward, QMDReward):  # the config check refuses this; mypy cannot see it
        raise ConfigError("reward.dimension_weights needs the in-process reward")
    functions = reward.per_dimension(list(weights))
    return list(functions), [float(weights[f.dimension]) for f in functions]


def train_grpo(
    config: TrainConfig,
    rewards: list[Any] | None = None,
    *,
    on_trainer: Callable[[Any], None] | None = None,
) -> StageResult:
    """Train a GRPO adapter; ``rewards`` replaces the configured reward functions and
    ``on_trainer`` sees the trainer before it trains."""
    from trl import GRPOConfig, GRPOTrainer

    # Imported here: the data modules are being moved into a package of their own.
    from .data import grpo_datasets, load_split

    check_start(config.model)
    training = dict(config.training)
    warn_if_no_kl(training)
    train_rows, eval_rows = grpo_datasets(load_split(config.data))
    if rewards is None or config.reward.dimension_weights:
        configured, weights = reward_functions(config.reward, train_rows)
    else:  # rewards given and one weight each: the configured ones are not needed
        configured, weights = [], None
    if rewards is None:
        rewards = configured
    elif weights is not None and len(weights) != len(rewards):
        raise ConfigError("reward.dimension_weights does not match the reward functions given")
    if weights is not None:
        if "reward_weights" in training:
            raise ConfigError("set reward.dimension_weights or training.reward_weights, not both")
        training["reward_weights"] = weights
    args = build_args(GRPOConfig, training, output_dir=config.output_dir)
    # The SFT adapter is merged on loading; the new LoRA goes on top, and with it disabled
    # the same weights serve as the KL reference: the SFT model.
    return run_stage(
        "grpo",
        GRPOTrainer,
        config,
        args,
        (train_rows, eval_rows),
        on_trainer=on_trainer,
        reward_funcs=rewards,
    )
