"""A person-readable breakdown of one score."""

from __future__ import annotations

from typing import TextIO

from . import rubric
from .expansion import parse_expansion
from .scorer import Scorer


def explain(query: str, expansion: str, scorer: Scorer, out: TextIO) -> None:
    info = scorer.analyse(query)
    card = scorer.score(query, expansion)
    parsed = parse_expansion(expansion, query=info.text)
    w = out.write
    w(f"query:     {info.text!r}" + (f"  (/only:{info.only})" if info.only else "") + "\n")
    w(f"entities:  {', '.join(info.entities) or '(none)'}\n")
    w(f"key terms: {', '.join(sorted(info.key_terms)) or '(none)'}\n\n")
    w("lines:\n")
    for line in parsed.lines:
        issues = f"   [{', '.join(i.value for i in line.issues)}]" if line.issues else ""
        w(f"  {line.type:<5} {line.text}{issues}\n")
    for bad in parsed.invalid:
        w(f"  ???   {bad}   [no valid prefix]\n")
    if parsed.has_think:
        w("  (a <think> block was removed)\n")
    w("\ndimensions:\n")
    for name, points in card.dimensions.items():
        w(f"  {name:<10} {points:6.1f} / {rubric.MAX_POINTS.get(name, 0)}\n")
    w(f"  {'total':<10} {card.total:6.1f} / {card.max_points:g}\n\n")
    if card.deductions:
        w("deductions:\n")
        for note in card.deductions:
            w(f"  - {note}\n")
    else:
        w("deductions: none\n")
    w(f"\nscore: {card.score:.3f}  rating: {card.rating}\n")
