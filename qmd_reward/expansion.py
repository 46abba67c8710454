"""Parse model output text into an immutable :class:`Expansion`.

The parser is lenient about layout (CRLF, blank lines, stray whitespace, a missing space
after the colon) but strict about content: anything that QMD itself would reject or drop is
recorded on the parsed line as an issue, so the rubric can charge for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Final, NamedTuple

from .checks import degenerate, plain_terms

LINE_TYPES = ("lex", "vec", "hyde")

# Tokens of the Qwen3 chat template. One trailing end-of-turn marker is how a generation
# legitimately stops, so it is stripped; anywhere else it means the template leaked.
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
_ROLE_LINES = frozenset({"assistant", "user", "system"})
_END_MARKER = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>))+\s*\Z")
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
# Older training files wrote "only: lex" without the slash; both mean the same request.
_ONLY_MODE = re.compile(r"\s+/?only:\s*(lex|vec|hyde)\s*$", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9\s]")
# QMD rejects negation syntax in embedding lines: a dash that starts a token.
_NEGATED = re.compile(r'(?:^|\s)-(?:"[^"]*"|\S+)')
_NEGATION = re.compile(r"(?:^|\s)-(?=[^\s\-\d])")


class LineIssue(str, Enum):
    """Why QMD would reject, drop or mis-handle a line."""

    EMPTY = "empty"
    UNBALANCED_QUOTES = "unbalanced quotes"
    ONLY_NEGATION = "only negations"
    NEGATION_IN_EMBEDDING = "negation in an embedding line"
    NO_QUERY_TERM = "no query term"
    TOO_MANY_TERMS = "too many ANDed terms to match anything"
    DEGENERATE = "degenerate text"


DROPPING_ISSUES = frozenset({LineIssue.EMPTY, LineIssue.NO_QUERY_TERM, LineIssue.UNBALANCED_QUOTES})


class Line(NamedTuple):
    """One typed line of an expansion."""

    # A named tuple, not a dataclass: GRPO builds millions of these and a frozen dataclass
    # costs several times more to create.
    type: str
    text: str
    number: int  # 1-based line number in the cleaned output
    issues: tuple[LineIssue, ...] = ()

    @property
    def dropped(self) -> bool:
        """True when QMD would discard the line before searching with it."""
        return not DROPPING_ISSUES.isdisjoint(self.issues)


class Expansion(NamedTuple):
    """A parsed expansion: typed lines in order plus what went wrong around them.

    ``lex``, ``vec`` and ``hyde`` are the texts of the lines of each type that carry
    content (degenerate ones do not); every dimension asks for them, so :func:`parse_expansion`
    works them out once.
    """

    lines: tuple[Line, ...]
    invalid: tuple[str, ...] = ()  # non-empty lines without a valid prefix
    has_think: bool = False
    template_leak: bool = False
    lex: tuple[str, ...] = ()
    vec: tuple[str, ...] = ()
    hyde: tuple[str, ...] = ()
    flawed: bool = False  # some line has an issue; when not, every line carries content

    def of_type(self, kind: str) -> tuple[str, ...]:
        """Texts of the content-carrying lines of one type."""
        if kind == "lex":
            return self.lex
        if kind == "vec":
            return self.vec
        return self.hyde if kind == "hyde" else ()

    @property
    def degenerate(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if LineIssue.DEGENERATE in line.issues)


@dataclass(frozen=True)
class Query:
    """A query split into the text that is searched and its `/only:TYPE` request."""

    text: str
    only: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        return qmd_query_terms(self.text)


def split_only_mode(query: str) -> Query:
    """Detect a trailing ``/only:lex|vec|hyde`` and return the query without it."""
    match = _ONLY_MODE.search(query)
    if match is None:
        return Query(query.strip())
    return Query(query[: match.start()].strip(), match.group(1).lower())


@lru_cache(maxsize=4096)
def qmd_query_terms(query: str) -> tuple[str, ...]:
    """The terms QMD uses to decide whether an expansion line is on topic.

    QMD lowercases the query, turns everything but ASCII letters, digits and whitespace into
    spaces and splits; a query with no such term (a Chinese query, say) filters nothing.
    """
    return tuple(_NON_ALNUM.sub(" ", query.lower()).split())


def has_query_term(text: str, terms: tuple[str, ...]) -> bool:
    """Whether QMD keeps ``text``: it contains one of the query's terms (or there are none)."""
    if not terms:
        return True
    return any(map(text.lower().__contains__, terms))


# An AND of more plain terms than this rarely matches any note.
MAX_PLAIN_TERMS: Final = 6


def _text_issues(kind: str, text: str) -> tuple[LineIssue, ...]:
    """The issues that do not depend on the query."""
    issues: list[LineIssue] = []
    if degenerate(text, kind):
        issues.append(LineIssue.DEGENERATE)
    if kind == "lex":
        if plain_terms(text) > MAX_PLAIN_TERMS:
            issues.append(LineIssue.TOO_MANY_TERMS)
        if text.count('"') % 2:
            issues.append(LineIssue.UNBALANCED_QUOTES)
        # Without a positive term FTS5 cannot evaluate the NOT, so the line matches nothing.
        if "-" in text and _NEGATED.sub(" ", text).strip(' "') == "":
            issues.append(LineIssue.ONLY_NEGATION)
    elif "-" in text and _NEGATION.search(text):
        issues.append(LineIssue.NEGATION_IN_EMBEDDING)
    return tuple(issues)


def clean_output(text: str) -> tuple[str, bool]:
    """Normalise newlines, drop a final end-of-turn marker and any think block.

    Returns the cleaned text and whether a ``<think>`` block was present.
    """
    if "<" not in text and "\r" not in text:  # most outputs: nothing to clean
        return text, False
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<|" in text:  # the marker regex is slow to fail on long text; most has no marker
        text = _END_MARKER.sub("", text)
    has_think = "<think>" in text
    if has_think:
        text = _THINK_BLOCK.sub("", text)
    # A closing tag with no opening one is left over from a think block all the same.
    if "</think>" in text:
        has_think = True
        text = text.split("</think>")[-1]
    return text, has_think


_ROLE, _UNTYPED = "role", ""


@lru_cache(maxsize=65536)
def _read_line(stripped: str) -> tuple[str, str, int]:
    """(type, content, issue-set number) of one non-empty line, or (_ROLE or _UNTYPED, line, 0).

    Cached by line, for a line read against several queries (the scorer keeps each query's
    readings itself). The result holds only strings and an int, so the garbage collector
    need not keep tracking the cache.
    """
    if len(stripped) <= 9 and stripped.lower() in _ROLE_LINES:  # 'assistant' is the longest
        return _ROLE, stripped, 0
    # 'lex:', 'LEX :' ...: a type, optional whitespace, a colon (tests/test_fast_paths.py
    # checks this against the regex ^(lex|vec|hyde)\s*:\s?(.*)$ without case).
    head, colon, rest = stripped.partition(":")
    kind = head.rstrip().lower()
    if not colon or kind not in LINE_TYPES:
        return _UNTYPED, stripped, 0
    content = rest.strip()
    issues = _text_issues(kind, content) if content else (LineIssue.EMPTY,)
    return kind, content, _issue_set_number(issues)


_ISSUE_SETS: Final[list[tuple[LineIssue, ...]]] = [()]
_ISSUE_SET_NUMBERS: dict[tuple[LineIssue, ...], int] = {(): 0}


def _issue_set_number(issues: tuple[LineIssue, ...]) -> int:
    number = _ISSUE_SET_NUMBERS.get(issues)
    if number is None:
        number = _ISSUE_SET_NUMBERS[issues] = len(_ISSUE_SETS)
        _ISSUE_SETS.append(issues)
    return number


def parse_expansion(text: str, query: str | Query = "") -> Expansion:
    """Parse model output into typed lines, judged against ``query`` for QMD validity."""
    if not isinstance(query, Query):
        query = split_only_mode(query)
    return parse_with_terms(text, query.terms)


# (type, content, issue-set number, carries content): see :func:`_reading`.
Reading = tuple[str, str, int, bool]


def parse_with_terms(
    text: str, terms: tuple[str, ...], readings: dict[str, Reading] | None = None
) -> Expansion:
    """:func:`parse_expansion` for a query already reduced to its QMD terms.

    ``readings``, when given, keeps how each line reads against these terms; the scorer
    passes one per query, since the completions of one prompt share lines.
    """
    cleaned, has_think = clean_output(text)
    leak = "<|" in cleaned and any(token in cleaned for token in TEMPLATE_TOKENS)
    lines: list[Line] = []
    invalid: list[str] = []
    texts: dict[str, list[str]] = {"lex": [], "vec": [], "hyde": []}
    flawed = False
    if readings is None:
        readings = {}
    for number, raw in enumerate(cleaned.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        reading = readings.get(stripped)
        if reading is None:
            if len(readings) >= _READINGS_SIZE:
                readings.clear()
            reading = readings[stripped] = _reading(stripped, terms)
        kind, content, issue_set, searchable = reading
        if issue_set < 0:
            leak = leak or kind is _ROLE
            invalid.append(content)
            continue
        lines.append(_new_tuple(Line, (kind, content, number, _ISSUE_SETS[issue_set])))
        if issue_set:
            flawed = True
        if searchable:
            texts[kind].append(content)
    return _new_tuple(
        Expansion,
        (
            tuple(lines),
            tuple(invalid),
            has_think,
            leak,
            tuple(texts["lex"]),
            tuple(texts["vec"]),
            tuple(texts["hyde"]),
            flawed,
        ),
    )


_READINGS_SIZE: Final = 4096


def _reading(stripped: str, terms: tuple[str, ...]) -> Reading:
    """(type, content, issue-set number, carries content) of one line against a query's
    terms; the number is -1 for a line that is not a typed line. Only strings and numbers,
    so the garbage collector stops tracking the memo's entries."""
    kind, content, issue_set = _read_line(stripped)
    if kind is _ROLE or kind is _UNTYPED:
        return kind, content, -1, False
    issues = _ISSUE_SETS[issue_set]
    # QMD drops lines that share no term with the query.
    if content and not has_query_term(content, terms):
        issues = (*issues, _NO_TERM)
        issue_set = _issue_set_number(issues)
    return kind, content, issue_set, bool(content) and LineIssue.DEGENERATE not in issues


_NO_TERM = LineIssue.NO_QUERY_TERM
# Builds a Line without the named tuple's Python-level __new__: parsing makes millions.
_new_tuple: Final = tuple.__new__


def expansion_from_pairs(pairs: list[list[str]] | list[tuple[str, str]]) -> str:
    """Render training-format ``[["lex", "..."], ...]`` pairs as expansion text."""
    return "\n".join(f"{kind}: {text}" for kind, text in pairs)
