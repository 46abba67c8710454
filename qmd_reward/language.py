"""Which writing system and language a text is in.

A query in German wants German lines; a query in Chinese wants Chinese ones. The guesses here
are coarse on purpose: a short technical English query shares words with every language, so
a Latin-script text is only called non-English on clear evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .lexicon import zipf
from .text import words

_SCRIPT_RANGES = (
    (0x0400, 0x052F, "cyrillic"),
    (0x0370, 0x03FF, "greek"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x30FF, "japanese"),
    (0x3400, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
)
# Scripts written without spaces between words: a "word" there is a run of characters.
UNSEGMENTED = frozenset({"han", "japanese", "thai"})
_ASCII_LETTER = re.compile("[A-Za-z]")


def char_script(ch: str) -> str | None:
    """The script of one character, or None for digits, spaces and punctuation.

    >>> char_script("a"), char_script("中"), char_script("7")
    ('latin', 'han', None)
    """
    code = ord(ch)
    if code < 0x250:
        return "latin" if ch.isalpha() else None
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return "other" if ch.isalpha() else None


@lru_cache(maxsize=16384)
def script(text: str) -> str | None:
    """The writing system of most letters in ``text`` (Japanese kana and kanji count as one).

    >>> script("kubernetes pod"), script("北京 天气"), script("東京の天気"), script("123")
    ('latin', 'han', 'japanese', None)
    """
    if text.isascii():
        return "latin" if _ASCII_LETTER.search(text) else None
    counts: Counter[str] = Counter(name for ch in text if (name := char_script(ch)))
    if not counts:
        return None
    if counts["japanese"]:
        counts["japanese"] += counts.pop("han", 0)
    return counts.most_common(1)[0][0]


def char_pairs(run: str) -> list[str]:
    """Overlapping character pairs of a run of text in a script without spaces: the words of
    Chinese or Japanese text, as far as a judge without a segmenter can tell.

    >>> char_pairs("北京天气")
    ['北京', '京天', '天气']
    """
    return [run] if len(run) < 3 else [run[i : i + 2] for i in range(len(run) - 1)]


# Short, frequent function words that tell Latin-script languages apart.
_STOP = {
    "en": "the and of to in is for with how what why on are does do my your from can".split(),
    "de": "der die das und ist wie nicht mit für ein eine ich zu den von auf im dem was".split(),
    "fr": (
        "le la les des de du au aux est et pour dans une un comment que qui avec sur pas ce en"
    ).split(),
    "es": "el la los las de que y en para con por una un cómo como es se del qué".split(),
    "it": "il lo la gli le di che e per con una un come è non del della nel".split(),
    "pt": "o a os as de que e em para com uma um como é não do da no na".split(),
    "nl": "de het een en van is hoe wat niet met voor op dat ik zijn".split(),
}
STOP_SETS = {lang: frozenset(ws) for lang, ws in _STOP.items()}
LATIN_LANGUAGES = tuple(_STOP)
_DIACRITICS = {"de": "äöüß", "fr": "àâçèéêëîïôùûœ", "es": "ñáíóú¿¡", "pt": "ãõçâêô"}


@lru_cache(maxsize=16384)
def language(text: str) -> str | None:
    """A coarse guess: a script name, a Latin-script language code, or None (unknown).

    Latin-script text counts as non-English on function words and accents of that language
    (two pieces of evidence, or one that the other words also fit), or, without any, when its
    words are rare in English and clearly more common in one other language. Loanwords alone
    do not make a query foreign: ``espresso vs moka pot`` is English.

    >>> language("wie installiere ich docker"), language("espresso vs moka pot")
    ('de', 'en')
    >>> language("leonardo da vinci paintings"), language("北京天气")
    ('en', 'han')
    """
    found = script(text)
    if found != "latin":
        return found
    tokens = [t for t in words(text) if t.isalpha()]
    if not tokens:
        return None
    hits = {lang: sum(t in stops for t in tokens) for lang, stops in STOP_SETS.items()}
    lower = text.lower()
    for lang, marks in _DIACRITICS.items():
        if any(m in lower for m in marks):
            hits[lang] += 1
    content = [t for t in tokens if len(t) >= 3]
    english = _fit(content, "en") if content else 5.0
    best = max(hits.values())
    leaders = [lang for lang, n in hits.items() if n == best]
    if best and len(leaders) == 1:
        lead = leaders[0]
        # Function words are strong evidence, but the other words must not read as English:
        # 'el niño weather pattern' is English about a Spanish name.
        fits = not content or _fit(content, lead) > english + (-0.3 if best >= 2 else 0.5)
        if lead == "en" or fits:
            return lead
    if len(content) < 2 or english >= 3.0:
        return "en"  # words English uses: technical English shares them with every language
    fit = {lang: _fit(content, lang) for lang in LATIN_LANGUAGES}
    ranked = sorted(fit, key=fit.__getitem__, reverse=True)
    if ranked[0] != "en" and fit[ranked[0]] - max(fit[ranked[1]], english) >= 0.8:
        return ranked[0]
    return "en" if ranked[0] == "en" else None


def _fit(tokens: list[str], lang: str) -> float:
    """How common ``tokens`` are in ``lang``, on average (Zipf scale)."""
    return sum(zipf(w, lang) for w in tokens) / len(tokens)


# wordfreq's code for the languages language() names by script.
_SCRIPT_CODES = {"cyrillic": "ru", "han": "zh", "japanese": "ja", "hangul": "ko"}


def frequency_code(lang: str | None) -> str:
    """wordfreq's language code for what :func:`language` returned (English by default)."""
    code = _SCRIPT_CODES.get(lang or "", lang)
    return code if code in STOP_SETS or code == "ru" else "en"


def function_word(word: str, lang: str | None) -> bool:
    """A word too common in a non-English query's language to say what it is about
    ('cómo', 'un', 'как', 'на'). English function words are :data:`qmd_reward.text.STOPWORDS`.

    >>> function_word("cómo", "es"), function_word("tiempo", "es")
    (True, False)
    """
    code = frequency_code(lang)
    if code == "en":
        return False
    if word in STOP_SETS.get(code, ()):
        return True
    # Articles, prepositions and pronouns sit above 6.4 in every language wordfreq knows;
    # common content words ('tiempo', 'zeit', 'faire') sit at or below it.
    return zipf(word, code) > 6.4


def drifted(query_language: str | None, line: str) -> bool:
    """The line is written in English although the query is in another language.

    A Latin-script line counts as English on English function words (more of them than of
    the query's language) or on two or more words common in English and rare in the query's
    language; technical terms shared by every language ('docker compose') are not drift. For
    a query in another script, a Latin-script sentence is drift, a few Latin tokens are not.

    >>> drifted("de", "how to install docker on ubuntu"), drifted("de", "docker unter ubuntu")
    (True, False)
    >>> drifted("de", "docker compose volumes"), drifted("han", "how to install docker")
    (False, True)
    """
    if query_language in (None, "en") or script(line) != "latin":
        return False
    tokens = [t for t in words(line) if t.isalpha()]
    english = sum(1 for t in tokens if t in STOP_SETS["en"])
    if query_language not in STOP_SETS:
        return english >= 1 or len(tokens) >= 4
    own = sum(1 for t in tokens if t in STOP_SETS[query_language])
    if english > own and english >= 1:
        return True
    if own:
        return False
    code = frequency_code(query_language)
    english_only = [t for t in tokens if zipf(t) >= 3.5 and zipf(t, code) < 2.0]
    return len(english_only) >= 2
