"""Tokenise text the way SQLite FTS5's ``porter unicode61`` tokenizer does (QMD's index).

unicode61 splits on every character that is not a letter or a number, folds case and
removes diacritics; the porter wrapper then stems each token with the original Porter
algorithm. Documents and queries must go through the same function, or BM25 would compare
different vocabularies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import snowballstemmer

# ``[^\W_]`` is "a word character that is not the underscore": letters and numbers,
# which is what unicode61 keeps as token characters.
_TOKEN = re.compile(r"[^\W_]+")

# FTS5's porter wrapper passes tokens shorter than 3 or longer than 64 bytes through
# unchanged; doing the same keeps "go", "js" and hashes identical on both sides.
_MIN_STEM_LEN = 3
_MAX_STEM_LEN = 64

# The stem cache is unbounded in principle; a cap keeps a pathological stream of
# random tokens (a drifting policy during GRPO) from growing memory forever.
_STEM_CACHE_LIMIT = 500_000

_STEMMER = snowballstemmer.stemmer("porter")


class _StemCache(dict[str, str]):
    """Stems by token. A token not yet seen is stemmed on lookup and kept; a token seen
    costs one dictionary lookup and no Python call (``map(cache.__getitem__, tokens)``)."""

    def __missing__(self, token: str) -> str:
        if _MIN_STEM_LEN <= len(token) <= _MAX_STEM_LEN and token.isascii():
            result = _STEMMER.stemWord(token)
        else:
            # The porter algorithm is defined on English letters only.
            result = token
        if len(self) < _STEM_CACHE_LIMIT:
            self[token] = result
        return result


_STEMS = _StemCache()


def fold(text: str) -> str:
    """Lowercase ``text`` and strip combining marks (unicode61's remove_diacritics)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).lower()


def stem(token: str) -> str:
    """Porter stem of one folded token, cached."""
    return _STEMS[token]


def stem_all(tokens: Iterable[str]) -> tuple[str, ...]:
    """:func:`stem` of each folded token."""
    return tuple(map(_STEMS.__getitem__, tokens))


def raw_tokens(text: str) -> list[str]:
    """Folded unicode61 tokens of ``text``, before stemming."""
    return _TOKEN.findall(fold(text))


def folded_tokens(folded: str) -> list[str]:
    """:func:`raw_tokens` of a text already :func:`fold`-ed."""
    return _TOKEN.findall(folded)


def stems(text: str) -> list[str]:
    """The indexed form of ``text``: folded, split and stemmed tokens, in order."""
    return list(map(_STEMS.__getitem__, raw_tokens(text)))
