"""Everything the rules need to know about a query, worked out once per distinct query.

The key terms are the query's content words, weighted by rarity: the rare ones
('glacier', 'carbon') discriminate, the common ones ('core', 'dating') only narrow. The
entities come from a detector (:mod:`qmd_reward.detectors`) and are matched with their
aliases, without their version, and for people by the surname alone.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from .aliases import aliases, is_person, split_version
from .entities import LineForm, Target, line_form, target
from .fts import stem
from .language import UNSEGMENTED, char_pairs, char_script, frequency_code, language
from .lexicon import rarity
from .parse import qmd_query_terms, split_only_mode
from .text import STOPWORDS, words
from .wordclass import read_word

_COMPARISON = re.compile(r"\b(?:vs|versus|compared?|comparison|difference between|or)\b")
# A key term within this share of the rarest one's weight discriminates.
DISCRIMINATING_SHARE = 0.6


class Term(NamedTuple):
    """A key term of the query: a content word, its rarity weight, whether it is among the
    rarest, and how a line mentions it."""

    word: str
    weight: float
    discriminating: bool
    target: Target


class Entity(NamedTuple):
    """A named entity of the query: how a line names it (aliases, surname) and, for a
    versioned name ('python 3.12'), how it keeps the version."""

    name: str
    target: Target
    version: Target | None


@dataclass(frozen=True)
class QueryInfo:
    """An analysed query."""

    raw: str
    text: str
    form: LineForm  # the text as the index sees it (entities.line_form)
    only: str | None
    filter_terms: tuple[str, ...]  # QMD keeps a line that contains one of these
    language: str | None  # language() of the text: a code, a script name, or None
    code: str  # wordfreq's code for that language (English by default)
    stems: frozenset[str]  # the stems of every word of the query
    compounds: dict[str, frozenset[str]]  # stem of two or three words spelled as one -> them
    order: tuple[str, ...]  # the query's stems in order
    required: int  # how many terms FTS5 requires for the raw query (QMD ANDs every word)
    natural: bool  # the query is a sentence (a question), not keywords
    comparison: bool  # the query weighs things against each other ('postgres vs mysql')
    counts: Counter[str]  # how often the query says each word
    terms: tuple[Term, ...]
    entities: tuple[Entity, ...]
    term_stems: frozenset[str]  # the stems of the one-word key terms

    @property
    def discriminating(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.discriminating)

    @property
    def total_weight(self) -> float:
        return sum(t.weight for t in self.terms)


def analyse(raw: str, entity_names: tuple[str, ...]) -> QueryInfo:
    """Analyse ``raw`` (which may end in ``/only:TYPE``) with its detected entities.

    >>> q = analyse("how to rotate a TLS certificate", ("tls",))
    >>> [t.word for t in q.terms], [t.word for t in q.discriminating]
    (['rotate', 'tls', 'certificate'], ['rotate', 'tls', 'certificate'])
    >>> q = analyse("glacier ice core carbon dating", ())
    >>> [t.word for t in q.discriminating]
    ['glacier', 'core', 'carbon', 'dating']
    """
    part = split_only_mode(raw)
    text = part.text
    lang = language(text)
    code = frequency_code(lang)
    form = line_form(text)
    entities = tuple(_entity(name) for name in entity_names)
    entity_spellings = {e.name: e.target for e in entities}
    words_ = _key_words(text, lang)
    weights = {w: _weight(w, code) for w in words_}
    top = max(weights.values(), default=0.0)
    terms = tuple(
        Term(
            word,
            weight,
            weight >= DISCRIMINATING_SHARE * top,
            entity_spellings.get(word) or target(word),
        )
        for word, weight in weights.items()
    )
    return QueryInfo(
        raw=raw,
        text=text,
        form=form,
        only=part.only,
        filter_terms=qmd_query_terms(text),
        language=lang,
        code=code,
        stems=frozenset(form.stems),
        compounds=_compounds(form.tokens, {t.word for t in terms}),
        order=form.stems,
        required=len(set(form.stems)),
        natural=len(words(text)) >= 4 and any(w in STOPWORDS for w in words(text)),
        comparison=bool(_COMPARISON.search(text.lower())),
        counts=Counter(words(text)),
        terms=terms,
        entities=entities,
        term_stems=frozenset(s[0] for t in terms for s in t.target.sequences if len(s) == 1),
    )


def _compounds(tokens: tuple[str, ...], key: set[str]) -> dict[str, frozenset[str]]:
    """Runs of two or three query words written as one word ('hair cut' -> 'haircut'),
    by the joined word's stem, with the key terms they hold.

    >>> sorted(_compounds(("hair", "cut", "style"), {"hair", "cut", "style"})["haircut"])
    ['cut', 'hair']
    """
    found: dict[str, frozenset[str]] = {}
    for n in (2, 3):
        for i in range(len(tokens) - n + 1):
            run = tokens[i : i + n]
            held = frozenset(t for t in run if t in key)
            if held:
                found[stem("".join(run))] = held
    return found


def _entity(name: str) -> Entity:
    base, version = split_version(name)
    spellings = [*aliases(base)]
    if is_person(name):
        spellings.append(base.split()[-1])  # the surname alone names the person
    return Entity(name, target(base, *spellings), target(version) if version else None)


def _key_words(text: str, lang: str | None) -> tuple[str, ...]:
    """The query's content words, once each; text in a script without spaces is cut into
    overlapping character pairs, the words of such a query."""
    found: list[str] = []
    for word in words(text):
        if word.endswith(("'s", "’s")):
            word = word[:-2]  # "anna's" is about anna
        if read_word(word, lang).stop:
            continue
        if any(ch.isalpha() and char_script(ch) in UNSEGMENTED for ch in word):
            found += char_pairs(word)
        else:
            found.append(word)
    return tuple(dict.fromkeys(found))


def _weight(word: str, code: str) -> float:
    if not word.isascii() and any(char_script(ch) in UNSEGMENTED for ch in word):
        return 0.5  # a character pair: some pairs are words, some straddle two
    return rarity(word, code)
