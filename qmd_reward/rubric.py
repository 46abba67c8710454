"""The rubric: each dimension is a pure function of (parsed expansion, analysed query).

Dimension names and point ranges are those of the original qmd finetune scorer, so scores
from either can be read side by side:

=========  ==========  ====================================================
dimension  points      judges
=========  ==========  ====================================================
format     0..30       valid prefixes, lex and vec present
diversity  0..30       both types, distinct lines, no echo of the query
hyde       0..20       only when a hyde line is present
quality    0..20       lex short and on-key, vec natural language
entity     -45..20     named entities of the query kept
think      0..20       no ``<think>`` block
=========  ==========  ====================================================

Each function returns ``(points, deductions)``; deductions are short plain sentences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .entities import mentions
from .expansion import Expansion
from .text import STOPWORDS, content_words, normalise, words

MAX_POINTS = {"format": 30, "diversity": 30, "hyde": 20, "quality": 20, "entity": 20, "think": 20}
ENTITY_MIN = -45

# Lex lines made of these add nothing a keyword search can use.
GENERIC_LEX_PHRASES = (
    "find information about",
    "information about",
    "information on",
    "details about",
    "learn about",
    "find out about",
    "search for",
    "look up",
    "get information",
    "help with",
    "guide to",
    "what is",
    "how to",
)
# Filler that makes a lex line vague unless the user asked for it.
FILLER_WORDS = frozenset(
    """overview basics introduction guide tutorial understanding explained explanation
    tips learn information details general""".split()
)

Deductions = list[str]
Result = tuple[float, Deductions]


@dataclass(frozen=True)
class QueryInfo:
    """Everything about a query the rubric needs; computed once per distinct query."""

    raw: str
    text: str
    only: str | None
    terms: tuple[str, ...]
    key_terms: frozenset[str]
    entities: tuple[str, ...]


def quote(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


# --- shared line predicates -------------------------------------------------------------


def echoes(line: str, query: str) -> bool:
    """A line that is the query, or the query with a few characters added."""
    line, query = normalise(line), normalise(query)
    return bool(query) and (line == query or (query in line and len(line) < len(query) + 10))


def near_duplicate(a: str, b: str, min_distance: int) -> bool:
    a, b = normalise(a), normalise(b)
    if a == b or a in b or b in a:
        return True
    return len(set(a.split()) ^ set(b.split())) < min_distance


def keeps_key_term(line: str, key_terms: frozenset[str]) -> bool:
    return not key_terms or bool(key_terms & set(words(line)))


def is_generic_lex(line: str) -> bool:
    """A generic phrase with at most a couple of characters of topic left over."""
    rest = normalise(line)
    found = False
    for phrase in GENERIC_LEX_PHRASES:
        if phrase in rest:
            rest = rest.replace(phrase, " ", 1)
            found = True
    return found and len(rest.strip()) < 3


def natural_language(line: str) -> bool:
    return " " in line.strip() and len(line) > 15


def repetition_excess(text: str, ignore: frozenset[str] = frozenset()) -> int:
    """How far content words of a passage are used beyond twice.

    The query's own words are ignored: a passage about React may say React three times.
    """
    counts = Counter(
        w for w in words(text) if len(w) > 2 and w not in STOPWORDS and w not in ignore
    )
    return sum(c - 2 for c in counts.values() if c >= 3)


# --- dimensions: full expansions --------------------------------------------------------


def score_format(exp: Expansion, q: QueryInfo) -> Result:
    points, notes = 10.0, []
    for kind in ("lex", "vec"):
        if exp.of_type(kind):
            points += 10
        else:
            notes.append(f"No {kind} line.")
    return points, notes


def _pair_budget(lines: tuple[str, ...], kind: str, min_distance: int) -> Result:
    budget, notes = 5.0, []
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            if near_duplicate(a, b, min_distance):
                budget -= 2
                notes.append(f"Two {kind} lines say nearly the same: {quote(a)} and {quote(b)}.")
    return max(0.0, budget), notes


def score_diversity(exp: Expansion, q: QueryInfo) -> Result:
    lex, vec = exp.lex, exp.vec
    points, notes = 0.0, []
    if lex and vec:
        points += 10
    else:
        notes.append("Only one of lex and vec is present.")
    if len(lex) + len(vec) >= 2:
        points += 5
    for lines, kind, distance in ((lex, "lex", 2), (vec, "vec", 3)):
        budget, more = _pair_budget(lines, kind, distance)
        points += budget
        notes += more
    echo = 5.0
    for line in lex:
        if echoes(line, q.text):
            echo -= 10
            notes.append(f"Lex line only repeats the query: {quote(line)}.")
    for line in vec:
        if echoes(line, q.text):
            echo -= 3
            notes.append(f"Vec line only repeats the query: {quote(line)}.")
    points += max(-10.0, echo)
    return max(0.0, points), notes


def hyde_on_topic(passage: str, q: QueryInfo) -> bool:
    """A passage for an entity query must name an entity; otherwise keep a key term."""
    if q.entities:
        return any(mentions(passage, e) for e in q.entities)
    return keeps_key_term(passage, q.key_terms)


def score_hyde(exp: Expansion, q: QueryInfo) -> Result:
    hydes = exp.hyde
    passage = hydes[0]
    points, notes = 0.0, []
    if hyde_on_topic(passage, q):
        points += 5
    elif q.entities:
        notes.append("Hyde passage never names the query's entities.")
    else:
        notes.append("Hyde passage shares no key term with the query.")
    length = len(passage)
    if 50 <= length <= 200:
        points += 5
    elif length < 50:
        points += 2
        notes.append(f"Hyde passage is short ({length} characters; 50-200 is ideal).")
    else:
        notes.append(f"Hyde passage is too long ({length} characters; 50-200 is ideal).")
    if len(hydes) == 1:
        points += 5
    else:
        notes.append(f"{len(hydes)} hyde lines; one passage is expected.")
    excess = repetition_excess(passage, ignore=q.key_terms)
    points += max(0, 5 - 2 * excess)
    if excess:
        notes.append("Hyde passage repeats the same words.")
    return points, notes


def score_quality(exp: Expansion, q: QueryInfo) -> Result:
    lex, vec = exp.lex, exp.vec
    points, notes = 5.0, []
    if lex and vec:
        if sum(map(len, lex)) / len(lex) <= sum(map(len, vec)) / len(vec):
            points += 5
        else:
            notes.append("Lex lines are longer than vec lines on average.")
    if vec:
        if all(natural_language(v) for v in vec):
            points += 5
        else:
            points += 2
            notes.append("A vec line is not a natural-language phrase.")
    if lex:
        keeping = sum(keeps_key_term(line, q.key_terms) for line in lex)
        if keeping == len(lex):
            points += 5
        elif keeping:
            points += 2
            notes.append("Some lex lines keep none of the query's key terms.")
        else:
            notes.append("No lex line keeps a key term of the query.")
        query_words = set(words(q.text))
        for line in lex:
            filler = (FILLER_WORDS & set(words(line))) - query_words
            if filler:
                points -= 3
                notes.append(f"Lex line pads with filler ({', '.join(sorted(filler))}).")
        if len(content_words(q.text)) >= 2 and any('"' in line for line in lex):
            points += 3
    return max(0.0, min(20.0, points)), notes


def score_entity(exp: Expansion, q: QueryInfo) -> Result:
    if not q.entities:
        return 10.0, []
    lex, vec = exp.lex, exp.vec
    if not lex:
        return 0.0, ["No lex line to carry the query's entities."]
    points, notes = 0.0, []
    with_entity = sum(any(mentions(line, e) for e in q.entities) for line in lex)
    if with_entity == len(lex):
        points += 15
    elif with_entity:
        points += 5
    else:
        points -= 30
        notes.append("No lex line names an entity of the query.")
    for entity in q.entities:
        if not any(mentions(line, entity) for line in lex + vec):
            points -= 20
            notes.append(f"Entity {entity!r} is missing from every lex and vec line.")
    generic = sum(is_generic_lex(line) for line in lex)
    if generic:
        points -= 15 * generic
        notes.append(f"{generic} lex line(s) are generic phrases.")
    if any(any(mentions(line, e) for e in q.entities) for line in vec):
        points += 5
    return max(float(ENTITY_MIN), min(20.0, points)), notes


def score_think(exp: Expansion, q: QueryInfo) -> Result:
    if exp.has_think:
        return 0.0, ["Output contains a <think> block."]
    return 20.0, []


# --- dimensions: /only:TYPE queries -----------------------------------------------------


def only_format(exp: Expansion, q: QueryInfo) -> Result:
    unwanted = sum(1 for line in exp.lines if line.type != q.only and line.text)
    if not unwanted:
        return 30.0, []
    return max(0.0, 30.0 - 10 * unwanted), [
        f"{unwanted} line(s) of a type other than {q.only} (the query asked /only:{q.only})."
    ]


def only_diversity(exp: Expansion, q: QueryInfo) -> Result:
    items = exp.of_type(q.only or "")
    notes: Deductions = []
    # One passage is all a hyde request wants, so it is not short of variety.
    points = 30.0 if q.only == "hyde" and len(items) == 1 else 15.0
    if len(items) >= 2:
        budget = 15.0
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if near_duplicate(a, b, 2):
                    budget -= 5
                    notes.append(f"Two {q.only} lines say nearly the same: {quote(a)}.")
        points += max(0.0, budget)
    for line in items:
        if echoes(line, q.text):
            points -= 5
            notes.append(f"{q.only} line only repeats the query: {quote(line)}.")
    return max(0.0, points), notes


def only_quality(exp: Expansion, q: QueryInfo) -> Result:
    items = exp.of_type(q.only or "")
    points, notes = 10.0, []
    if q.only == "lex":
        if all(keeps_key_term(line, q.key_terms) for line in items):
            points += 5
        else:
            notes.append("A lex line keeps none of the query's key terms.")
        generic = sum(is_generic_lex(line) for line in items)
        if generic:
            notes.append(f"{generic} lex line(s) are generic phrases.")
        else:
            points += 5
    elif q.only == "vec":
        if all(natural_language(v) for v in items):
            points += 10
        else:
            points += 5
            notes.append("A vec line is not a natural-language phrase.")
    else:
        length = len(items[0])
        if 50 <= length <= 200:
            points += 10
        elif 30 <= length <= 300:
            points += 5
            notes.append(f"Hyde passage length {length} (50-200 is ideal).")
        else:
            notes.append(f"Hyde passage length {length} is far from 50-200.")
    return points, notes


def only_entity(exp: Expansion, q: QueryInfo) -> Result:
    if not q.entities:
        return 10.0, []
    items = exp.of_type(q.only or "")
    named = sum(any(mentions(line, e) for e in q.entities) for line in items)
    if named == len(items):
        return 20.0, []
    if named:
        return 15.0, ["Some lines drop the query's entities."]
    return 0.0, [f"No line names the query's entities ({', '.join(q.entities)})."]


Dimension = Callable[[Expansion, QueryInfo], Result]

FULL_DIMENSIONS: tuple[tuple[str, Dimension], ...] = (
    ("format", score_format),
    ("diversity", score_diversity),
    ("hyde", score_hyde),
    ("quality", score_quality),
    ("entity", score_entity),
    ("think", score_think),
)
ONLY_DIMENSIONS: tuple[tuple[str, Dimension], ...] = (
    ("format", only_format),
    ("diversity", only_diversity),
    ("quality", only_quality),
    ("entity", only_entity),
    ("think", score_think),
)


def lex_echo_count(exp: Expansion, q: QueryInfo) -> int:
    return sum(echoes(line, q.text) for line in exp.lex)


def hard_failure(exp: Expansion, q: QueryInfo) -> str | None:
    """A reason to give zero regardless of everything else, or None."""
    if exp.template_leak:
        return "Chat-template tokens leaked into the output."
    if exp.invalid:
        return f"Line without a lex:/vec:/hyde: prefix: {quote(exp.invalid[0])}."
    if q.only and not exp.of_type(q.only):
        return f"The query asked /only:{q.only} but there is no {q.only} line."
    if not exp.lines or not any(line.text for line in exp.lines):
        return "No expansion lines."
    return None
