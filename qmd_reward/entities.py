"""Find the named entities of a query, and whether a line mentions them.

Detectors share one small interface (:class:`EntityDetector`) so a stronger detector can
replace the heuristic one without touching the rubric. Entities are returned normalised:
lowercase whole phrases, possessive ``'s`` removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from .retrieval.tokenize import stem
from .text import STOPWORDS, words

# Words that open queries in capitals without naming anything.
LEADING_NON_ENTITIES = frozenset(
    """configure setup set install build create make run start stop check test debug fix
    update change add remove delete use using need want should would could help please best
    good great new old latest recent compare comparing implement deploy migrate optimize
    understand understanding explain list describe define convert connect performance overview
    introduction tutorial example examples difference review resolve troubleshoot monitor
    manage enable disable write read search possible common typical recommended alternative
    meeting meetings notes note ideas idea todo plan planning learn learning history guide
    tips simple quick easy healthy cheap free top why how what who where when which is are
    can does do my our your the a an""".split()
)

_TOKEN = re.compile(r"[\w][\w.+#'’\-]*[\w+#]|[\w]", re.UNICODE)
_VERSION = re.compile(r"^v?\d+(?:\.\d+)*[a-z]?$")
_POSSESSIVE = re.compile(r"['’]s$")


class EntityDetector(Protocol):
    """Anything that maps a query to its normalised entities."""

    name: str

    def detect(self, query: str) -> tuple[str, ...]: ...

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]: ...


def normalise_entity(text: str) -> str:
    text = " ".join(text.lower().split())
    text = _POSSESSIVE.sub("", text)
    # A leading dot is part of the name (.NET); a trailing one ends the sentence.
    return text.strip(" ,:;!?()[]\"'").rstrip(".")


def _is_structural(token: str, position: int) -> bool:
    """Acronyms, CamelCase and tokens glued with technical punctuation name things."""
    core = _POSSESSIVE.sub("", token)
    letters = [c for c in core if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    if len(core) > 2 and core[0].isupper() and any(c.isupper() for c in core[1:]):
        return True  # CamelCase: JavaScript, PostgreSQL
    if len(core) > 2 and core[0].islower() and any(c.isupper() for c in core[1:]):
        return True  # iPhone, macOS
    if any(c in core for c in "+#") or (re.search(r"[a-z]\.[a-z]", core.lower()) is not None):
        return True  # C++, C#, node.js
    if "-" in core and any(c.isdigit() for c in core) and any(c.isalpha() for c in core):
        return True  # gpt-4, ipv6-only
    return core[:1].isupper() and (position > 0 or core.lower() not in LEADING_NON_ENTITIES)


class HeuristicEntityDetector:
    """Capitalisation and shape rules, no model: fast, and blind to lowercase names."""

    name = "heuristic"

    def detect(self, query: str) -> tuple[str, ...]:
        return _heuristic_entities(query)

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]:
        return [_heuristic_entities(q) for q in queries]


@lru_cache(maxsize=8192)
def _heuristic_entities(query: str) -> tuple[str, ...]:
    tokens = _TOKEN.findall(query)
    entities: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            phrase = normalise_entity(" ".join(current))
            if phrase and phrase not in entities:
                entities.append(phrase)
            current.clear()

    for position, token in enumerate(tokens):
        lower = token.lower()
        if lower in STOPWORDS and not (token.isupper() and len(token) >= 2):
            flush()
            continue
        if _is_structural(token, position):
            current.append(token)
            if _POSSESSIVE.search(token):
                flush()
            continue
        if current and _VERSION.match(lower):
            current.append(token)  # python 3.12, iPhone 15
            continue
        flush()
    flush()
    return tuple(entities)


# --- matching -------------------------------------------------------------------------

_SUFFIXES = ("", "s", "es", "'s", "’s")


@lru_cache(maxsize=131072)
def _key(token: str) -> str:
    return _POSSESSIVE.sub("", token.lower()).replace("-", "").replace(".", "")


_INNER_DOT = re.compile(r"\.\w")
_PART_POSSESSIVE = re.compile(r"'s(?= |$)")


def _has_glue(line: str) -> bool:
    """What makes a word's key differ from the word: a hyphen, an apostrophe, an inner dot."""
    if "-" in line or "'" in line or "’" in line:
        return True
    return "." in line and _INNER_DOT.search(line) is not None


@lru_cache(maxsize=65536)
def _line_keys(line: str) -> tuple[str, ...]:
    """The line's tokens as matching keys: hyphenated words split, dots and a possessive
    dropped ('node.js' -> 'nodejs', "Sarah's" -> 'sarah', 'e-mail' -> 'e', 'mail').

    Built on :func:`qmd_reward.text.words`, which the other checks of a line use too, so a
    line is tokenised once.
    """
    if not _has_glue(line):  # most lines: every word is its own key
        return words(line)
    # _key on every hyphen-separated part of every word, done on the words joined: a word
    # has no spaces, and its hyphens, dots and apostrophes sit between letters or digits.
    joined = " ".join(words(line.replace("’", "'"))).replace("-", " ").replace(".", "")
    return tuple(_PART_POSSESSIVE.sub("", joined).split())


@lru_cache(maxsize=65536)
def _line_index(line: str) -> tuple[tuple[str, ...], frozenset[str], str]:
    keys = _line_keys(line)
    return keys, frozenset(keys), "".join(keys)


def _same_word(candidate: str, target: str) -> bool:
    if candidate.startswith(target) and candidate[len(target) :] in _SUFFIXES:
        return True
    # library -> libraries
    return target.endswith("y") and candidate == target[:-1] + "ies"


@lru_cache(maxsize=65536)
def mentions(line: str, entity: str) -> bool:
    """Whether ``line`` names ``entity``, tolerating inflection and hyphen/space variants.

    Whole tokens only: ``react`` is not found in ``reactive``, but ``buttress`` is found in
    ``buttresses`` and ``e-mail`` in ``email``.
    """
    target = "".join(_line_keys(entity))
    if not target:
        return False
    keys, keyset, squashed = _line_index(line)
    # Fast answers first: the word itself or a plain inflection of it, then a cheap
    # substring test that rules out most lines before the window search.
    if target in keyset or any(target + suffix in keyset for suffix in _SUFFIXES[1:]):
        return True
    root = _root(target)
    if root is not None and any(k.startswith(root[:-1]) and _root(k) == root for k in keys):
        return True
    if target[:-1] not in squashed:
        return False
    width = len(_line_keys(entity)) + 1
    for start in range(len(keys)):
        joined = ""
        for end in range(start, min(len(keys), start + width)):
            joined += keys[end]
            if len(joined) > len(target) + 3:
                break
            if _same_word(joined, target):
                return True
    return False


_INFLECTIONS = _SUFFIXES[1:]


@lru_cache(maxsize=131072)
def _root(key: str) -> str | None:
    """The Porter stem of a plain word of five letters or more, else None.

    QMD's BM25 index stems with Porter, so a lex line with 'calibration' finds notes about
    'calibrate': the two words are one term to the search. Short words are left alone:
    their stems collide too easily.
    """
    if len(key) < 5 or not key.isalpha() or not key.isascii():
        return None
    return stem(key)


TermKeys = tuple[str, str | None, int, tuple[str, ...], str | None]


@lru_cache(maxsize=8192)
def term_index(terms: tuple[str, ...]) -> tuple[TermKeys, ...]:
    """Each term with its squashed spelling, token count, the spellings :func:`mentions`
    accepts for a window (the word and its inflections) and its Porter stem, when it has
    one or two tokens; else (term, None, 0, (), None): longer names need the window search
    of :func:`mentions`."""
    found: list[TermKeys] = []
    for term in terms:
        keys = _line_keys(term)
        if 0 < len(keys) <= 2:
            key = "".join(keys)
            variants = [key] + [key + suffix for suffix in _INFLECTIONS]
            if key.endswith("y"):
                variants.append(key[:-1] + "ies")
            found.append((term, key, len(keys), tuple(variants), _root(key)))
        else:
            found.append((term, None, 0, (), None))
    return tuple(found)


def mentioned_terms(
    line: str, terms: tuple[str, ...], index: tuple[TermKeys, ...] | None = None
) -> frozenset[str]:
    """The terms (or entities) of ``terms`` that ``line`` mentions, as :func:`mentions` decides.

    One- and two-token terms are found with set lookups: first among the line's tokens, then
    among spellings joined across two tokens ('e mail' gives 'email') and, for two-token
    terms, three ('git hub actions'). A term that is no substring of the line's squashed
    tokens cannot be among the joined spellings, so those are only built when needed.
    ``index`` is :func:`term_index` of ``terms``, for callers that keep it.
    """
    keys = _line_keys(line)
    single = frozenset(keys)
    squashed: str | None = None
    pairs: set[str] | None = None
    triples: set[str] | None = None
    spaced: str | None = None
    found = []
    for term, key, width, variants, root in term_index(terms) if index is None else index:
        if key is None:
            if mentions(line, term):
                found.append(term)
            continue
        if _any_in(variants, single):  # most mentions: the word or an inflection
            found.append(term)
            continue
        if squashed is None:
            squashed = "".join(keys)
        if key[:-1] in squashed:
            if pairs is None:
                pairs = {a + b for a, b in pairwise(keys)}
            if not pairs.isdisjoint(variants):
                found.append(term)
                continue
            # mentions() lets a two-token name span three tokens ('git hub actions').
            if width == 2:
                if triples is None:
                    triples = {a + b + c for a, b, c in zip(keys, keys[1:], keys[2:])}
                if not triples.isdisjoint(variants):
                    found.append(term)
                    continue
        # A Porter stem is the word's start (its last letter may change: y -> i), so only
        # words that begin with the term's stem can share it; stemming is slow, this is not.
        if root is not None:
            start = root[:-1]
            if spaced is None:
                spaced = " " + " ".join(keys)
            if f" {start}" not in spaced:
                continue
            if any(k.startswith(start) and _root(k) == root for k in keys):
                found.append(term)
    return frozenset(found)


def _any_in(items: tuple[str, ...], pool: frozenset[str]) -> bool:
    """``not pool.isdisjoint(items)``, which compiled (see setup.py) becomes a loop of direct
    set lookups rather than a method call."""
    return any(item in pool for item in items)


def default_detector() -> EntityDetector:
    from .detectors import CombinedEntityDetector

    return CombinedEntityDetector()
