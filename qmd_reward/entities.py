"""Whether a line mentions a query's term or entity, the way QMD's index would see it.

QMD's BM25 index tokenises with FTS5's ``porter unicode61`` tokenizer: every character that
is not a letter or digit splits (``read_csv`` is ``read`` + ``csv``, ``nginx.conf`` is
``nginx`` + ``conf``) and words are Porter-stemmed (``calibration`` and ``calibrate`` are one
term). A line mentions something when the stems of its name appear in order among the line's
stems, or when the name and a run of the line's tokens spell the same letters (``e-mail`` and
``email``, ``node.js`` and ``nodejs``). An entity also counts under its aliases
(``postgres``/``postgresql``, ``k8s``/``kubernetes``), without its version (``svelte`` for
``svelte 5``: the version is checked on its own), and a person under the surname alone.
Scripts written without spaces (Chinese, Japanese, Thai) are matched as substrings.

This module detects nothing (that is :mod:`qmd_reward.detectors`) and imports neither the
retrieval package nor numpy.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

from .fts import fold, folded_tokens, raw_tokens, stem_all
from .language import UNSEGMENTED, char_script


class LineForm(NamedTuple):
    """A line as the index sees it: folded text, tokens, their stems, the tokens spelled
    together with where each starts and ends there, and its long stems by their first six
    letters."""

    folded: str
    tokens: tuple[str, ...]
    stems: tuple[str, ...]
    squashed: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    # Only a stem that begins with a word's first six letters can be of its family: looking
    # there, not through every stem of a long line, is what makes matching a term cheap.
    families: dict[str, list[str]]

    def spells(self, spelling: str) -> bool:
        """Whether a run of the line's tokens spelled together is ``spelling``.

        >>> line_form("send an e-mail").spells("email"), line_form("gmail").spells("mail")
        (True, False)
        """
        at = self.squashed.find(spelling)
        while at >= 0:
            if at in self.starts and at + len(spelling) in self.ends:
                return True
            at = self.squashed.find(spelling, at + 1)
        return False


@lru_cache(maxsize=2048)
def line_form(text: str) -> LineForm:
    """The line's form for matching (cached: the lines of one completion recur).

    >>> line_form("Read_CSV in node.js").stems
    ('read', 'csv', 'in', 'node', 'js')
    """
    folded = fold(text)
    tokens = tuple(folded_tokens(folded))
    stems = stem_all(tokens)
    families: dict[str, list[str]] = {}
    for s in stems:
        if len(s) >= _FAMILY:
            families.setdefault(s[:_FAMILY], []).append(s)
    bounds = tuple(accumulate(map(len, tokens), initial=0))  # where each token starts, then the end
    return LineForm(folded, tokens, stems, "".join(tokens), bounds[:-1], bounds[1:], families)


class Target(NamedTuple):
    """Something a line can mention, in every spelling that counts."""

    name: str
    sequences: tuple[tuple[str, ...], ...]  # stem sequences, one per accepted spelling
    spellings: frozenset[str]  # the same spellings with their tokens joined
    substrings: tuple[str, ...]  # spellings in unsegmented scripts, matched as substrings


def target(name: str, *spellings: str) -> Target:
    """A target named ``name`` that a line mentions by any of ``name`` and ``spellings``.

    >>> t = target("postgres", "postgresql")
    >>> mentions(line_form("tune PostgreSQL"), t), mentions(line_form("postgres"), t)
    (True, True)
    """
    sequences, joined, substrings = [], set(), []
    for spelling in dict.fromkeys((name, *spellings)):
        tokens = raw_tokens(spelling)
        if not tokens:
            continue
        if any(char_script(ch) in UNSEGMENTED for ch in spelling):
            substrings.append(fold(spelling).strip())
            continue
        sequences.append(stem_all(tokens))
        joined.add("".join(tokens))
    return Target(name, tuple(sequences), frozenset(joined), tuple(substrings))


def mentions(form: LineForm, t: Target) -> bool:
    """Whether the line (its :func:`line_form`) mentions the target.

    >>> mentions(line_form("e-mail filters"), target("email"))
    True
    >>> mentions(line_form("a reactive form"), target("react"))
    False
    >>> mentions(line_form("calibrating the colorimeter"), target("calibration"))
    True
    >>> mentions(line_form("street photographers"), target("photography"))
    True
    """
    # Plain loops, not any() over generators: this runs for every term of every line.
    for sequence in t.sequences:
        if _contains(form, sequence):
            return True
    for spelling in t.spellings:
        if form.spells(spelling):
            return True
    return any(s in form.folded for s in t.substrings)


# Stems of one word family that Porter leaves apart ('photograph', 'photographi') share
# their start: one of this many letters or more that begins the other is the same word
# ('react' and 'reactiv' stay apart). A lex line's plain terms are prefix searches in QMD,
# so 'photograph' finds 'photography' there too.
_FAMILY = 6


def _contains(form: LineForm, sequence: tuple[str, ...]) -> bool:
    stems = form.stems
    n = len(sequence)
    if n > 1:
        if sequence[0] not in stems:
            return False
        return any(stems[i : i + n] == sequence for i in range(len(stems) - n + 1))
    word = sequence[0]
    if word in stems:
        return True
    if len(word) < _FAMILY:
        return False
    family = form.families.get(word[:_FAMILY], ())
    return any(s.startswith(word) or word.startswith(s) for s in family)
