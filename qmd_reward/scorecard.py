"""The result of scoring one expansion."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

# Lower bounds of each rating, best first (the original rubric's thresholds).
RATINGS = (("Excellent", 0.80), ("Good", 0.60), ("Acceptable", 0.40), ("Poor", 0.20))
FAILED = "Failed"
RATING_NAMES = (*(name for name, _ in RATINGS), FAILED)


def rating_for(score: float) -> str:
    for name, floor in RATINGS:
        if score >= floor:
            return name
    return FAILED


# Shared by every card without extras: a fresh proxy per card is one more object for the
# garbage collector to track, and GRPO makes millions of cards.
NO_EXTRAS: MappingProxyType[str, Any] = MappingProxyType({})
_DIMENSION_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """Score in [0, 1], its rating, the points per dimension and why points were lost."""

    score: float
    rating: str
    dimensions: MappingProxyType[str, float]
    deductions: tuple[str, ...]
    entities: tuple[str, ...]
    max_points: float
    only_mode: str | None = None
    extras: MappingProxyType[str, Any] = field(default_factory=lambda: NO_EXTRAS)

    @property
    def total(self) -> float:
        return sum(self.dimensions.values())

    @property
    def main_deduction(self) -> str:
        return self.deductions[0] if self.deductions else ""

    def as_tuple(self) -> tuple:
        """The card as tuples of plain values (what the scorer's cache keeps).

        Dimension names go in a tuple shared by every card with the same dimensions and the
        points at the end: tuples nested deeper stay tracked by the garbage collector for
        longer, and a GRPO run caches many cards.
        """
        names = tuple(self.dimensions)
        return (
            self.score,
            self.rating,
            _DIMENSION_NAMES.setdefault(names, names),
            self.deductions,
            self.entities,
            self.max_points,
            self.only_mode,
            tuple(self.extras.items()),
            *self.dimensions.values(),
        )

    @classmethod
    def from_tuple(cls, values: tuple) -> ScoreCard:
        """The card :meth:`as_tuple` gave."""
        score, rating, names, deductions, entities, max_points, only_mode, extras = values[:8]
        points = values[8:]
        return new_card(
            score,
            rating,
            MappingProxyType(dict(zip(names, points))),
            deductions,
            entities,
            max_points,
            only_mode,
            MappingProxyType(dict(extras)) if extras else NO_EXTRAS,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rating": self.rating,
            "dimensions": dict(self.dimensions),
            "deductions": list(self.deductions),
            "entities": list(self.entities),
            "max_points": self.max_points,
            "only_mode": self.only_mode,
            **({"extras": dict(self.extras)} if self.extras else {}),
        }

    def __str__(self) -> str:
        dims = ", ".join(f"{k}={v:g}" for k, v in self.dimensions.items())
        text = f"{self.score:.3f} {self.rating} ({dims})"
        if self.deductions:
            text += " - " + "; ".join(self.deductions[:3])
        return text


# The slots' own setters: a frozen dataclass's __init__ goes through object.__setattr__ once
# per field, which costs twice as much, and the scorer builds one card per completion.
(_score, _rating, _dimensions, _deductions, _entities, _max_points, _only_mode, _extras) = (
    getattr(ScoreCard, f.name).__set__ for f in fields(ScoreCard)
)


def new_card(
    score: float,
    rating: str,
    dimensions: MappingProxyType[str, float],
    deductions: tuple[str, ...],
    entities: tuple[str, ...],
    max_points: float,
    only_mode: str | None,
    extras: MappingProxyType[str, Any],
) -> ScoreCard:
    """``ScoreCard(...)`` with the fields in order, without running ``__init__``."""
    card = object.__new__(ScoreCard)
    _score(card, score)
    _rating(card, rating)
    _dimensions(card, dimensions)
    _deductions(card, deductions)
    _entities(card, entities)
    _max_points(card, max_points)
    _only_mode(card, only_mode)
    _extras(card, extras)
    return card
