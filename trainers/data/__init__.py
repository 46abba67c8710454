"""Training data: what an example is, the checks and preparation of training files, and the
``datasets`` objects the trainers train on.

- :mod:`.examples` load, deduplicate, split (seeded, stratified) and shape SFT and GRPO rows;
  the one definition the ``data prepare`` command and the trainers share.
- :mod:`.prepare` ``data prepare``: the split files, short queries, the dataset card.
- :mod:`.validate` ``data validate``: every schema problem of every line.
- :mod:`.audit` ``data audit``: scores every example through the judge's public API.
- :mod:`.load` a config's ``data`` section to ``datasets`` objects for TRL.
- :mod:`.cli` the ``data`` commands.
- :mod:`._core` the names of :mod:`qmd_reward` these modules use, imported in one place.
"""

from __future__ import annotations

from .load import grpo_datasets, load_split, sft_datasets

__all__ = ["grpo_datasets", "load_split", "sft_datasets"]
