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

import re
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import filterfalse
from typing import Any, Final

from rapidfuzz import fuzz

from . import checks
from .entities import TermKeys, mentioned_terms
from .expansion import DROPPING_ISSUES, Expansion, LineIssue, Reading
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
MAX_PER_TYPE: Final = 3

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
_GENERIC_LEX = re.compile("|".join(map(re.escape, GENERIC_LEX_PHRASES)))
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
    total_weight: float = 0.0  # their sum
    asked: frozenset[str] = frozenset()  # every word of the query text
    anchors: frozenset[str] = frozenset()  # discriminating terms rare enough to anchor a line
    asked_text: str = ""  # the query's words, space-separated and space-padded
    known: frozenset[str] = frozenset()  # key terms and stopwords: what adds nothing new
    latin: bool = True  # written in Latin script (or in none): key terms match word for word
    vocabulary: tuple[str, ...] = ()  # key terms and entities, the words lines are checked for
    index: tuple[TermKeys, ...] = ()  # the vocabulary's :func:`qmd_reward.entities.term_index`
    # What the rubric learnt about each line against this query. GRPO scores many completions
    # of one prompt and they share lines, so each (query, line) fact is worked out once:
    # memo[line] is :func:`facts`, lex_memo[line] :func:`lex_facts`, hyde_memo[passage]
    # :func:`hyde_facts` and pair_memo[(kind, lines)] :func:`_pair_budget`.
    memo: Memo = field(init=False, compare=False, repr=False)
    lex_memo: Memo = field(init=False, compare=False, repr=False)
    hyde_memo: Memo = field(init=False, compare=False, repr=False)
    pair_memo: Memo = field(init=False, compare=False, repr=False)
    readings: dict[str, Reading] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, work in (
            ("memo", _facts),
            ("lex_memo", _lex_facts),
            ("hyde_memo", _hyde_facts),
            ("pair_memo", _pair_budget),
        ):
            object.__setattr__(self, name, Memo(work, self))

    def release(self) -> None:
        """Forget what was worked out about lines: for a query the scorer no longer keeps."""
        for memo in (self.memo, self.lex_memo, self.hyde_memo, self.pair_memo):
            memo.clear()
        self.readings.clear()


@lru_cache(maxsize=65536)
def quote(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


# --- shared line predicates -------------------------------------------------------------


def echoes(line: str, query: str, least: int | None = None) -> bool:
    """A line that is the query, or the query with a few characters added (original rule).

    ``least`` is :func:`_least_length` of the line, when the caller has it.
    """
    query = normalise(query)
    if least is None:
        least = _least_length(line)
    if not query or least >= len(query) + 10:
        return False  # no need to normalise a long line (a passage, usually)
    line = normalise(line)
    return line == query or (query in line and len(line) < len(query) + 10)


def near_echo(line: str, query: str, least: int | None = None) -> bool:
    """The query's words reshuffled (or barely respelled), with nothing new added."""
    asked = content_set(query)
    reshuffled = False  # some content word, and every one of them asked
    for word in words(line):
        if word not in STOPWORDS:
            reshuffled = word in asked
            if not reshuffled:
                break
    if reshuffled:
        return True
    if not query:
        return False
    query = normalise(query)
    # _similar's length test, on a lower bound of the normalised line's length
    if least is None:
        least = _least_length(line)
    if 200 * len(query) < 95 * (len(query) + least):
        return False
    return _similar(normalise(line), query, 95)


def _least_length(line: str) -> int:
    """No more than the length of ``normalise(line)``: its words are in it, whole."""
    total = 0
    for word in words(line):  # a plain loop: compiled (see setup.py), it beats sum(map(len))
        total += len(word)
    return total


def _similar(a: str, b: str, threshold: int) -> bool:
    """rapidfuzz's token-sort ratio reaches ``threshold``.

    The ratio is 2 * matches / (len(a) + len(b)) on the sorted tokens, which have the lengths
    of ``a`` and ``b``, so strings of very different lengths are ruled out without it.
    """
    if 200 * min(len(a), len(b)) < threshold * (len(a) + len(b)):
        return False
    return fuzz.token_sort_ratio(a, b) >= threshold


@lru_cache(maxsize=65536)
def near_duplicate(a: str, b: str, min_distance: int) -> bool:
    a, a_words = _compared(a)
    b, b_words = _compared(b)
    if a == b or a in b or b in a:
        return True
    if len(set(a_words).symmetric_difference(b_words)) < min_distance:
        return True
    return _similar(a, b, 90)


@lru_cache(maxsize=65536)
def _compared(line: str) -> tuple[str, tuple[str, ...]]:
    """What :func:`near_duplicate` compares of a line, kept per line: a line of a GRPO
    completion is compared with each other line of its type, in many completions. Words in
    a tuple, not a set: a tuple of strings drops out of the garbage collector's sight."""
    text = normalise(line)
    return text, tuple(text.split())


# What the rubric asks about a line against a query, as bit flags. Constants are marked Final:
# compiled (setup.py), they are read as constants, not looked up by name each time.
KEEPS_KEY: Final = 1  # mentions a key term (or the query has none)
KEEPS_DISCRIMINATING: Final = 2  # mentions a discriminating term (or the query has none)
NAMES_ENTITY: Final = 4
ECHO: Final = 8  # is the query, give or take a few characters
NEAR_ECHO: Final = 16  # is the query's words reshuffled or barely respelled
ANCHORED: Final = 32  # mentions a rare discriminating term (see :func:`anchoring_terms`)
GENERIC_PHRASE: Final = 64  # lex only: a generic phrase (see :func:`is_generic_lex`)
LACKS_KEY: Final = 128  # lex only: keeps none of the discriminating terms (see :data:`KEEPS_NONE`)
QUOTED: Final = 256  # lex only: has a quoted phrase
QUERY_WORDS_ONLY: Final = 512  # has no word but the query's key terms and stopwords
MEMO_SIZE = 4096

# (flags, mentioned terms). A plain tuple of atomic values on purpose: the garbage collector
# stops tracking those, and a GRPO run keeps hundreds of thousands of them in the memo.
LineFacts = tuple[int, tuple[str, ...]]
# What every dimension asks about a lex line, worked out once per (query, line): flags (those
# of :func:`facts` with GENERIC_PHRASE, LACKS_KEY and QUOTED), mentioned terms, problems and
# their deductions, and the diversity points the line costs with that deduction ('' if none).
LexFacts = tuple[int, tuple[str, ...], tuple[str, ...], tuple[str, ...], int, str]


class Memo(dict):
    """One of a query's memos: what ``work(key, query)`` gave for each key, worked out on
    first use. Read as ``memo[key]``: a hit is a dict lookup in C, with no Python call, and
    the rubric looks up the same (query, line) pairs many times per completion. A full memo
    is emptied before it takes a new key.

    A memo and its query refer to each other, so only the cyclic garbage collector frees
    them; :meth:`QueryInfo.release` empties the memos of a query the scorer lets go of, so
    their contents go at once. (A weak reference would avoid the cycle, but classes compiled
    by mypyc, see setup.py, cannot be weakly referenced.)"""

    __slots__ = ("query", "work")

    def __init__(self, work: Callable[[Any, QueryInfo], Any], query: QueryInfo) -> None:
        super().__init__()
        self.work = work
        self.query = query

    def __missing__(self, key: Hashable) -> Any:
        if len(self) >= MEMO_SIZE:
            self.clear()
        value = self[key] = self.work(key, self.query)
        return value


def facts(line: str, q: QueryInfo) -> LineFacts:
    """Flags and mentioned terms of ``line`` against ``q``, worked out once per pair."""
    return q.memo[line]


def _facts(line: str, q: QueryInfo) -> LineFacts:
    found = mentioned_terms(line, q.vocabulary, q.index)
    flags = 0
    if not q.key_terms or not found.isdisjoint(q.key_terms):
        flags |= KEEPS_KEY
    if not q.discriminating or not found.isdisjoint(q.discriminating):
        flags |= KEEPS_DISCRIMINATING
    if not found.isdisjoint(q.entities):
        flags |= NAMES_ENTITY
    if not found.isdisjoint(q.anchors):
        flags |= ANCHORED
    known = q.known
    if all(word in known for word in words(line)):  # compiled: a loop of set lookups
        flags |= QUERY_WORDS_ONLY
    least = _least_length(line)
    if echoes(line, q.text, least):
        flags |= ECHO
    elif near_echo(line, q.text, least):
        flags |= NEAR_ECHO
    return flags, tuple(filter(found.__contains__, q.vocabulary))


def flags(line: str, q: QueryInfo) -> int:
    return facts(line, q)[0]


def mentioned(line: str, q: QueryInfo) -> tuple[str, ...]:
    """The query's key terms and entities that ``line`` mentions."""
    return facts(line, q)[1]


def names_entity(line: str, q: QueryInfo) -> bool:
    return bool(facts(line, q)[0] & NAMES_ENTITY)


def anchoring_terms(discriminating: frozenset[str]) -> frozenset[str]:
    """The discriminating terms rare enough to anchor a line: a lex line without the entity
    can still be pinned to the topic by one ('jsonb gin index' for 'postgresql jsonb
    index'); 'racing team founders' is not."""
    return frozenset(t for t in discriminating if zipf(t) < 3.0)


def is_generic_lex(line: str) -> bool:
    """A generic phrase with at most a couple of characters of topic left over."""
    rest = normalise(line)
    if _GENERIC_LEX.search(rest) is None:  # one scan for the usual answer
        return False
    found = False
    for phrase in GENERIC_LEX_PHRASES:
        if phrase in rest:
            rest = rest.replace(phrase, " ", 1)
            found = True
    return found and len(rest.strip()) < 3


def natural_language(line: str) -> bool:
    if not line.isascii() and checks.script(line) in {"han", "japanese"}:
        return len(line.strip()) >= 6  # no spaces between words in these scripts
    return " " in line.strip() and len(line) > 15


def repetition_excess(text: str, ignore: frozenset[str] = frozenset()) -> int:
    """How far content words of a passage are used beyond twice.

    The query's own words are ignored: a passage about React may say React three times.
    """
    return sum(c - 2 for w, c in _frequent_words(text) if w not in ignore)


def _frequent_words(text: str) -> tuple[tuple[str, int], ...]:
    found = tuple(filterfalse(STOPWORDS.__contains__, words(text)))
    if len(found) - len(set(found)) < 2:  # no word said three times
        return ()
    counts = Counter(found)
    return tuple((w, c) for w, c in counts.items() if c >= 3 and len(w) > 2)


def new_fillers(line: str, q: QueryInfo) -> tuple[str, ...]:
    """Filler in a line that the user did not ask for."""
    found = checks.fillers_in(line)
    if not found:
        return found
    return tuple(f for f in found if f" {f} " not in q.asked_text)


KEEPS_NONE = "keeps none of the query's discriminating terms"


def lex_facts(line: str, q: QueryInfo) -> LexFacts:
    """:func:`facts` of a lex line with its :func:`lex_problems`, worked out once per pair."""
    return q.lex_memo[line]


def _lex_facts(line: str, q: QueryInfo) -> LexFacts:
    flags_, terms = facts(line, q)
    if is_generic_lex(line):
        flags_ |= GENERIC_PHRASE
    if '"' in line:
        flags_ |= QUOTED
    problems = tuple(_lex_problems(line, q, flags_))
    if KEEPS_NONE in problems:
        flags_ |= LACKS_KEY
    notes = tuple(f"Lex line {p}: {quote(line)}." for p in problems) if problems else ()
    echo, note = 0, ""
    if flags_ & ECHO:
        echo, note = 10, f"Lex line only repeats the query: {quote(line)}."
    elif flags_ & NEAR_ECHO:
        echo, note = 2, f"Lex line reshuffles the query's words: {quote(line)}."
    elif stuffed := checks.repeated_words(line, q.text):
        echo, note = 3, f"Lex line repeats words ({', '.join(stuffed)}): keyword stuffing."
    return flags_, terms, problems, notes, echo, note


def lex_problems(line: str, q: QueryInfo) -> tuple[str, ...]:
    """What makes a lex line a weak keyword query, as short phrases."""
    return lex_facts(line, q)[2]


def _lex_problems(line: str, q: QueryInfo, said: int | None = None) -> list[str]:
    """``said`` is :func:`flags` of the line, when the caller has it."""
    problems = []
    if checks.ends_on_function_word(line):
        problems.append("is cut off (ends on a function word)")
    if said is None:
        said = flags(line, q)
    if not said & (KEEPS_DISCRIMINATING | NAMES_ENTITY):
        problems.append(KEEPS_NONE)
    fillers = new_fillers(line, q)
    if fillers:
        problems.append(f"pads with filler ({', '.join(fillers)})")
    return problems


def key_coverage(lines: tuple[str, ...], q: QueryInfo) -> float:
    """Share of the query's key terms, weighted by rarity, that some line mentions."""
    return _coverage({t for line in lines for t in mentioned(line, q)}, q)


def _coverage(found: set[str], q: QueryInfo) -> float:
    if not q.total_weight:
        return 1.0
    return sum([w for t, w in q.weights if t in found]) / q.total_weight


# What each hyde problem does: boilerplate and off-topic passages pull vector search anywhere,
# so their shape earns nothing; a passage that is on topic but vague only loses its topic point.
BOILERPLATE, OFF_TOPIC, UNNAMED, VAGUE, TRUNCATED, GENERIC = (
    "opens with boilerplate",
    "is off topic (no entity and few key terms of the query)",
    "never names the query's entities",
    "misses most of the query's key terms",
    "stops mid-sentence",
    "says nothing specific (no number, name or uncommon word beyond the query's)",
)


# What score_hyde makes of one passage, worked out once per (query, passage): its problems,
# its points but for the 5 of being the only passage, deductions before and after the one
# about the number of passages, and (points off, cap) from :func:`hyde_penalty`.
HydeFacts = tuple[tuple[str, ...], float, tuple[str, ...], tuple[str, ...], float, float]


def hyde_facts(passage: str, q: QueryInfo) -> HydeFacts:
    return q.hyde_memo[passage]


def _hyde_facts(passage: str, q: QueryInfo) -> HydeFacts:
    problems = tuple(_hyde_problems(passage, q))
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
    excess = repetition_excess(passage, ignore=q.key_terms)
    points += max(0, 5 - 2 * excess)
    repeats = ("Hyde passage repeats the same words.",) if excess else ()
    off, cap = hyde_penalty(problems)
    return problems, points, tuple(notes), repeats, off, cap


def hyde_problems(passage: str, q: QueryInfo) -> tuple[str, ...]:
    return hyde_facts(passage, q)[0]


def _hyde_problems(passage: str, q: QueryInfo) -> list[str]:
    problems = []
    if checks.boilerplate_opening(passage):
        problems.append(BOILERPLATE)
    found = flags(passage, q)
    unnamed = bool(q.entities) and not found & NAMES_ENTITY
    vague = len(q.discriminating) >= 2 and key_coverage((passage,), q) < 0.5
    if not q.entities and not found & KEEPS_KEY:
        vague = unnamed = True
    if unnamed and vague:
        problems.append(OFF_TOPIC)
    elif unnamed:
        problems.append(UNNAMED)
    elif vague:
        problems.append(VAGUE)
    if checks.hyde_truncated(passage):
        problems.append(TRUNCATED)
    # A passage that talks about its subject ('many options', 'detailed information') and
    # states nothing specific could be written without knowing the answer: it gives vector
    # search nothing the query did not already say.
    if checks.talks_around(passage) and not checks.says_more_than(passage, q.language, q.asked):
        problems.append(GENERIC)
    return problems


def hyde_penalty(problems: tuple[str, ...]) -> tuple[float, float]:
    """(points off, cap) for a passage's problems, out of the 20 hyde points."""
    cap = 20.0
    off = 0.0
    for problem in problems:
        if problem == BOILERPLATE:
            cap = min(cap, 2.0)
        elif problem == OFF_TOPIC:
            cap = min(cap, 5.0)
        elif problem in (UNNAMED, VAGUE, GENERIC):
            off += 5
        elif problem == TRUNCATED:
            off += 3
    return off, cap


def drift_notes(exp: Expansion, q: QueryInfo) -> Deductions:
    if q.language in (None, "en"):
        return []  # checks.drifted never fires for these
    return [
        f"{line.type} line is not in the query's language: {quote(line.text)}."
        for line in exp.lines
        if line.text and checks.drifted(q.language, line.text)
    ]


def validity(exp: Expansion, kinds: tuple[str, ...]) -> Result:
    """Points off the 10 'no invalid line' points for lines QMD cannot use."""
    points = 10.0
    notes: Deductions = []
    if not exp.flawed:  # every line carries content: only the counts can cost points
        counts = {kind: len(exp.of_type(kind)) for kind in kinds}
        if max(counts.values()) <= MAX_PER_TYPE:
            return points, notes
    counts = dict.fromkeys(kinds, 0)
    for kind, text, _, issues in exp.lines:
        if text and kind in counts:
            counts[kind] += 1
        if not issues:
            continue
        if LineIssue.DEGENERATE in issues:
            points -= 5
            notes.append(f"Degenerate {kind} line: {quote(text)}.")
            continue
        for issue in issues:
            points -= 3
            notes.append(f"{kind.capitalize()} line {UNUSABLE[issue]}: {quote(text)}.")
    for kind, count in counts.items():
        extra = count - MAX_PER_TYPE
        if extra > 0:
            points -= 3 * extra
            notes.append(f"{extra + MAX_PER_TYPE} {kind} lines; at most {MAX_PER_TYPE} are used.")
    return max(0.0, points), notes


# A line with any of these is one QMD drops or cannot search with.
_UNSEARCHABLE = DROPPING_ISSUES | {LineIssue.DEGENERATE, LineIssue.ONLY_NEGATION}


def usable_types(exp: Expansion) -> set[str]:
    """The line types of which QMD keeps at least one line it can search with."""
    if not exp.flawed:
        return {kind for kind in ("lex", "vec", "hyde") if exp.of_type(kind)}
    return {kind for kind, text, _, flaws in exp.lines if text and _UNSEARCHABLE.isdisjoint(flaws)}


# --- dimensions: full expansions --------------------------------------------------------


def score_format(exp: Expansion, q: QueryInfo) -> Result:
    if not exp.flawed and max(len(exp.lex), len(exp.vec), len(exp.hyde)) <= MAX_PER_TYPE:
        # What validity and usable_types come to when every line is sound (most outputs).
        points, notes = 10.0, []
        for kind, lines in (("lex", exp.lex), ("vec", exp.vec)):
            if lines:
                points += 10
            else:
                notes.append(f"No {kind} line.")
        return points, notes
    points, notes = validity(exp, ("lex", "vec", "hyde"))
    kept = usable_types(exp)
    for kind in ("lex", "vec"):
        if kind in kept:
            points += 10
        elif exp.of_type(kind):
            notes.append(f"No {kind} line that QMD would use.")
        else:
            notes.append(f"No {kind} line.")
    return points, notes


def _pair_budget(key: tuple[str, tuple[str, ...]], q: QueryInfo) -> tuple[float, tuple]:
    """Diversity points of one line type's pairs: 5, less 2 for each near-duplicate pair.

    ``key`` is (type, lines); kept per query in ``q.pair_memo``: completions of one prompt
    often share all their lex lines.
    """
    kind, lines = key
    budget, notes = 5.0, []
    min_distance = 2 if kind == "lex" else 3
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            if near_duplicate(a, b, min_distance):
                budget -= 2
                notes.append(f"Two {kind} lines say nearly the same: {quote(a)} and {quote(b)}.")
    return max(0.0, budget), tuple(notes)


def score_diversity(exp: Expansion, q: QueryInfo) -> Result:
    lex, vec = exp.lex, exp.vec
    points, notes = 0.0, []
    if lex and vec:
        points += 10
    else:
        notes.append("Only one of lex and vec is present.")
    if len(lex) + len(vec) >= 2:
        points += 5
    for lines, kind in ((lex, "lex"), (vec, "vec")):
        if len(lines) < 2:  # no pair to compare
            points += 5.0
            continue
        budget, more = q.pair_memo[kind, lines]
        points += budget
        notes += more
    echo = 5.0
    for line in lex:
        off, note = q.lex_memo[line][4:]
        if off:
            echo -= off
            notes.append(note)
    for line in vec:
        if q.memo[line][0] & (ECHO | NEAR_ECHO):
            echo -= 3
            notes.append(f"Vec line only repeats the query: {quote(line)}.")
    points += max(-10.0, echo)
    return max(0.0, points), notes


def score_hyde(exp: Expansion, q: QueryInfo) -> Result:
    hydes = exp.hyde
    _, points, notes, repeats, off, cap = q.hyde_memo[hydes[0]]
    if len(hydes) == 1:
        points += 5
        found = [*notes, *repeats]
    else:
        found = [*notes, f"{len(hydes)} hyde lines; one passage is expected.", *repeats]
    return max(0.0, min(points - off, cap)), found


def score_quality(exp: Expansion, q: QueryInfo) -> Result:
    lex, vec = exp.lex, exp.vec
    points, notes = 5.0, []
    if lex and vec:
        if sum(map(len, lex)) / len(lex) <= sum(map(len, vec)) / len(vec):
            points += 5
        else:
            notes.append("Lex lines are longer than vec lines on average.")
    if vec:
        natural, restated = True, False
        for v in vec:
            if not natural_language(v):
                natural = False
                break
            restated = restated or bool(q.memo[v][0] & (ECHO | NEAR_ECHO))
        if not natural:
            points += 2
            notes.append("A vec line is not a natural-language phrase.")
        elif restated:
            points += 2
            notes.append("A vec line restates the query instead of rephrasing it.")
        else:
            points += 5
    if lex:
        on_key = 0
        covered: set[str] = set()
        lex_notes: list[str] = []
        said = 0
        for line in lex:
            flags_, terms, problems, problem_notes, _, _ = q.lex_memo[line]
            said |= flags_
            covered.update(terms)
            if not flags_ & LACKS_KEY:
                on_key += 1
            if problems:
                points -= 3 * len(problems)
                lex_notes += problem_notes
        if q.key_terms and _coverage(covered, q) < 0.5:
            points -= 3
            notes.append("Lex lines together leave out most of the query's key terms.")
        notes += lex_notes
        if on_key == len(lex):
            points += 5
        elif on_key:
            points += 2
        if len(q.key_terms) >= 2 and said & QUOTED:
            points += 3
    if q.language not in (None, "en"):
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
    named = pinned = generic = 0
    said: set[str] = set()
    for line in lex:
        flags_, terms = q.lex_memo[line][:2]
        said.update(terms)
        if flags_ & NAMES_ENTITY:
            named += 1
        elif flags_ & ANCHORED:
            pinned += 1
        if flags_ & GENERIC_PHRASE:
            generic += 1
    with_entity = named + pinned if named else 0
    if with_entity == len(lex):
        points += 15
    elif with_entity:
        points += 5
    else:
        points -= 30
        notes.append("No lex line names an entity of the query.")
    for line in vec:
        said.update(q.memo[line][1])
    for entity in q.entities:
        if entity not in said:
            points -= 20
            notes.append(f"Entity {entity!r} is missing from every lex and vec line.")
    if generic:
        points -= 15 * generic
        notes.append(f"{generic} lex line(s) are generic phrases.")
    if any(q.memo[line][0] & NAMES_ENTITY for line in vec):
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
        if flags(line, q) & ECHO:
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
        if not any(KEEPS_NONE in ps for ps in problems.values()):
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
        found = hyde_problems(passage, q)
        off, cap = hyde_penalty(found)
        if found:
            notes += [f"Hyde passage {p}." for p in found]
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
    return bool(flags(line, q) & (ECHO | QUERY_WORDS_ONLY))


def off_topic(exp: Expansion, q: QueryInfo) -> bool:
    """No line names an entity or keeps a key term: the output is about something else.

    Only judged for Latin-script queries, where key terms can be matched word for word.
    """
    if not q.key_terms or not q.latin:
        return False
    for _, text, _, _ in exp.lines:  # usually the first line settles it
        if text and q.memo[text][0] & (KEEPS_KEY | NAMES_ENTITY):
            return False
    return True


def lex_echo_count(exp: Expansion, q: QueryInfo) -> int:
    count = 0
    for line in exp.lex:
        if q.memo[line][0] & ECHO:
            count += 1
    return count


def hard_failure(exp: Expansion, q: QueryInfo) -> str | None:
    """A reason to give zero regardless of everything else, or None."""
    if exp.template_leak:
        return "Chat-template tokens leaked into the output."
    if exp.invalid:
        return f"Line without a lex:/vec:/hyde: prefix: {quote(exp.invalid[0])}."
    if not (exp.lex or exp.vec or exp.hyde or any(line.text for line in exp.lines)):
        return "No expansion lines."
    if q.only and not exp.of_type(q.only):
        return f"The query asked /only:{q.only} but there is no usable {q.only} line."
    return None
