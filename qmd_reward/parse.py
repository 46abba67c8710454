"""Model output text -> :class:`Expansion`: typed lines in order, and what surrounds them.

QMD reads a line as ``type: text`` with the type exactly ``lex``, ``vec`` or ``hyde`` and
silently skips anything else (``expandQuery`` in QMD's src/llm.ts). Its generation grammar
never produces anything else, so a line QMD would skip is recorded here as ``invalid`` and
charged by the rules; the parser itself never rejects an output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

LINE_TYPES = ("lex", "vec", "hyde")

# One trailing end-of-turn marker is how a generation stops; anywhere else the template leaked.
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
_END_MARKER = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>))+\s*\Z")
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_ROLE_LINES = frozenset({"assistant", "user", "system"})
# Older training files wrote "only: lex" without the slash; both mean the same request.
_ONLY_MODE = re.compile(r"\s+/?only:\s*(lex|vec|hyde)\s*$", re.IGNORECASE)
_NOT_TERM_CHARACTER = re.compile(r"[^a-z0-9\s]")


class Line(NamedTuple):
    """One typed line: its type, its text (stripped) and its 1-based line number."""

    type: str
    text: str
    number: int


class Expansion(NamedTuple):
    """A parsed expansion.

    ``invalid`` holds non-empty lines QMD would skip (no ``lex:``/``vec:``/``hyde:`` prefix, a
    role line); ``think`` says a ``<think>`` block was there (it is removed); ``leak`` says
    chat-template tokens were left in the text.
    """

    lines: tuple[Line, ...]
    invalid: tuple[str, ...] = ()
    think: bool = False
    leak: bool = False

    def of_type(self, kind: str) -> tuple[str, ...]:
        """Texts of the lines of one type, in order."""
        return tuple(line.text for line in self.lines if line.type == kind)


@dataclass(frozen=True)
class Query:
    """A query split into the text that is searched and its ``/only:TYPE`` request."""

    text: str
    only: str | None = None


def split_only_mode(query: str) -> Query:
    """The query without a trailing ``/only:lex|vec|hyde``, and that request.

    >>> split_only_mode("ssh keys /only:lex")
    Query(text='ssh keys', only='lex')
    """
    match = _ONLY_MODE.search(query)
    if match is None:
        return Query(query.strip())
    return Query(query[: match.start()].strip(), match.group(1).lower())


def qmd_query_terms(query: str) -> tuple[str, ...]:
    """The terms QMD keeps a line for: the query lowercased, every character but ASCII
    letters, digits and whitespace made a space, split. A query with none (Chinese, say)
    keeps every line.

    >>> qmd_query_terms("Auto-fit C++ grid"), qmd_query_terms("北京天气")
    (('auto', 'fit', 'c', 'grid'), ())
    """
    return tuple(_NOT_TERM_CHARACTER.sub(" ", query.lower()).split())


def has_query_term(text: str, terms: tuple[str, ...]) -> bool:
    """Whether QMD keeps ``text``: it contains one of ``terms`` as a substring (or there are
    none).

    >>> has_query_term("fitness plan", ("auto", "fit")), has_query_term("grid", ("fit",))
    (True, False)
    """
    lower = text.lower()
    return not terms or any(term in lower for term in terms)


def kept_by_qmd(text: str, query: str) -> bool:
    """Whether QMD keeps a line of ``text`` for ``query`` (which may end in ``/only:``): it is
    not empty and contains one of the query's terms.

    >>> kept_by_qmd("haircut styles", "hair cut"), kept_by_qmd("styles", "hair cut")
    (True, False)
    """
    return bool(text) and has_query_term(text, qmd_query_terms(split_only_mode(query).text))


def clean_output(text: str) -> tuple[str, bool]:
    """Normalise newlines, drop a final end-of-turn marker and any think block; also say
    whether there was a ``<think>`` block."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" not in text:
        return text, False  # no marker, no think block
    text = _END_MARKER.sub("", text)
    think = "<think>" in text or "</think>" in text
    text = _THINK_BLOCK.sub("", text)
    if "</think>" in text:  # a closing tag alone is left over from a think block all the same
        text = text.split("</think>")[-1]
    return text, think


def parse_expansion(text: str) -> Expansion:
    """Parse model output into typed lines.

    As QMD reads it: blank lines and spaces around the colon do not matter, the type must
    be written in lowercase.

    >>> parse_expansion("lex: ssh keys\\nvec : log in with a key").lines[1]
    Line(type='vec', text='log in with a key', number=2)
    >>> parse_expansion("lex: ssh keys\\nVEC: a key\\nSure!").invalid
    ('VEC: a key', 'Sure!')
    """
    cleaned, think = clean_output(text)
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
        head, colon, rest = stripped.partition(":")
        kind = head.strip()  # QMD compares the type as written: 'LEX:' is skipped
        if colon and kind in LINE_TYPES:
            lines.append(Line(kind, rest.strip(), number))
        else:
            invalid.append(stripped)
    return Expansion(tuple(lines), tuple(invalid), think, leak)


def expansion_from_pairs(pairs: list[list[str]] | list[tuple[str, str]]) -> str:
    """Training-format ``[["lex", "..."], ...]`` pairs as expansion text.

    >>> expansion_from_pairs([["lex", "ssh keys"], ["vec", "log in with a key"]])
    'lex: ssh keys\\nvec: log in with a key'
    """
    return "\n".join(f"{kind}: {text}" for kind, text in pairs)
