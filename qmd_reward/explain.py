"""A person-readable breakdown of one score: the query as the judge reads it, what each line
earned, the dimensions, the penalties and the reasons."""

from __future__ import annotations

from typing import TextIO

from .scorer import Scorer


def explain(query: str, expansion: str, scorer: Scorer, out: TextIO) -> None:
    info = scorer.analyse(query)
    card = scorer.score(query, expansion)
    w = out.write
    w(f"query:     {info.text!r}" + (f"  (/only:{info.only})" if info.only else "") + "\n")
    w(f"entities:  {', '.join(e.name for e in info.entities) or '(none)'}\n")
    terms = ", ".join(f"{t.word}{'*' if t.discriminating else ''}" for t in info.terms)
    w(f"key terms: {terms or '(none)'}   (* discriminating)\n\n")
    w("lines (value for QMD, 0 to 1):\n")
    for kind, text, value in card.lines:
        w(f"  {value:4.2f}  {kind:<5} {text}\n")
    w("\ndimensions:\n")
    for name, points in card.dimensions.items():
        w(f"  {name:<10} {points:6.1f}\n")
    w(f"  {'total':<10} {card.total:6.1f} / {card.max_points:g}\n")
    if card.penalties:
        w("\npenalties (multiply the total):\n")
        for name, factor in card.penalties.items():
            w(f"  {name:<18} x{factor:.3f}\n")
    w("\n")
    if card.deductions:
        w("deductions (costliest first):\n")
        for note in card.deductions:
            w(f"  - {note}\n")
    else:
        w("deductions: none\n")
    w(f"\nscore: {card.score:.3f}  rating: {card.rating}\n")
