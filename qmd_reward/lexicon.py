"""Word lists and word frequencies: how common a word is decides how much it discriminates."""

from __future__ import annotations

import math
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
    # wordfreq tokenises and normalises every word it is asked about, which costs more than
    # the rest of scoring a line. A plain lowercase ASCII word is its own single token, so its
    # entry is read directly and put through wordfreq's own arithmetic (same result).
    if word.isascii() and word.isalpha() and word.islower():
        found = _frequencies(lang).get(word)
        return 0.0 if found is None else _zipf_of(found)
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


def known_word(word: str, lang: str = "en") -> bool:
    """``zipf(word, lang) != 0`` for a plain lowercase ASCII word, without its cache: the
    dictionary test of a word seen for the first time."""
    found = _frequencies(lang).get(word)
    return found is not None and _zipf_of(found) != 0


_MIN_FREQ = 10**0.0 / 1e9  # wordfreq's floor for zipf_frequency(minimum=0)


@lru_cache(maxsize=4096)
def _zipf_of(found: float) -> float:
    """wordfreq's arithmetic from a stored frequency to a Zipf value. Its tables hold a few
    hundred distinct frequencies (they are binned), so each is worked out once."""
    freq = max(1.0 / (1.0 / found), _MIN_FREQ)
    freq = round(freq, math.floor(-math.log(freq, 10)) + 3)
    return round(math.log(freq, 10) + 9, 2)


@cache
def _frequencies(lang: str) -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lang, "best")


def rarity(word: str) -> float:
    """Weight in [0.1, 1]: rare words are what make a query specific."""
    return min(1.0, max(0.1, (6.5 - zipf(word)) / 4.0))
