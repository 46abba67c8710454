"""Tokenise text the way SQLite FTS5's ``porter unicode61`` tokenizer does (QMD's index).

unicode61 splits on every character that is not a letter or a number, folds case and
removes diacritics; the porter wrapper then stems each token with the original Porter
algorithm. Documents and queries must go through the same function, or BM25 would compare
different vocabularies.
"""

from __future__ import annotations

import re
import unicodedata

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
_stem_cache: dict[str, str] = {}


def fold(text: str) -> str:
    """Lowercase ``text`` and strip combining marks (unicode61's remove_diacritics)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).lower()


def stem(token: str) -> str:
    """Porter stem of one folded token, cached."""
    cached = _stem_cache.get(token)
    if cached is not None:
        return cached
    if _MIN_STEM_LEN <= len(token) <= _MAX_STEM_LEN and token.isascii():
        result = _STEMMER.stemWord(token)
    else:
        # The porter algorithm is defined on English letters only.
        result = token
    if len(_stem_cache) < _STEM_CACHE_LIMIT:
        _stem_cache[token] = result
    return result


def raw_tokens(text: str) -> list[str]:
    """Folded unicode61 tokens of ``text``, before stemming."""
    return _TOKEN.findall(fold(text))


def stems(text: str) -> list[str]:
    """The indexed form of ``text``: folded, split and stemmed tokens, in order."""
    return [stem(token) for token in raw_tokens(text)]
