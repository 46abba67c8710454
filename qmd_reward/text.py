"""Words of a line as a reader sees them, and the word lists every check shares.

Two tokenisations serve two purposes: :func:`words` keeps technical glue (``node.js``,
``c++``, ``gpt-4``, ``--force``) so a check can see what kind of token a word is, and
:mod:`qmd_reward.fts` splits exactly as QMD's index does, so term matching agrees with
BM25 (``read_csv`` is the two terms ``read`` and ``csv`` to FTS5).
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"(?:--?|#)?\w+(?:[.+#'’\-/:@=~^]\w+)*[+#^]*", re.UNICODE)

# Function words: never key terms, and a line that ends on one was cut off mid-phrase.
FUNCTION_WORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto upon about
    as than then that this these those it its is are was were be been being am do does did
    has have had can could will would shall should may might must not no so if when where
    while which who whom whose what why how i me my we our you your he him his she her they
    them their there here very just also too each every both few more most other some such
    only same any all between through during before after above below over under again
    further once up down out off vs versus via per""".split()
)

# Words that carry the question, not the topic: a query's key terms exclude them.
QUESTION_WORDS = frozenset(
    """what is how to who where when why which find get show tell give explain want need
    please help like using use best good way ways something anything thing things""".split()
)

STOPWORDS = FUNCTION_WORDS | QUESTION_WORDS

# Verb particles that end phrases without cutting them off: 'set up', 'log out'.
PARTICLES = frozenset("up out down off in on over back away".split())


@lru_cache(maxsize=16384)
def words(text: str) -> tuple[str, ...]:
    """Lowercase word tokens, keeping technical glue.

    >>> words("Install node.js 20 with --force; C++ and gpt-4 too.")
    ('install', 'node.js', '20', 'with', '--force', 'c++', 'and', 'gpt-4', 'too')
    """
    found = _WORD.findall(text.lower())
    if "'" in text or "’" in text:
        return tuple(m.rstrip("'’") for m in found)
    return tuple(found)


def content_words(text: str) -> tuple[str, ...]:
    """:func:`words` without stopwords.

    >>> content_words("how to rotate a TLS certificate")
    ('rotate', 'tls', 'certificate')
    """
    return tuple(w for w in words(text) if w not in STOPWORDS)


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Lowercase with whitespace collapsed: the form lines are compared in.

    >>> normalise("  Docker   Compose ")
    'docker compose'
    """
    return " ".join(text.lower().split())


def content_set(text: str) -> frozenset[str]:  # used by the old rubric until it is replaced
    return frozenset(content_words(text))
