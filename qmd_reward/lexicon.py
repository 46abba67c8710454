"""Word lists and word frequencies: how common a word is decides how much it says."""

from __future__ import annotations

import math
from functools import cache, lru_cache
from importlib import resources


@cache
def word_list(name: str) -> frozenset[str]:
    """A packaged list from ``qmd_reward/data``: one entry a line, ``#`` comments ignored."""
    text = (resources.files("qmd_reward") / "data" / name).read_text(encoding="utf-8")
    # Only whole-line comments: '#' is part of names such as c# and f#.
    entries = (
        line.strip().lower() for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    return frozenset(entry for entry in entries if entry)


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str = "en") -> float:
    """Zipf frequency from wordfreq: 0 unknown, 3 rare, 5 common, 7 'the'.

    wordfreq carries frequencies from several large corpora in many languages; a hand-made
    table would miss most of the words technical queries use.

    >>> zipf("the") > 7 > zipf("kubernetes") > 0 == zipf("zxqvbn")
    True
    """
    if word.isascii() and word.isalpha() and word.islower():
        # wordfreq's tokenizer leaves such a word as it is, and tokenizing is most of the
        # cost of zipf_frequency: read its table and do its arithmetic (tests/test_lexicon.py
        # checks the two agree).
        found = _frequencies(lang).get(word)
        if found is None:
            return 0.0
        freq = max(found, _ZIPF_ZERO)
        freq = round(freq, math.floor(-math.log10(freq)) + 3)  # wordfreq's 3 significant digits
        return round(math.log10(freq) + 9, 2)
    return _tokenized_zipf(word, lang)


@lru_cache(maxsize=16384)
def _tokenized_zipf(word: str, lang: str) -> float:
    """wordfreq's own answer, tokenizer and all, for words that are not plain lowercase."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


_ZIPF_ZERO = 1e-9  # the frequency of Zipf 0


@cache
def _frequencies(lang: str) -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lang, "best")


def known_word(word: str, lang: str = "en") -> bool:
    """Whether wordfreq has the word at all in ``lang``."""
    return zipf(word, lang) > 0


def rarity(word: str, lang: str = "en") -> float:
    """Weight in [0.1, 1]: rare words are what make a query specific.

    >>> rarity("the"), rarity("kubernetes") > rarity("server")
    (0.1, True)
    """
    return min(1.0, max(0.1, (6.5 - zipf(word, lang)) / 4.0))
