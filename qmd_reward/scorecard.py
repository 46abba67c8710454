"""The result of scoring one expansion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# Lower bounds of each rating, best first (the original rubric's thresholds).
RATINGS = (("Excellent", 0.80), ("Good", 0.60), ("Acceptable", 0.40), ("Poor", 0.20))
FAILED = "Failed"
RATING_NAMES = (*(name for name, _ in RATINGS), FAILED)


def rating_for(score: float) -> str:
    """The rating of a score.

    >>> rating_for(0.85), rating_for(0.1)
    ('Excellent', 'Failed')
    """
    for name, floor in RATINGS:
        if score >= floor:
            return name
    return FAILED


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ScoreCard:
    """A score in [0, 1] and why.

    ``dimensions`` are the points each part earned (``lex``, ``vec``, ``hyde``, ``format``,
    and ``retrieval`` when the scorer could judge retrieval); ``penalties`` the factors that
    multiplied their sum, by name; ``deductions`` the reasons, costliest first; ``lines``
    what each typed line earned for QMD.
    """

    score: float
    rating: str
    dimensions: Mapping[str, float]
    deductions: tuple[str, ...]
    entities: tuple[str, ...]
    max_points: float
    only_mode: str | None = None
    penalties: Mapping[str, float] = field(default_factory=_empty)
    extras: Mapping[str, Any] = field(default_factory=_empty)
    lines: tuple[tuple[str, str, float], ...] = ()  # (type, text, value in [0, 1]) per line

    @property
    def total(self) -> float:
        return sum(self.dimensions.values())

    @property
    def factor(self) -> float:
        """The product of the penalties (1.0 without any)."""
        product = 1.0
        for value in self.penalties.values():
            product *= value
        return product

    @property
    def main_deduction(self) -> str:
        return self.deductions[0] if self.deductions else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rating": self.rating,
            "dimensions": dict(self.dimensions),
            "penalties": dict(self.penalties),
            "deductions": list(self.deductions),
            "entities": list(self.entities),
            "max_points": self.max_points,
            "only_mode": self.only_mode,
            "lines": [list(line) for line in self.lines],
            **({"extras": dict(self.extras)} if self.extras else {}),
        }

    def __str__(self) -> str:
        dims = ", ".join(f"{k}={v:g}" for k, v in self.dimensions.items())
        text = f"{self.score:.3f} {self.rating} ({dims})"
        if self.deductions:
            text += " - " + "; ".join(self.deductions[:3])
        return text
