"""The judge's names the data modules use: the one place they import :mod:`qmd_reward` from.

Only the judge's public surface: the top-level package and :mod:`qmd_reward.present`.
"""

from __future__ import annotations

from qmd_reward import (
    LINE_TYPES,
    RATING_NAMES,
    SCORE_BATCH,
    Record,
    RecordError,
    ScoreCard,
    Scorer,
    __version__,
    batched,
    expansion_from_pairs,
    kept_by_qmd,
    parse_expansion,
    parse_record,
    read_paths,
    read_records,
    split_only_mode,
    user_message,
)
from qmd_reward.present import histogram, result_record, write_table

__all__ = [
    "LINE_TYPES",
    "RATING_NAMES",
    "SCORE_BATCH",
    "Record",
    "RecordError",
    "ScoreCard",
    "Scorer",
    "__version__",
    "batched",
    "expansion_from_pairs",
    "histogram",
    "kept_by_qmd",
    "parse_expansion",
    "parse_record",
    "read_paths",
    "read_records",
    "result_record",
    "split_only_mode",
    "user_message",
    "write_table",
]
