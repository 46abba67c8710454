"""Word lists and word frequencies: how common a word is decides how much it discriminates."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources


@cache
def word_list(name: str) -> frozenset[str]:
    """A packaged list from ``qmd_reward/data``: one entry a line, ``#`` comments ignored."""
    text = resources.files("qmd_reward").joinpath("data", name).read_text(encoding="utf-8")
    # Only whole-line comments: '#' is part of names such as c# and f#.
    entries = (
        line.strip().lower() for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    return frozenset(entry for entry in entries if entry)


@lru_cache(maxsize=200_000)
def zipf(word: str, lang: str = "en") -> float:
    """Zipf frequency (0 = unknown, 3 = rare, 5 = common, 7 = 'the') from wordfreq.

    wordfreq carries frequencies from several large corpora in many languages; a hand-made
    table would miss most of the words technical queries use.
    """
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


def rarity(word: str) -> float:
    """Weight in [0.1, 1]: rare words are what make a query specific."""
    return min(1.0, max(0.1, (6.5 - zipf(word)) / 4.0))
