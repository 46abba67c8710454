"""Parse model output text into an immutable :class:`Expansion`.

The parser is lenient about layout (CRLF, blank lines, stray whitespace, a missing space
after the colon) but strict about content: anything that QMD itself would reject or drop is
recorded on the parsed line as an issue, so the rubric can charge for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache

from .checks import degenerate, plain_terms

LINE_TYPES = ("lex", "vec", "hyde")

# Tokens of the Qwen3 chat template. One trailing end-of-turn marker is how a generation
# legitimately stops, so it is stripped; anywhere else it means the template leaked.
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
_ROLE_LINES = frozenset({"assistant", "user", "system"})
_END_MARKER = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>))+\s*\Z")
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_TYPED_LINE = re.compile(r"^(lex|vec|hyde)\s*:\s?(.*)$", re.IGNORECASE | re.DOTALL)
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


_DROPPING = frozenset({LineIssue.EMPTY, LineIssue.NO_QUERY_TERM, LineIssue.UNBALANCED_QUOTES})


@dataclass(frozen=True)
class Line:
    """One typed line of an expansion."""

    type: str
    text: str
    number: int  # 1-based line number in the cleaned output
    issues: tuple[LineIssue, ...] = ()

    @cached_property
    def dropped(self) -> bool:
        """True when QMD would discard the line before searching with it."""
        return not _DROPPING.isdisjoint(self.issues)


@dataclass(frozen=True)
class Expansion:
    """A parsed expansion: typed lines in order plus what went wrong around them."""

    lines: tuple[Line, ...]
    invalid: tuple[str, ...] = ()  # non-empty lines without a valid prefix
    has_think: bool = False
    template_leak: bool = False

    def of_type(self, kind: str) -> tuple[str, ...]:
        """Texts of the lines of one type that carry content (degenerate ones do not)."""
        return self._texts.get(kind, ())

    @cached_property
    def _texts(self) -> dict[str, tuple[str, ...]]:
        # Every dimension asks for these; work them out once per expansion.
        texts: dict[str, list[str]] = {}
        for line in self.lines:
            if line.text and LineIssue.DEGENERATE not in line.issues:
                texts.setdefault(line.type, []).append(line.text)
        return {kind: tuple(found) for kind, found in texts.items()}

    @cached_property
    def degenerate(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if LineIssue.DEGENERATE in line.issues)

    @property
    def lex(self) -> tuple[str, ...]:
        return self.of_type("lex")

    @property
    def vec(self) -> tuple[str, ...]:
        return self.of_type("vec")

    @property
    def hyde(self) -> tuple[str, ...]:
        return self.of_type("hyde")


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
    if not terms:
        return True
    lower = text.lower()
    return any(term in lower for term in terms)


# An AND of more plain terms than this rarely matches any note.
MAX_PLAIN_TERMS = 6


def _line_issues(kind: str, text: str, terms: tuple[str, ...]) -> tuple[LineIssue, ...]:
    if not text:
        return (LineIssue.EMPTY,)
    issues = _text_issues(kind, text)
    if not has_query_term(text, terms):
        issues += (LineIssue.NO_QUERY_TERM,)
    return issues


@lru_cache(maxsize=65536)
def _text_issues(kind: str, text: str) -> tuple[LineIssue, ...]:
    """The issues that do not depend on the query (cached: completions share lines)."""
    issues: list[LineIssue] = []
    if degenerate(text, kind):
        issues.append(LineIssue.DEGENERATE)
    if kind == "lex":
        if plain_terms(text) > MAX_PLAIN_TERMS:
            issues.append(LineIssue.TOO_MANY_TERMS)
        if text.count('"') % 2:
            issues.append(LineIssue.UNBALANCED_QUOTES)
        # Without a positive term FTS5 cannot evaluate the NOT, so the line matches nothing.
        positive = _NEGATED.sub(" ", text)
        if positive.strip(' "') == "" and "-" in text:
            issues.append(LineIssue.ONLY_NEGATION)
    elif _NEGATION.search(text):
        issues.append(LineIssue.NEGATION_IN_EMBEDDING)
    return tuple(issues)


def clean_output(text: str) -> tuple[str, bool]:
    """Normalise newlines, drop a final end-of-turn marker and any think block.

    Returns the cleaned text and whether a ``<think>`` block was present.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _END_MARKER.sub("", text)
    has_think = "<think>" in text
    if has_think:
        text = _THINK_BLOCK.sub("", text)
    # A closing tag with no opening one is left over from a think block all the same.
    if "</think>" in text:
        has_think = True
        text = text.split("</think>")[-1]
    return text, has_think


def parse_expansion(text: str, query: str | Query = "") -> Expansion:
    """Parse model output into typed lines, judged against ``query`` for QMD validity."""
    if not isinstance(query, Query):
        query = split_only_mode(query)
    terms = query.terms
    cleaned, has_think = clean_output(text)
    leak = any(token in cleaned for token in TEMPLATE_TOKENS)
    lines: list[Line] = []
    invalid: list[str] = []
    for number, raw in enumerate(cleaned.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.lower() in _ROLE_LINES:
            leak = True
            invalid.append(stripped)
            continue
        match = _TYPED_LINE.match(stripped)
        if match is None:
            invalid.append(stripped)
            continue
        kind = match.group(1).lower()
        content = match.group(2).strip()
        lines.append(Line(kind, content, number, _line_issues(kind, content, terms)))
    return Expansion(tuple(lines), tuple(invalid), has_think, leak)


def expansion_from_pairs(pairs: list[list[str]] | list[tuple[str, str]]) -> str:
    """Render training-format ``[["lex", "..."], ...]`` pairs as expansion text."""
    return "\n".join(f"{kind}: {text}" for kind, text in pairs)
