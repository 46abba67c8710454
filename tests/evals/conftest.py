from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

import pytest

from qmd_reward.scorecard import ScoreCard, rating_for


class FixedScorer:
    """Scores an expansion written as ``score=0.7`` at exactly 0.7: expected numbers in tests
    then follow from the test data alone, not from the rubric of the day."""

    def score_batch(self, pairs: Sequence[tuple[str, str]]) -> list[ScoreCard]:
        cards = []
        for _, expansion in pairs:
            value = float(expansion.split("=", 1)[1])
            cards.append(
                ScoreCard(
                    score=value,
                    rating=rating_for(value),
                    dimensions=MappingProxyType({"format": 3 * value}),
                    deductions=() if value >= 0.8 else (f"low {value}",),
                    entities=(),
                    max_points=3.0,
                )
            )
        return cards


@pytest.fixture
def fixed_scorer() -> FixedScorer:
    return FixedScorer()


@pytest.fixture
def jsonl(tmp_path: Path):
    """Write rows (dicts, or raw strings kept as they are) to tmp_path/NAME, one a line."""

    def write(name: str, rows: list[dict | str]) -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    return write
