"""qmd-reward: score QMD query expansions, as an eval scorer and as a GRPO reward.

The judge's flow: text -> :func:`parse_expansion` -> facts per (query, line)
(:mod:`qmd_reward.facts`) -> rules (:mod:`qmd_reward.rules`) -> :class:`ScoreCard`, all run by
:class:`Scorer`. Importing this package never imports torch, transformers or trl.
"""

from .detectors import EntityDetector, HeuristicEntityDetector
from .parse import (
    LINE_TYPES,
    Expansion,
    Line,
    expansion_from_pairs,
    kept_by_qmd,
    parse_expansion,
    split_only_mode,
)
from .prompts import user_message
from .records import Record, RecordError, batched, parse_record, read_paths, read_records
from .rules import DIMENSIONS, dimension_max
from .scorecard import RATING_NAMES, ScoreCard, rating_for
from .scorer import SCORE_BATCH, Scorer, score

__version__ = "0.2.0"

__all__ = [
    "DIMENSIONS",
    "LINE_TYPES",
    "RATING_NAMES",
    "SCORE_BATCH",
    "EntityDetector",
    "Expansion",
    "HeuristicEntityDetector",
    "Line",
    "Record",
    "RecordError",
    "ScoreCard",
    "Scorer",
    "__version__",
    "batched",
    "dimension_max",
    "expansion_from_pairs",
    "kept_by_qmd",
    "parse_expansion",
    "parse_record",
    "rating_for",
    "read_paths",
    "read_records",
    "score",
    "split_only_mode",
    "user_message",
]
