"""What one word of a line says: nothing (generic padding), a number, something specific,
or something plain.

A line earns by the words it adds to the query. Padding every text could carry ('details',
'notes', 'various') adds nothing; uncommon words and technical tokens pin a line to a
subject ('levain', 'max_connections', 'celsius'); ordinary words ('ratio', 'feed', 'flour')
add less the more common they are; numbers answer in a passage. Frequencies come from
wordfreq in the line's language.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from .fts import raw_tokens, stem_all
from .language import UNSEGMENTED, char_script, frequency_code, function_word
from .lexicon import known_word, word_list, zipf
from .text import STOPWORDS

# Below this Zipf frequency a word is uncommon enough to pin a line to a subject
# ('colorimeter', 'levain', 'login'); 'options', 'settings', 'ratio' are above it.
SPECIFIC_ZIPF = 3.6

_NUMBER = re.compile(r"#?\d+(?:[.,:/x]\d+)*(?:%|st|nd|rd|th|s|k|m|h|ms|gb|mb|kb|px)?")
_TECHNICAL_GLUE = re.compile(r"[._/:@=+#]|^-|\w-\w")
_ALPHA_DIGIT = re.compile(r"(?=.*[a-z])(?=.*\d)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


class WordClass(str, Enum):
    """How much a word says about a subject."""

    GENERIC = "generic"  # padding any text could carry
    NUMBER = "number"  # a number, a version, a time
    SPECIFIC = "specific"  # uncommon words and technical tokens
    UNKNOWN = "unknown"  # a plain word no dictionary has: jargon, or invented
    COMMON = "common"  # an ordinary word of the language


def is_number(word: str) -> bool:
    """A number, a version, a time or a ratio.

    >>> is_number("3.12"), is_number("1:1:1"), is_number("20s"), is_number("v8")
    (True, True, True, False)
    """
    return _NUMBER.fullmatch(word) is not None


def is_technical(word: str) -> bool:
    """A token shaped like code, a file, a flag, a version or a product with a number.

    >>> [is_technical(w) for w in ("node.js", "max_connections", "--force", "gpt-4", "k8s")]
    [True, True, True, True, True]
    >>> is_technical("kubernetes"), is_technical("well-known")
    (False, True)
    """
    return _TECHNICAL_GLUE.search(word) is not None or _ALPHA_DIGIT.match(word) is not None


@lru_cache(maxsize=16384)
def word_class(word: str, lang: str = "en") -> WordClass:
    """The class of a lowercase word in wordfreq's language ``lang``.

    >>> [word_class(w).value for w in ("details", "3.12", "pgbouncer", "login", "server")]
    ['generic', 'number', 'unknown', 'specific', 'common']
    >>> word_class("follow-up").value, word_class("node.js").value
    ('common', 'specific')
    """
    if word in word_list("generic_words.txt"):
        return WordClass.GENERIC
    if not word.isascii() and any(char_script(ch) in UNSEGMENTED for ch in word):
        return WordClass.COMMON  # a character pair of Chinese, Japanese or Thai text
    if is_number(word):
        return WordClass.NUMBER
    if is_technical(word) and not _plain_compound(word, lang):
        parts = [p for p in _NOT_ALNUM.split(word) if p]
        if parts and all(p in STOPWORDS for p in parts):
            return WordClass.COMMON  # function words glued together ('it=it-it') say nothing
        return WordClass.SPECIFIC
    frequency = zipf(word, lang)
    if frequency == 0 and word.isalpha():
        known = word in word_list("gazetteer.txt") or (lang != "en" and zipf(word, "en") > 0)
        return WordClass.SPECIFIC if known else WordClass.UNKNOWN
    return WordClass.SPECIFIC if frequency < SPECIFIC_ZIPF else WordClass.COMMON


def _plain_compound(word: str, lang: str) -> bool:
    """Ordinary words joined by hyphens ('follow-up', 'long-term'): not a technical token."""
    parts = word.split("-")
    return len(parts) > 1 and all(p.isalpha() and zipf(p, lang) >= SPECIFIC_ZIPF for p in parts)


def plain_weight(word: str, lang: str = "en") -> float:
    """How much an ordinary word says, by its frequency: 1 at the edge of the specific words,
    falling to 0.1 for the words every text uses ('people', 'work', 'day').

    >>> plain_weight("flour"), plain_weight("treatment"), plain_weight("people")
    (0.8, 0.29, 0.1)
    """
    if not word.isascii() and any(char_script(ch) in UNSEGMENTED for ch in word):
        return 0.5  # no frequencies for character pairs here: a middling weight
    z = zipf(word.replace("-", " ") if "-" in word else word, lang)
    return round(min(1.0, max(0.1, (5.6 - z) / 2.0)), 2)


_VOWELS = frozenset("aeiouyàáâäãåèéêëìíîïòóôöõùúûüý")


class Word(NamedTuple):
    """What the checks ask of one word of a line, worked out once per word and language."""

    text: str
    stop: bool  # a function or question word, of English or of the language
    stems: tuple[str, ...]  # its FTS5 tokens, stemmed
    squashed: str  # its FTS5 tokens spelled together ('nodejs' for 'node.js')
    kind: WordClass
    technical: bool  # shaped like code, a file, a flag or a version (is_technical)
    weight: float  # plain_weight, for an ordinary word
    known: bool  # a word of ASCII letters that wordfreq knows in English (the babble checks)
    vowelless: bool  # Latin letters only, and no vowel among them ('grpc', 'xkcdqz')


@lru_cache(maxsize=16384)
def read_word(word: str, language: str | None = None) -> Word:
    """Everything about a lowercase word the checks need (``language`` as
    :func:`qmd_reward.language.language` names it).

    >>> w = read_word("max_connections")
    >>> w.stems, w.squashed, w.kind.value
    (('max', 'connect'), 'maxconnections', 'specific')
    >>> read_word("the").stop, read_word("cómo", "es").stop
    (True, True)
    """
    # What a word is depends on the language only through its wordfreq code: reading it
    # once per code, not once per name, lets the checks that pass no language (None, read
    # as English) share the work of those that pass an English query's language ('en').
    return _read_word(word, frequency_code(language))


@lru_cache(maxsize=16384)
def _read_word(word: str, code: str) -> Word:
    tokens = raw_tokens(word)
    kind = word_class(word, code)
    return Word(
        text=word,
        stop=word in STOPWORDS or function_word(word, code),
        stems=stem_all(tokens),
        squashed="".join(tokens),
        kind=kind,
        technical=is_technical(word),
        weight=plain_weight(word, code) if kind is WordClass.COMMON else 0.0,
        # Only words of letters are asked: a dictionary has no 'node.js' or '3.12' anyway.
        known=word.isascii() and word.isalpha() and known_word(word),
        vowelless=word.isascii() and word.isalpha() and _VOWELS.isdisjoint(word),
    )
