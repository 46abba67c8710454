"""Small text utilities shared by the checks: word splitting and stopword lists."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import filterfalse
from typing import Final

_WORD = re.compile(r"\w+(?:[.+#'\-]\w+)*[+#]*", re.UNICODE)
# The same pattern for ASCII text, where both match alike; it runs a fifth faster.
_ASCII_WORD = re.compile(_WORD.pattern, re.ASCII)

# Function words: never key terms, and a lex line ending on one was cut off mid-phrase.
FUNCTION_WORDS: Final = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto upon about
    as than then that this these those it its is are was were be been being am do does did
    has have had can could will would shall should may might must not no so if when where
    while which who whom whose what why how i me my we our you your he him his she her they
    them their there here very just also too each every both few more most other some such
    only same any all between through during before after above below over under again
    further once up down out off vs versus via per""".split()
)

# Words that carry the question, not the topic: a query's key terms exclude them.
QUESTION_WORDS: Final = frozenset(
    """what is how to who where when why which find get show tell give explain want need
    please help like using use best good way ways something anything thing things""".split()
)

STOPWORDS: Final = FUNCTION_WORDS | QUESTION_WORDS


# Sentence punctuation that ends a plain word without being part of it ('end.' is 'end').
_TRAILING: Final = ",.;:!?"


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """Lowercased word tokens, keeping technical glue such as ``node.js``, ``c++``, ``gpt-4``."""
    lowered = text.lower()
    if not lowered.isascii():
        return tuple(_WORD.findall(lowered))
    # Most lines are plain words with sentence punctuation: split, they give the regex's
    # tokens sooner (tests/test_fast_paths.py). Any other character needs the regex.
    found = []
    for token in lowered.split():
        token = token.rstrip(_TRAILING)
        if token:
            if not token.isalnum():
                return tuple(_ASCII_WORD.findall(lowered))
            found.append(token)
    return tuple(found)


@lru_cache(maxsize=65536)
def content_words(text: str) -> tuple[str, ...]:
    return tuple(filterfalse(STOPWORDS.__contains__, words(text)))


@lru_cache(maxsize=65536)
def content_set(text: str) -> frozenset[str]:
    return frozenset(content_words(text))


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Lowercase, collapse whitespace; used to compare lines and queries."""
    return " ".join(text.lower().split())
