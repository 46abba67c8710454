"""Parse a ``lex:`` line into the FTS5 query QMD builds for it (``buildFTS5Query``, src/store.ts).

QMD turns a lex line into an FTS5 MATCH expression: plain terms become quoted prefix
terms ANDed together, ``"..."`` is an exact phrase, ``-term`` / ``-"phrase"`` are NOT
clauses, hyphenated tokens become phrases and dotted tokens split into ANDed parts.
Each unit here is already tokenised and stemmed with the index's tokenizer, so matching
is a lookup and never re-reads the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from qmd_reward.fts import raw_tokens, stem, stem_all

# QMD keeps letters, numbers, apostrophes and underscores of a term and drops the rest,
# so "tcp/ip" searches "tcpip"; the tokenizer later splits on ' and _.
_SANITIZE = re.compile(r"[^\w']")
# Inside quotes a dot separates tokens too. QMD's sanitiser deletes it there ("nodejs"),
# but dotted tokens split everywhere else and a document's "node.js" is indexed as the two
# tokens node, js; splitting keeps a quoted "node.js" able to match it.
_SANITIZE_PHRASE = re.compile(r"[^\w'.\s]")
# QMD's hyphenated-token test: starts and ends each side with a letter or number.
_HYPHENATED = re.compile(r"^[^\W_](?:[^\W_]|['-])*-[^\W_](?:[^\W_]|['-])*$")

ERROR_MULTILINE = "contains a line break"
ERROR_UNBALANCED = "unbalanced quotes"
ERROR_ONLY_NEGATION = "only negated terms"
ERROR_EMPTY = "no searchable term"


class Token(NamedTuple):
    """One stemmed token; ``prefix`` means any indexed stem starting with it matches."""

    stem: str
    prefix: bool = False


class Unit(NamedTuple):
    """A term (one token) or a phrase (adjacent tokens), possibly negated. ``term``: which
    term of the line it came from; the parts of one dotted term share it, because QMD
    negates them together (``-node.js`` is ``NOT ("node"* AND "js"*)``)."""

    tokens: tuple[Token, ...]
    negated: bool = False
    term: int = 0

    @property
    def is_phrase(self) -> bool:
        return len(self.tokens) > 1


@dataclass(frozen=True)
class LexQuery:
    """A parsed lex line. ``error`` is set when QMD would match nothing for it."""

    text: str
    units: tuple[Unit, ...]
    error: str | None = None

    @property
    def positives(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if not unit.negated)

    @property
    def negatives(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.negated)

    @property
    def negated_terms(self) -> tuple[tuple[Unit, ...], ...]:
        """The negated terms, each as the units a note must all hold to be excluded."""
        terms: dict[int, list[Unit]] = {}
        for unit in self.negatives:
            terms.setdefault(unit.term, []).append(unit)
        return tuple(tuple(units) for units in terms.values())

    @property
    def searchable(self) -> bool:
        return self.error is None


def _tokens(text: str, *, prefix_last: bool) -> tuple[Token, ...]:
    found = [Token(s, False) for s in stem_all(raw_tokens(text))]
    if prefix_last and found:
        found[-1] = Token(found[-1].stem, True)
    return tuple(found)


def _phrase_unit(content: str, negated: bool) -> list[Unit]:
    tokens = _tokens(_SANITIZE_PHRASE.sub("", content), prefix_last=False)
    return [Unit(tokens, negated)] if tokens else []


def _hyphenated_unit(term: str, negated: bool) -> list[Unit]:
    parts = (_SANITIZE.sub("", part) for part in term.split("-"))
    tokens = _tokens(" ".join(parts), prefix_last=False)
    return [Unit(tokens, negated)] if tokens else []


def _plain_units(term: str, negated: bool) -> list[Unit]:
    units = []
    for part in term.split("."):
        # A part the tokenizer splits further ("authorized_keys") is, in FTS5, a phrase
        # whose last token keeps the prefix star.
        tokens = _tokens(_SANITIZE.sub("", part), prefix_last=True)
        if tokens:
            units.append(Unit(tokens, negated))
    return units


# QMD's scanner, one unit a match: an optional '-', then a quoted phrase (an unclosed quote
# runs to the end of the line) or a plain term up to whitespace or a quote.
_UNIT = re.compile(r'(-?)(?:"([^"]*)(?:"|$)|([^\s"]+))')


def _scan(line: str) -> list[Unit]:
    units: list[Unit] = []
    for number, match in enumerate(_UNIT.finditer(line.strip())):
        negated = bool(match.group(1))
        phrase, term = match.group(2), match.group(3)
        if phrase is not None:
            found = _phrase_unit(phrase.strip(), negated)
        elif term.isascii() and term.isalnum():
            # Most terms are one plain word: the one prefix token the general path makes.
            found = [Unit((Token(stem(term.lower()), True),), negated)]
        elif _HYPHENATED.match(term):
            found = _hyphenated_unit(term, negated)
        else:
            found = _plain_units(term, negated)
        units += [unit._replace(term=number) for unit in found]
    return units


@lru_cache(maxsize=1024)
def parse_lex_line(line: str, *, strict: bool = True) -> LexQuery:
    """Parse ``line`` as QMD parses a lex query.

    ``strict`` applies QMD's validation of typed lex lines (single line, balanced quotes);
    the user's raw query is searched without it, so pass ``strict=False`` for that.
    """
    if strict and ("\n" in line or "\r" in line):
        return LexQuery(line, (), ERROR_MULTILINE)
    if strict and line.count('"') % 2 == 1:
        return LexQuery(line, (), ERROR_UNBALANCED)
    units = tuple(_scan(line))
    if not any(not unit.negated for unit in units):
        error = ERROR_ONLY_NEGATION if units else ERROR_EMPTY
        return LexQuery(line, units, error)
    return LexQuery(line, units)
