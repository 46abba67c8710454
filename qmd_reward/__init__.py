"""qmd-reward: score QMD query expansions, as an eval scorer and as a GRPO reward."""

from .entities import EntityDetector, HeuristicEntityDetector
from .expansion import Expansion, Line, LineIssue, parse_expansion, split_only_mode
from .scorecard import ScoreCard, rating_for
from .scorer import Scorer, score

__version__ = "0.1.0"

__all__ = [
    "EntityDetector",
    "Expansion",
    "HeuristicEntityDetector",
    "Line",
    "LineIssue",
    "ScoreCard",
    "Scorer",
    "__version__",
    "parse_expansion",
    "rating_for",
    "score",
    "split_only_mode",
]
