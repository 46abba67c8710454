"""The rules: what each line earns for QMD, and what the expansion as a whole costs.

The judge's principles, which every rule here follows:

1. Strictly monotone. An expansion made worse for QMD in any one way scores strictly lower.
   Nothing is clamped: a defect multiplies by a factor below one, so two different outputs
   never tie at a cap, and GRPO's group-relative advantage always sees the difference. The
   only hard zero is an output with no line QMD could read at all.
2. Content over shape. A line earns by what it adds to the query for QMD: its residue (the
   words left once the query's own words are taken away, see :mod:`qmd_reward.facts`). A
   lex line adds specific terms FTS5 can match; a vec line is a natural rephrasing; a hyde is
   a complete passage that answers with specifics beyond the query's words. A residue of
   padding earns nothing, whatever the form around it.
3. Full mode wants all three types: the hyde's points are lost without one.
4. Retrieval decides when it can: with relevance information the retrieval dimension
   carries half the score (:mod:`qmd_reward.scorer`), and a lex line that finds none of the
   relevant documents costs.
5. Faithful to QMD (src/store.ts and src/llm.ts of tobi/qmd): a line QMD drops earns
   nothing, a lex line is read as FTS5 reads it, vec and hyde text is embedded as it is.

A line's value is ``gain(what it adds) x product of its rules' factors``, in (0, 1]; the lines
of a type add up with diminishing returns; penalties of the whole expansion multiply the
sum. Both tables below are data: a change of the judge is one entry and its test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from .facts import LineFacts
from .parse import Expansion
from .query import QueryInfo

LEX, VEC, HYDE = "lex", "vec", "hyde"
ALL = frozenset({LEX, VEC, HYDE})
PROSE = frozenset({VEC, HYDE})

# Points of each dimension in full mode and for an /only: query; the format points are the
# only ones shape alone can earn, and they are few.
FULL_POINTS = {"lex": 40.0, "vec": 30.0, "hyde": 27.0, "format": 3.0}
ONLY_POINTS = 97.0
FORMAT_POINTS = 3.0
# With relevance information the retrieval dimension is worth as much as the rest together.
RETRIEVAL_POINTS = 100.0
DIMENSIONS = ("lex", "vec", "hyde", "format", "retrieval")
# Lines of a type add up with diminishing returns (see combined): each line after the best
# adds this rate of its value to what is left.
DIMINISHING = {LEX: 0.75, VEC: 0.8, HYDE: 1.0}
MAX_LINES = {LEX: 3, VEC: 3, HYDE: 1}
# A key term this rare (lexicon.rarity) is the query's subject: some line must say it.
RARE_TERM = 0.85
# What a line that repeats an earlier one keeps of its value: a second list of the same
# query adds nothing to QMD's fusion; a vec that copies the hyde adds a little (weight 1).
REPEAT_KEEPS = {"same": 0.1, "other": 0.3}


# --- what a line adds -------------------------------------------------------------------


class Gain(NamedTuple):
    """How much a line of one type earns for what its residue says: ``floor + (1 - floor) *
    (1 - base ** n)``, where ``n`` adds up the residue's words: a specific word counts
    ``specific``, an ordinary word ``plain`` times its :func:`~qmd_reward.wordclass.plain_weight`
    (a rare word says more than a frequent one), and so on."""

    floor: float  # what a line that adds nothing keeps (a lex echo still searches)
    base: float  # how fast the gain grows with each word
    specific: float
    plain: float
    unknown: float
    number: float
    max_numbers: int
    alias: float
    phrase: float  # lex: a quoted phrase that makes the search precise
    relax: float  # lex: fewer required terms than the raw query, so more notes match
    rephrase: float  # vec: a sentence that asks what the query asks (halved per padding word)

    def of(self, f: LineFacts, q: QueryInfo) -> float:
        n = (
            self.specific * len(f.specific)
            + self.plain * f.common_weight
            + self.unknown * len(f.unknown)
            + self.number * min(len(f.numbers), self.max_numbers)
            + self.alias * f.aliases
            + self.phrase * f.phrase
            + self.relax * f.relaxes
            + self.rephrase * _rephrasing(f, q)
        )
        return self.floor + (1 - self.floor) * (1 - self.base**n)


def _rephrasing(f: LineFacts, q: QueryInfo) -> float:
    """How fully a sentence restates the query in other words: the share of the query's key
    terms it carries, halved for each padding word; 0 for a list, meta talk or the query
    itself."""
    if not f.natural or f.meta or f.restates or not q.terms:
        return 0.0
    carried = sum(t.weight for t in q.terms if t.word in f.terms) / q.total_weight
    return carried * 0.5 ** len(f.generic)


# Numbers in a lex line are required terms the query did not ask for, so they add nothing
# there (a rule charges them); in a passage they are the specifics that answer.
GAINS = {
    LEX: Gain(0.15, 0.35, 1.0, 0.8, 0.3, 0.0, 0, 0.5, 0.5, 0.6, 0.0),
    VEC: Gain(0.15, 0.45, 1.0, 1.0, 0.5, 0.5, 2, 0.5, 0.0, 0.0, 0.5),
    HYDE: Gain(0.1, 0.6, 1.0, 0.6, 0.5, 0.5, 4, 0.5, 0.0, 0.0, 0.0),
}


# --- rules of one line ------------------------------------------------------------------


class LineRule(NamedTuple):
    """A defect of one line: for the line types in ``kinds``, its value is multiplied by
    ``factor`` once per hit that ``hits`` finds; ``message`` explains it (``{hits}`` is
    replaced by the hits)."""

    name: str
    kinds: frozenset[str]
    factor: float
    hits: Callable[[LineFacts, QueryInfo], tuple[str, ...]]
    message: str


def _flag(value: object) -> tuple[str, ...]:
    return ("",) if value else ()


def _off_topic(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return _flag((q.terms or q.entities) and not (f.terms or f.entities or f.near))


def _unanchored(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return _flag((f.terms or f.entities or f.near) and not f.anchored)


def _entity_unnamed(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return _flag(q.entities and not f.entities and f.terms)


def _generic_unnamed(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    """A passage for an entity query that neither names it nor says anything specific: it
    embeds near every note about anything (QMD issue #247)."""
    return _flag(q.entities and not f.entities and len(f.specific) < 2)


def _padding(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    """Filler leads and padding words, each counted once ('guide to' holds 'guide')."""
    leads = tuple(p for p in f.fillers if not any(p != o and p in o for o in f.fillers))
    inside = {w for phrase in leads for w in phrase.split()}
    return leads + tuple(w for w in f.generic if w not in inside)


def _many_terms(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return (str(f.and_terms),) * max(0, f.and_terms - 4)


def _numbers(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return f.numbers


def _vague(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    """Padding words of a passage; one that states three specifics may use two of them."""
    return f.generic[2:] if len(f.specific) >= 3 else f.generic


def _cut_badly(f: LineFacts, q: QueryInfo) -> tuple[str, ...]:
    return _flag(f.truncation and "stops without" not in f.truncation)


LINE_RULES: tuple[LineRule, ...] = (
    LineRule(
        "off_topic",
        frozenset({LEX, VEC}),
        0.05,
        _off_topic,
        "names none of the query's terms or entities: it searches for something else",
    ),
    LineRule(
        "off_topic",
        frozenset({HYDE}),
        0.3,
        _off_topic,
        "names none of the query's terms or entities",
    ),
    LineRule(
        "unanchored",
        frozenset({LEX}),
        0.5,
        _unanchored,
        "keeps only the query's common words, not what makes it specific",
    ),
    LineRule(
        "unanchored",
        frozenset({VEC}),
        0.25,
        _unanchored,
        "keeps only the query's common words: it embeds near something else",
    ),
    LineRule(
        "entity_unnamed", frozenset({HYDE}), 0.85, _entity_unnamed, "never names the query's entity"
    ),
    LineRule(
        "generic_unnamed",
        frozenset({HYDE}),
        0.5,
        _generic_unnamed,
        "neither names the query's entity nor says anything specific",
    ),
    LineRule(
        "drift", ALL, 0.3, lambda f, q: _flag(f.drift), "is English although the query is not"
    ),
    # lex: what FTS5 makes of it
    LineRule(
        "padding",
        frozenset({LEX}),
        0.7,
        _padding,
        "requires padding words every note could have ({hits})",
    ),
    LineRule(
        "many_terms",
        frozenset({LEX}),
        0.9,
        _many_terms,
        "ANDs {hits} terms: few notes contain them all",
    ),
    LineRule(
        "question",
        frozenset({LEX}),
        0.6,
        lambda f, q: _flag(f.question),
        "is a question: FTS5 requires each of its words",
    ),
    LineRule(
        "unbalanced_quote",
        frozenset({LEX}),
        0.6,
        lambda f, q: _flag(f.unbalanced),
        "has an unclosed quote: its phrase runs to the end of the line",
    ),
    LineRule(
        "no_positive_term",
        frozenset({LEX}),
        0.05,
        lambda f, q: _flag(f.no_positive),
        "has only negated terms: FTS5 matches nothing",
    ),
    LineRule(
        "negates_query",
        frozenset({LEX}),
        0.25,
        lambda f, q: f.negated,
        "excludes the query's own term ({hits})",
    ),
    LineRule(
        "search_syntax",
        frozenset({LEX}),
        0.5,
        lambda f, q: f.syntax,
        "uses web-search syntax QMD reads as required words ({hits})",
    ),
    LineRule(
        "hyphen_chain",
        frozenset({LEX}),
        0.6,
        lambda f, q: f.chains,
        "chains words with hyphens into one exact phrase ({hits})",
    ),
    LineRule(
        "new_number",
        frozenset({LEX}),
        0.85,
        _numbers,
        "requires a number the query did not ask for ({hits})",
    ),
    LineRule(
        "unknown_word",
        frozenset({LEX}),
        0.9,
        lambda f, q: f.unknown,
        "requires a word no dictionary knows ({hits}): if no note has it, nothing matches",
    ),
    LineRule(
        "reordered_phrase",
        frozenset({LEX}),
        0.4,
        lambda f, q: f.reordered,
        "quotes the query's words in an order no note has ({hits})",
    ),
    LineRule(
        "stuffed",
        frozenset({LEX}),
        0.6,
        lambda f, q: f.stuffed,
        "repeats a term ({hits}): keyword stuffing",
    ),
    # vec and hyde: is it the text its type asks for
    LineRule(
        "keyword_list",
        frozenset({VEC}),
        0.4,
        lambda f, q: _flag(not f.natural),
        "is not a natural-language sentence",
    ),
    LineRule("restates_query", PROSE, 0.5, lambda f, q: _flag(f.restates), "is the query itself"),
    LineRule(
        "keyword_list",
        frozenset({HYDE}),
        0.3,
        lambda f, q: _flag(f.keyword_list),
        "is a list of words, not a passage",
    ),
    LineRule(
        "meta_talk",
        PROSE,
        0.3,
        lambda f, q: f.meta,
        "talks about the search, not its subject ({hits})",
    ),
    LineRule(
        "repeats", PROSE, 0.85, lambda f, q: ("",) * f.repeats, "says the same words over and over"
    ),
    LineRule(
        "question",
        frozenset({HYDE}),
        0.3,
        lambda f, q: _flag(f.question),
        "asks instead of answering",
    ),
    LineRule(
        "boilerplate",
        frozenset({HYDE}),
        0.4,
        lambda f, q: (f"{f.boilerplate}...",) if f.boilerplate else (),
        "opens like a template ('{hits}')",
    ),
    LineRule(
        "unfinished", frozenset({HYDE}), 0.6, lambda f, q: _flag(f.truncation), "stops mid-sentence"
    ),
    LineRule(
        "cut_badly", frozenset({HYDE}), 0.8, _cut_badly, "is cut off mid-word or on a function word"
    ),
    LineRule("vague", PROSE, 0.9, _vague, "talks around its subject ({hits})"),
)

# The rules of each line type, in LINE_RULES' order: looked up once per line, not filtered.
_RULES_OF: dict[str, tuple[LineRule, ...]] = {
    kind: tuple(rule for rule in LINE_RULES if kind in rule.kinds) for kind in (LEX, VEC, HYDE)
}


def passage_anchor(f: LineFacts, q: QueryInfo) -> float:
    """How firmly a passage is about the query, in [0.8, 1): the share of the query's key
    terms it carries, and how often it says them. A passage that carries more of its subject
    embeds nearer the notes about it.

    Strictly increasing on purpose: replacing one mention of a term with 'it' costs a little."""
    if not q.terms:
        return 1.0
    carried = sum(t.weight for t in q.terms if t.word in f.terms) / q.total_weight
    return 0.8 + 0.12 * carried + 0.08 * (1 - 0.6**f.mentions)


# A passage of this many words is the right size: about 50 to 200 characters.
PASSAGE_WORDS = (8, 32)


def passage_size(words: int) -> float:
    """What a passage's length in words costs, in (0, 1]: nothing from 8 to 32 words, smoothly
    more the further outside (a step would let a cut that crosses it score higher). Words,
    not characters: writing 'it' for a long word does not make a passage fit better.

    >>> passage_size(20), round(passage_size(4), 2), round(passage_size(64), 2)
    (1.0, 0.8, 0.71)
    """
    low, high = PASSAGE_WORDS
    if words < low:
        return 0.6 + 0.4 * words / low
    return 1.0 if words <= high else (high / words) ** 0.5


class LineResult(NamedTuple):
    """What one line earns (0 for a line QMD drops or babble), and why it lost value."""

    value: float
    notes: tuple[tuple[float, str], ...]  # (share of the value lost, message)


def line_value(f: LineFacts, q: QueryInfo) -> LineResult:
    """The value of one line for QMD, in [0, 1].

    >>> from qmd_reward.query import analyse
    >>> from qmd_reward.facts import line_facts
    >>> q = analyse("ssh key authentication", ())
    >>> good = line_value(line_facts(q, "lex", "ssh-keygen ed25519 authorized_keys"), q)
    >>> echo = line_value(line_facts(q, "lex", "ssh key authentication"), q)
    >>> padded = line_value(line_facts(q, "lex", "ssh key authentication guide"), q)
    >>> good.value > echo.value > padded.value > 0
    True
    """
    label = f"{f.kind.capitalize()} line {quote(f.text)}"
    if not f.kept:
        return LineResult(0.0, ((1.0, f"{label} has no query term: QMD drops it."),))
    if f.babble:
        return LineResult(0.0, ((1.0, f"{label} is babble ({f.babble})."),))
    value = GAINS[f.kind].of(f, q)
    notes = []
    if f.kind == HYDE:
        value *= passage_anchor(f, q)
        size = passage_size(f.words)
        if size < 1:
            value *= size
            notes.append((1 - size, f"{label} has {f.words} words (8 to 32 suit a passage)."))
    for rule in _RULES_OF[f.kind]:
        hits = rule.hits(f, q)
        if hits:
            factor = rule.factor ** len(hits)
            value *= factor
            shown = ", ".join(dict.fromkeys(h for h in hits if h))
            notes.append((1 - factor, f"{label} {rule.message.replace('{hits}', shown)}."))
    return LineResult(value, tuple(notes))


def combined(values: list[float], kind: str) -> float:
    """The share a type's lines earn together: the best line its own value, each further
    line a share of what is left (QMD fuses one more list; it adds less than the first).

    >>> round(combined([0.8], "lex"), 3), round(combined([0.8, 0.8], "lex"), 3)
    (0.8, 0.92)
    """
    left = 1.0
    for i, value in enumerate(sorted(values, reverse=True)):
        left *= 1 - (value if i == 0 else DIMINISHING[kind] * value)
    return 1 - left


def dimension_max(name: str, only: str | None) -> float:
    """The most points dimension ``name`` can give (an /only: query's type gets nearly all).

    >>> dimension_max("lex", None), dimension_max("lex", "lex"), dimension_max("vec", "lex")
    (40.0, 97.0, 0.0)
    """
    if name == "retrieval":
        return RETRIEVAL_POINTS
    if name == "format":
        return FORMAT_POINTS
    if only is not None:
        return ONLY_POINTS if name == only else 0.0
    return FULL_POINTS[name]


@lru_cache(maxsize=16384)
def quote(text: str, width: int = 48) -> str:
    """A line for a message: whitespace collapsed, cut at ``width``.

    >>> quote("a line of text")
    "'a line of text'"
    """
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


# --- penalties of the whole expansion ---------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """An expansion with the facts of its lines, ready for the penalties."""

    query: QueryInfo
    expansion: Expansion
    facts: tuple[LineFacts, ...]  # one per typed line, in order
    results: tuple[LineResult, ...]  # line_value of each
    repeats: tuple[str | None, ...]  # per line: "same" or "other" when it repeats a line before
    templated: tuple[bool, ...]  # per line: other queries of the batch have it, words swapped

    @cached_property
    def kept(self) -> tuple[LineFacts, ...]:
        """The lines QMD searches with: kept by its filter, and not babble."""
        return tuple(f for f in self.facts if f.kept and not f.babble)

    @cached_property
    def named(self) -> frozenset[str]:
        """The query's entities some kept line names."""
        return frozenset(e for f in self.kept for e in f.entities)


class Penalty(NamedTuple):
    """A defect of the whole expansion: the score is multiplied by ``factor`` once per hit."""

    name: str
    factor: float
    hits: Callable[[Judged], tuple[str, ...]]
    message: str


def _dropped(j: Judged) -> tuple[str, ...]:
    return tuple(quote(f.text) for f in j.facts if not f.kept)


def _off_topic_lines(j: Judged) -> tuple[str, ...]:
    """Lex and vec lines QMD keeps (a query word such as 'the' is in them) that are about
    something else: their lists pull unrelated notes into the fusion. (A passage may answer
    in other words; its own rule charges it.)"""
    q = j.query
    if not (q.terms or q.entities):
        return ()
    return tuple(
        quote(f.text)
        for f in j.facts
        if f.kind != HYDE and f.kept and not f.babble and not (f.terms or f.entities or f.near)
    )


def _babble(j: Judged) -> tuple[str, ...]:
    return tuple(quote(f.text) for f in j.facts if f.kept and f.babble)


def _extra_lines(j: Judged) -> tuple[str, ...]:
    counts = Counter(f.kind for f in j.facts)
    wanted = (j.query.only,) if j.query.only else tuple(MAX_LINES)
    hits: list[str] = []
    for kind in wanted:
        hits += [f"{counts[kind]} {kind} lines"] * max(0, counts[kind] - MAX_LINES[kind])
    return tuple(hits)


def _repeated(j: Judged) -> tuple[str, ...]:
    if not any(j.repeats):
        return ()
    return tuple(quote(f.text) for f, r in zip(j.facts, j.repeats) if r)


def _templated(j: Judged) -> tuple[str, ...]:
    if not any(j.templated):
        return ()
    return tuple(quote(f.text) for f, t in zip(j.facts, j.templated) if t)


def _missing_entities(j: Judged) -> tuple[str, ...]:
    return tuple(e.name for e in j.query.entities if e.name not in j.named)


def _dropped_versions(j: Judged) -> tuple[str, ...]:
    versioned = [e for e in j.query.entities if e.version is not None and e.name in j.named]
    if not versioned:
        return ()
    kept = {e for f in j.kept for e in f.versions}
    return tuple(e.name for e in versioned if e.name not in kept)


def _missing_terms(j: Judged) -> tuple[str, ...]:
    """Key terms no line mentions: a rare one, or any discriminating side of a comparison
    ('mysql' in 'postgres vs mysql'). A common term may well be said with a synonym, and the
    raw query's own lists search for it anyway."""
    said = {t for f in j.kept for t in f.terms}
    in_missing = {w for e in _missing_entities(j) for w in e.split()}
    comparison = j.query.comparison
    return tuple(
        t.word
        for t in j.query.discriminating
        if (comparison or t.weight >= RARE_TERM) and t.word not in said and t.word not in in_missing
    )


def _unwanted(j: Judged) -> tuple[str, ...]:
    if j.query.only is None:
        return ()
    return tuple(quote(f.text) for f in j.facts if f.kind != j.query.only)


PENALTIES: tuple[Penalty, ...] = (
    Penalty(
        "template_tokens",
        0.25,
        lambda j: _flag(j.expansion.leak),
        "Chat-template tokens are left in the output",
    ),
    Penalty(
        "think_block",
        0.5,
        lambda j: _flag(j.expansion.think),
        "The output has a <think> block; QMD asks for /no_think",
    ),
    Penalty(
        "unprefixed",
        0.6,
        lambda j: tuple(map(quote, j.expansion.invalid)),
        "Lines without a lex:/vec:/hyde: prefix, which QMD skips: {hits}",
    ),
    Penalty("dropped", 0.85, _dropped, "Lines with no query term, which QMD drops: {hits}"),
    Penalty("babble", 0.35, _babble, "Degenerate lines: {hits}"),
    Penalty("off_topic", 0.85, _off_topic_lines, "Lines about something else: {hits}"),
    Penalty("extra_lines", 0.85, _extra_lines, "More lines than QMD's prompt asks for: {hits}"),
    Penalty("repeated_line", 0.85, _repeated, "Lines that repeat an earlier line: {hits}"),
    Penalty(
        "template",
        0.8,
        _templated,
        "Lines that are a template, the same words for other queries of the batch: {hits}",
    ),
    Penalty("missing_entity", 0.6, _missing_entities, "No line names the entity: {hits}"),
    Penalty("dropped_version", 0.85, _dropped_versions, "No line keeps the version of {hits}"),
    Penalty("missing_term", 0.85, _missing_terms, "No line mentions the key term: {hits}"),
    Penalty(
        "unwanted_type", 0.5, _unwanted, "Lines of a type the /only: query did not ask for: {hits}"
    ),
)


class LineScore(NamedTuple):
    """What one line earned for QMD, in [0, 1]."""

    type: str
    text: str
    value: float


class Verdict(NamedTuple):
    """Points per dimension, the product of the penalties, what each line earned, and the
    reasons (largest cost first)."""

    dimensions: dict[str, float]
    max_points: float
    factor: float
    penalties: dict[str, float]
    notes: tuple[str, ...]
    lines: tuple[LineScore, ...]


def judge(j: Judged) -> Verdict:
    """Points and penalties of one expansion (no retrieval: see the scorer)."""
    q = j.query
    kinds = (q.only,) if q.only else (LEX, VEC, HYDE)
    values: dict[str, list[float]] = {kind: [] for kind in kinds}
    costed: list[tuple[float, str]] = []
    scored: list[LineScore] = []
    for f, result, repeat, templated in zip(j.facts, j.results, j.repeats, j.templated):
        if f.kind not in values:
            scored.append(LineScore(f.kind, f.text, 0.0))
            continue
        value = result.value
        if repeat:
            value *= REPEAT_KEEPS[repeat]
        if templated:
            value = 0.0
        values[f.kind].append(value)
        scored.append(LineScore(f.kind, f.text, round(value, 4)))
        weight = (ONLY_POINTS if q.only else FULL_POINTS[f.kind]) / 100
        costed += [(cost * weight, note) for cost, note in result.notes]
    points = ONLY_POINTS if q.only else None
    dims: dict[str, float] = {}
    for kind in kinds:
        share = max(values[kind], default=0.0) if kind == HYDE else combined(values[kind], kind)
        dims[kind] = round((points or FULL_POINTS[kind]) * share, 4)
        if not values[kind]:
            costed.append(((points or FULL_POINTS[kind]) / 100, f"No {kind} line."))
    lines = len(j.facts) + len(j.expansion.invalid)
    usable = len(j.kept)
    dims["format"] = round(FORMAT_POINTS * usable / lines, 4) if lines else 0.0
    factor = 1.0
    penalties: dict[str, float] = {}
    for penalty in PENALTIES:
        hits = penalty.hits(j)
        if hits:
            cost = penalty.factor ** len(hits)
            factor *= cost
            penalties[penalty.name] = penalties.get(penalty.name, 1.0) * cost
            costed.append((1 - cost, penalty.message.replace("{hits}", ", ".join(hits)) + "."))
    costed.sort(key=lambda item: -item[0])
    notes = tuple(note for _, note in costed)
    return Verdict(dims, 100.0, factor, penalties, notes, tuple(scored))
