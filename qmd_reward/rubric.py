"""The rubric: each dimension is a pure function of (parsed expansion, analysed query).

Dimension names and point ranges are those of the original qmd finetune scorer, so scores
from either can be read side by side:

=========  ==========  ====================================================
dimension  points      judges
=========  ==========  ====================================================
format     0..30       usable lines QMD keeps, lex and vec present
diversity  0..30       both types, distinct lines, no echo, no stuffing
hyde       0..20       only when a hyde line is present: on topic, sized
quality    0..20       lex short, on the discriminating terms; vec natural
entity     -45..20     named entities of the query kept
think      0..20       no ``<think>`` block
=========  ==========  ====================================================

Each function returns ``(points, deductions)``; deductions are short plain sentences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from . import checks
from .entities import mentioned_terms
from .expansion import Expansion, Line, LineIssue
from .lexicon import zipf
from .text import STOPWORDS, content_set, normalise, words

MAX_POINTS = {
    "format": 30,
    "diversity": 30,
    "hyde": 20,
    "quality": 20,
    "entity": 20,
    "think": 20,
    "retrieval": 20,
}
ENTITY_MIN = -45
MAX_PER_TYPE = 3

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
# Line problems that cost format points: QMD drops or cannot use such a line.
UNUSABLE = {
    LineIssue.EMPTY: "is empty",
    LineIssue.UNBALANCED_QUOTES: "has unbalanced quotes (QMD rejects it)",
    LineIssue.ONLY_NEGATION: "has only negations (matches nothing)",
    LineIssue.NEGATION_IN_EMBEDDING: "uses -negation, which QMD rejects outside lex",
    LineIssue.NO_QUERY_TERM: "shares no term with the query (QMD drops it)",
    LineIssue.TOO_MANY_TERMS: "ANDs so many terms it will rarely match",
}

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
    discriminating: frozenset[str]  # the rarest key terms: what makes the query specific
    entities: tuple[str, ...]
    language: str | None
    weights: tuple[tuple[str, float], ...] = ()  # key terms with their rarity
    vocabulary: tuple[str, ...] = ()  # key terms and entities, the words lines are checked for


def quote(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


# --- shared line predicates -------------------------------------------------------------


def echoes(line: str, query: str) -> bool:
    """A line that is the query, or the query with a few characters added (original rule)."""
    line, query = normalise(line), normalise(query)
    return bool(query) and (line == query or (query in line and len(line) < len(query) + 10))


def near_echo(line: str, query: str) -> bool:
    """The query's words reshuffled (or barely respelled), with nothing new added."""
    own = content_set(line)
    if own and own <= content_set(query):
        return True
    return bool(query) and fuzz.token_sort_ratio(normalise(line), normalise(query)) >= 95


def near_duplicate(a: str, b: str, min_distance: int) -> bool:
    a, b = normalise(a), normalise(b)
    if a == b or a in b or b in a:
        return True
    if len(set(a.split()) ^ set(b.split())) < min_distance:
        return True
    return fuzz.token_sort_ratio(a, b) >= 90


def mentioned(line: str, q: QueryInfo) -> frozenset[str]:
    """The query's key terms and entities that ``line`` mentions (computed once per line:
    several dimensions ask)."""
    return mentioned_terms(line, q.vocabulary)


def keeps_term(line: str, terms: frozenset[str], q: QueryInfo) -> bool:
    return not terms or bool(mentioned(line, q) & terms)


def names_entity(line: str, q: QueryInfo) -> bool:
    return not mentioned(line, q).isdisjoint(q.entities)


def anchored(line: str, q: QueryInfo) -> bool:
    """A lex line without the entity can still be pinned to the topic by a rare query term
    ('jsonb gin index' for 'postgresql jsonb index'); 'racing team founders' is not."""
    return any(zipf(t) < 3.0 for t in mentioned(line, q) & q.discriminating)


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
    if checks.script(line) in {"han", "japanese"}:
        return len(line.strip()) >= 6  # no spaces between words in these scripts
    return " " in line.strip() and len(line) > 15


def repetition_excess(text: str, ignore: frozenset[str] = frozenset()) -> int:
    """How far content words of a passage are used beyond twice.

    The query's own words are ignored: a passage about React may say React three times.
    """
    counts = Counter(
        w for w in words(text) if len(w) > 2 and w not in STOPWORDS and w not in ignore
    )
    return sum(c - 2 for c in counts.values() if c >= 3)


def new_fillers(line: str, q: QueryInfo) -> tuple[str, ...]:
    """Filler in a line that the user did not ask for."""
    asked = f" {' '.join(words(q.text))} "
    return tuple(f for f in checks.fillers_in(line) if f" {f} " not in asked)


def lex_problems(line: str, q: QueryInfo) -> list[str]:
    """What makes a lex line a weak keyword query, as short phrases."""
    problems = []
    if checks.ends_on_function_word(line):
        problems.append("is cut off (ends on a function word)")
    if not keeps_term(line, q.discriminating, q) and not names_entity(line, q):
        problems.append("keeps none of the query's discriminating terms")
    fillers = new_fillers(line, q)
    if fillers:
        problems.append(f"pads with filler ({', '.join(fillers)})")
    return problems


def key_coverage(lines: tuple[str, ...], q: QueryInfo) -> float:
    """Share of the query's key terms, weighted by rarity, that some line mentions."""
    total = sum(w for _, w in q.weights)
    found = frozenset().union(*(mentioned(line, q) for line in lines))
    covered = sum(w for t, w in q.weights if t in found)
    return covered / total if total else 1.0


# What each hyde problem does: boilerplate and off-topic passages pull vector search anywhere,
# so their shape earns nothing; a passage that is on topic but vague only loses its topic point.
BOILERPLATE, OFF_TOPIC, UNNAMED, VAGUE, TRUNCATED = (
    "opens with boilerplate",
    "is off topic (no entity and few key terms of the query)",
    "never names the query's entities",
    "misses most of the query's key terms",
    "stops mid-sentence",
)


def hyde_problems(passage: str, q: QueryInfo) -> list[str]:
    problems = []
    if checks.boilerplate_opening(passage):
        problems.append(BOILERPLATE)
    unnamed = bool(q.entities) and not names_entity(passage, q)
    vague = len(q.discriminating) >= 2 and key_coverage((passage,), q) < 0.5
    if not q.entities and not keeps_term(passage, q.key_terms, q):
        vague = unnamed = True
    if unnamed and vague:
        problems.append(OFF_TOPIC)
    elif unnamed:
        problems.append(UNNAMED)
    elif vague:
        problems.append(VAGUE)
    if checks.hyde_truncated(passage):
        problems.append(TRUNCATED)
    return problems


def hyde_penalty(problems: list[str]) -> tuple[float, float]:
    """(points off, cap) for a passage's problems, out of the 20 hyde points."""
    cap = 20.0
    off = 0.0
    for problem in problems:
        if problem == BOILERPLATE:
            cap = min(cap, 2.0)
        elif problem == OFF_TOPIC:
            cap = min(cap, 5.0)
        elif problem in (UNNAMED, VAGUE):
            off += 5
        elif problem == TRUNCATED:
            off += 3
    return off, cap


def drift_notes(exp: Expansion, q: QueryInfo) -> Deductions:
    return [
        f"{line.type} line is not in the query's language: {quote(line.text)}."
        for line in exp.lines
        if line.text and checks.drifted(q.language, line.text)
    ]


def validity(exp: Expansion, kinds: tuple[str, ...]) -> Result:
    """Points off the 10 'no invalid line' points for lines QMD cannot use."""
    points, notes = 10.0, []
    for line in exp.lines:
        if LineIssue.DEGENERATE in line.issues:
            points -= 5
            notes.append(f"Degenerate {line.type} line: {quote(line.text)}.")
            continue
        for issue in line.issues:
            points -= 3
            notes.append(f"{line.type.capitalize()} line {UNUSABLE[issue]}: {quote(line.text)}.")
    for kind in kinds:
        extra = sum(1 for line in exp.lines if line.type == kind and line.text) - MAX_PER_TYPE
        if extra > 0:
            points -= 3 * extra
            notes.append(f"{extra + MAX_PER_TYPE} {kind} lines; at most {MAX_PER_TYPE} are used.")
    return max(0.0, points), notes


def usable(exp: Expansion, kind: str) -> list[Line]:
    """Lines of a type that QMD keeps and can search with."""
    return [
        line
        for line in exp.lines
        if line.type == kind
        and line.text
        and not line.dropped
        and LineIssue.DEGENERATE not in line.issues
        and LineIssue.ONLY_NEGATION not in line.issues
    ]


# --- dimensions: full expansions --------------------------------------------------------


def score_format(exp: Expansion, q: QueryInfo) -> Result:
    points, notes = validity(exp, ("lex", "vec", "hyde"))
    for kind in ("lex", "vec"):
        if usable(exp, kind):
            points += 10
        elif exp.of_type(kind):
            notes.append(f"No {kind} line that QMD would use.")
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
        elif near_echo(line, q.text):
            echo -= 2
            notes.append(f"Lex line reshuffles the query's words: {quote(line)}.")
        elif stuffed := checks.repeated_words(line, q.text):
            echo -= 3
            notes.append(f"Lex line repeats words ({', '.join(stuffed)}): keyword stuffing.")
    for line in vec:
        if echoes(line, q.text) or near_echo(line, q.text):
            echo -= 3
            notes.append(f"Vec line only repeats the query: {quote(line)}.")
    points += max(-10.0, echo)
    return max(0.0, points), notes


def score_hyde(exp: Expansion, q: QueryInfo) -> Result:
    hydes = exp.hyde
    passage = hydes[0]
    problems = hyde_problems(passage, q)
    notes = [f"Hyde passage {p}." for p in problems]
    points = 5.0
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
    off, cap = hyde_penalty(problems)
    return max(0.0, min(points - off, cap)), notes


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
            if any(echoes(v, q.text) or near_echo(v, q.text) for v in vec):
                points += 2
                notes.append("A vec line restates the query instead of rephrasing it.")
            else:
                points += 5
        else:
            points += 2
            notes.append("A vec line is not a natural-language phrase.")
    if lex:
        if q.key_terms and key_coverage(lex, q) < 0.5:
            points -= 3
            notes.append("Lex lines together leave out most of the query's key terms.")
        on_key = 0
        for line in lex:
            problems = lex_problems(line, q)
            if not any(p.startswith("keeps none") for p in problems):
                on_key += 1
            points -= 3 * len(problems)
            notes += [f"Lex line {p}: {quote(line)}." for p in problems]
        if on_key == len(lex):
            points += 5
        elif on_key:
            points += 2
        if len(q.key_terms) >= 2 and any('"' in line for line in lex):
            points += 3
    drift = drift_notes(exp, q)
    points -= 5 * len(drift)
    notes += drift
    return max(0.0, min(20.0, points)), notes


def score_entity(exp: Expansion, q: QueryInfo) -> Result:
    if not q.entities:
        return 10.0, []
    lex, vec = exp.lex, exp.vec
    if not lex:
        return 0.0, ["No lex line to carry the query's entities."]
    points, notes = 0.0, []
    with_entity = sum(names_entity(line, q) or anchored(line, q) for line in lex)
    if not any(names_entity(line, q) for line in lex):
        with_entity = 0
    if with_entity == len(lex):
        points += 15
    elif with_entity:
        points += 5
    else:
        points -= 30
        notes.append("No lex line names an entity of the query.")
    for entity in q.entities:
        if not any(entity in mentioned(line, q) for line in lex + vec):
            points -= 20
            notes.append(f"Entity {entity!r} is missing from every lex and vec line.")
    generic = sum(is_generic_lex(line) for line in lex)
    if generic:
        points -= 15 * generic
        notes.append(f"{generic} lex line(s) are generic phrases.")
    if any(names_entity(line, q) for line in vec):
        points += 5
    return max(float(ENTITY_MIN), min(20.0, points)), notes


def score_think(exp: Expansion, q: QueryInfo) -> Result:
    if exp.has_think:
        return 0.0, ["Output contains a <think> block."]
    return 20.0, []


# --- dimensions: /only:TYPE queries -----------------------------------------------------


def only_format(exp: Expansion, q: QueryInfo) -> Result:
    points, notes = validity(exp, (q.only or "",))
    points += 20.0
    unwanted = sum(1 for line in exp.lines if line.type != q.only and line.text)
    if unwanted:
        points -= 10 * unwanted
        notes.append(
            f"{unwanted} line(s) of a type other than {q.only} (the query asked /only:{q.only})."
        )
    return max(0.0, points), notes


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
        elif q.only == "lex" and (stuffed := checks.repeated_words(line, q.text)):
            points -= 3
            notes.append(f"Lex line repeats words ({', '.join(stuffed)}): keyword stuffing.")
    return max(0.0, points), notes


def only_quality(exp: Expansion, q: QueryInfo) -> Result:
    items = exp.of_type(q.only or "")
    points, notes = 10.0, []
    if q.only == "lex":
        problems = {line: lex_problems(line, q) for line in items}
        if not any(any(p.startswith("keeps none") for p in ps) for ps in problems.values()):
            points += 5
        for line, ps in problems.items():
            points -= 3 * len(ps)
            notes += [f"Lex line {p}: {quote(line)}." for p in ps]
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
        passage = items[0]
        length = len(passage)
        problems = hyde_problems(passage, q)
        off, cap = hyde_penalty(problems)
        if problems:
            notes += [f"Hyde passage {p}." for p in problems]
            # the same problems, on this dimension's 20-point scale
            points = min(points - off, cap - 10)
        elif 50 <= length <= 200:
            points += 10
        elif 30 <= length <= 300:
            points += 5
            notes.append(f"Hyde passage length {length} (50-200 is ideal).")
        else:
            notes.append(f"Hyde passage length {length} is far from 50-200.")
    drift = drift_notes(exp, q)
    points -= 5 * len(drift)
    notes += drift
    return max(0.0, min(20.0, points)), notes


def only_entity(exp: Expansion, q: QueryInfo) -> Result:
    if not q.entities:
        return 10.0, []
    items = exp.of_type(q.only or "")
    named = sum(names_entity(line, q) for line in items)
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


def retrieval_notes(result: Any) -> Deductions:
    """Deductions for a retrieval result (from :mod:`qmd_reward.retrieval`)."""

    def rank(value: int | None) -> str:
        return "not found" if value is None else f"rank {value}"

    if result.points < 10:
        return [
            "Lex lines pushed the relevant document down "
            f"({rank(result.rank_before)} -> {rank(result.rank_after)})."
        ]
    if result.rank_after is None:
        return ["Neither the query nor the lex lines find a relevant document."]
    return []


def only_query_words(line: str, q: QueryInfo) -> bool:
    """Nothing in the line but the query's own words (and function words)."""
    return echoes(line, q.text) or set(words(line)) <= q.key_terms | STOPWORDS


def off_topic(exp: Expansion, q: QueryInfo) -> bool:
    """No line names an entity or keeps a key term: the output is about something else.

    Only judged for Latin-script queries, where key terms can be matched word for word.
    """
    if not q.key_terms or checks.script(q.text) not in ("latin", None):
        return False
    texts = [line.text for line in exp.lines if line.text]
    return not any(keeps_term(t, q.key_terms, q) or names_entity(t, q) for t in texts)


def lex_echo_count(exp: Expansion, q: QueryInfo) -> int:
    return sum(echoes(line, q.text) for line in exp.lex)


def hard_failure(exp: Expansion, q: QueryInfo) -> str | None:
    """A reason to give zero regardless of everything else, or None."""
    if exp.template_leak:
        return "Chat-template tokens leaked into the output."
    if exp.invalid:
        return f"Line without a lex:/vec:/hyde: prefix: {quote(exp.invalid[0])}."
    if not any(line.text for line in exp.lines):
        return "No expansion lines."
    if q.only and not exp.of_type(q.only):
        return f"The query asked /only:{q.only} but there is no usable {q.only} line."
    return None
