"""Directional checks for an expansion judge: damage a good expansion, the score must drop.

A judge that QMD can trust has to rank a good expansion above the same expansion with one thing
broken. Each :class:`Operator` here breaks exactly one thing that any search engineer would call
worse for QMD retrieval (a truncated hyde, lex lines reduced to filler, vec lines borrowed from
another query...). :func:`directional_accuracy` runs a scoring function over many cases and
reports, per operator, the share of cases where the damaged text scores strictly lower.

:data:`TEMPLATES` are query-independent expansions (the query pasted into fixed frames) of the
kind a policy learns when it games a shallow judge; :func:`template_attack` reports how they
fare against curated expansions.

Standard library only: lines are parsed here (one ``type: text`` line per ``\\n``, type in
lex/vec/hyde), so this module does not depend on the judge it tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

LINE_TYPES = ("lex", "vec", "hyde")
_LINE = re.compile(r"^\s*(lex|vec|hyde):\s*(.*?)\s*$")
_ONLY = re.compile(r"\s+/only:(lex|vec|hyde)\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*")
_TOKEN = re.compile(r"[^\W_]+")

STOPWORDS = frozenset(
    """
    a an the and or but of to in on at for from by with without about into onto over under
    is are was were be been being am do does did doing have has had can could should would will
    shall may might must i me my we our you your he she it its they them their this that these
    those what which who whom whose when where why how there here not no nor so than then too
    very just also as if up out all any some each both few more most other such only own same
    s t vs via get use using way ways
    der die das und oder ein eine einen ist sind mit von zu im in fuer für wie was
    le la les un une des et ou du de en pour avec est comment
    el los las y o del por para con es como que una uno
    """.split()
)

FILLER_LEADS = ("guide to", "overview of", "basics of", "introduction to", "learn about")
INVENTED_WORDS = ("zorblax", "quintrelle", "vexiform", "plomberatic", "grindlewax", "snorvelt")
PLACEHOLDER_HYDE = (
    "This is a sample passage that answers the question with all of the relevant "
    "information and useful details."
)
THINK_BLOCK = (
    "<think>\nThe user wants search expansions for this query. Let me write them.\n</think>"
)
CHATTY_PREAMBLE = "Sure, here are some search expansions:"
META_VEC = (
    "the user is asking about {q}",
    "the user wants to know about {q}",
    "the user is searching for information on {q}",
)


# -- parsing helpers -----------------------------------------------------------------------


def parse_lines(text: str) -> list[tuple[str, str]]:
    """The ``(type, text)`` pairs of an expansion; lines of any other shape are left out.

    >>> parse_lines("lex: ssh key\\nvec: how do I use an ssh key\\nnoise")
    [('lex', 'ssh key'), ('vec', 'how do I use an ssh key')]
    """
    out = []
    for raw in text.split("\n"):
        m = _LINE.match(raw)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def render(lines: Iterable[tuple[str, str]]) -> str:
    """Write ``(type, text)`` pairs back as an expansion.

    >>> render([("lex", "ssh key"), ("hyde", "Run ssh-keygen.")])
    'lex: ssh key\\nhyde: Run ssh-keygen.'
    """
    return "\n".join(f"{kind}: {content}" for kind, content in lines)


def is_only_mode(query: str) -> bool:
    """True for a query ending in ``/only:lex``, ``/only:vec`` or ``/only:hyde``.

    >>> is_only_mode("rust borrow checker /only:lex"), is_only_mode("rust borrow checker")
    (True, False)
    """
    return bool(_ONLY.search(query))


def words(text: str) -> list[str]:
    """The lowercased words of a text, keeping inner hyphens, dots and apostrophes.

    >>> words("Node 20: gpt-4 & Priya's v3.12!")
    ['node', '20', 'gpt-4', "priya's", 'v3.12']
    """
    return [w.lower() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """The words of a text minus stopwords, first occurrences only, in order.

    >>> content_words("How do I feed a sourdough starter, and how often do I feed it?")
    ['feed', 'sourdough', 'starter', 'often']
    """
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS:
            seen.setdefault(w, None)
    return list(seen)


def query_terms(query: str) -> list[str]:
    """The query's content words (its own words when all are stopwords).

    >>> query_terms("how to rotate a TLS certificate")
    ['rotate', 'tls', 'certificate']
    """
    return content_words(query) or words(query)


def cut_at_word(text: str, fraction: float = 0.5) -> str:
    """Cut a text at the word boundary nearest ``fraction`` of its length, with no closing
    punctuation left.

    >>> cut_at_word("Feed a sourdough starter once or twice a day at a 1:1:1 ratio.")
    'Feed a sourdough starter once or'
    """
    target = int(len(text) * fraction)
    spaces = [i for i, ch in enumerate(text) if ch == " " and 0 < i < len(text) - 1]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: (abs(i - target), i))
    return text[:cut].rstrip(" ,;:.!?-")


def cut_mid_word(text: str) -> str | None:
    """Cut a text inside the word nearest its middle (five letters or more, else four),
    leaving that word half written; None when the text has no such word.

    >>> cut_mid_word("Feed a sourdough starter once or twice a day at a 1:1:1 ratio.")
    'Feed a sourdough starter once or tw'
    >>> cut_mid_word("Met with Priya to review the Q3 budget: travel spend is over plan.")
    'Met with Priya to review the Q3 bud'
    >>> cut_mid_word("Go to it.") is None
    True
    """
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\W\d_]{5,}", text)] or [
        (m.start(), m.end()) for m in re.finditer(r"[^\W\d_]{4,}", text)
    ]
    if not spans:
        return None
    middle = len(text) / 2
    start, end = min(spans, key=lambda s: (abs((s[0] + s[1]) / 2 - middle), s[0]))
    return text[: start + max(2, (end - start) // 2)]


# -- cases and operators -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One good expansion to damage.

    ``other`` is an expansion of an unrelated query, for operators that need foreign text;
    ``seed`` makes the operators' choices (which word, which filler) vary across cases while
    staying deterministic.
    """

    query: str
    expansion: str
    other: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class Operator:
    """A named damage: ``damage(case)`` is the damaged expansion, or None where it does not
    apply (no hyde to cut, an ``/only:`` query...)."""

    name: str
    description: str
    damage: Callable[[Case], str | None]


def _full_mode(case: Case) -> list[tuple[str, str]] | None:
    """The case's lines, or None for an ``/only:`` query or an expansion with no valid line."""
    if is_only_mode(case.query):
        return None
    return parse_lines(case.expansion) or None


def _of(lines: list[tuple[str, str]], kind: str) -> list[str]:
    return [t for k, t in lines if k == kind]


def _replace(
    lines: list[tuple[str, str]], kind: str, new: Callable[[int, str], str | None]
) -> str | None:
    """Rewrite every line of one type with ``new(index_within_type, text)``; None (apply
    nowhere) when there is no such line or nothing changes. ``new`` returning None drops it."""
    out: list[tuple[str, str]] = []
    seen = 0
    for k, t in lines:
        if k == kind:
            replaced = new(seen, t)
            seen += 1
            if replaced is not None:
                out.append((k, replaced))
        else:
            out.append((k, t))
    if not seen or out == lines:
        return None
    return render(out)


def _pick(case: Case, options: list[str] | tuple[str, ...], offset: int = 0) -> str:
    return options[(case.seed + offset) % len(options)]


def _base_query(case: Case) -> str:
    return case.query.strip()


# Hyde ---------------------------------------------------------------------------------------


def drop_hyde(case: Case) -> str | None:
    """Without the hyde QMD loses its answer-shaped vector query, the one that best matches
    passages."""
    lines = _full_mode(case)
    if lines is None or not _of(lines, "hyde"):
        return None
    return render([(k, t) for k, t in lines if k != "hyde"])


def hyde_query_thrice(case: Case) -> str | None:
    """A hyde that repeats the query three times adds no answer vocabulary, only an echo."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    return _replace(lines, "hyde", lambda _i, _t: f"{q} {q} {q}")


def hyde_cut_mid_sentence(case: Case) -> str | None:
    """A hyde cut off mid-sentence loses half of its facts and reads as a broken generation."""
    lines = _full_mode(case)
    if lines is None:
        return None

    def cut(_i: int, text: str) -> str | None:
        if len(text.split()) < 6:
            return text
        return cut_at_word(text, 0.5)

    return _replace(lines, "hyde", cut)


def hyde_cut_mid_word(case: Case) -> str | None:
    """A hyde that stops inside a word is a truncated generation with a garbage last token."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(lines, "hyde", lambda _i, t: cut_mid_word(t) or t)


def hyde_is_query(case: Case) -> str | None:
    """A hyde that is just the query duplicates the raw-query vector search QMD already runs."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    return _replace(lines, "hyde", lambda _i, _t: q)


def hyde_questions(case: Case) -> str | None:
    """A hyde made of questions about the query embeds like a question, not like an answer
    passage, which is the whole point of a hyde."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    text = f"What is {q}? How does {q} work? Why does {q} matter?"
    return _replace(lines, "hyde", lambda _i, _t: text)


def hyde_keywords(case: Case) -> str | None:
    """A hyde reduced to a bare keyword list is no longer a passage-shaped vector query."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(lines, "hyde", lambda _i, t: " ".join(content_words(t)))


def hyde_placeholder(case: Case) -> str | None:
    """A placeholder passage that fits any query says nothing about this one."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(lines, "hyde", lambda _i, _t: PLACEHOLDER_HYDE)


def hyde_generic_mention(case: Case) -> str | None:
    """A generic passage that merely mentions the query carries none of the answer's facts."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    text = f"This note covers {q} in detail and explains everything you need to know about it."
    return _replace(lines, "hyde", lambda _i, _t: text)


def hyde_babble(case: Case) -> str | None:
    """A hyde stuttered into babble ("sourururur") is degenerate text that matches nothing."""
    lines = _full_mode(case)
    if lines is None:
        return None

    def stutter(word: str) -> str:
        if len(word) < 3:
            return word
        return word[:3] + word[1:3] * 3

    return _replace(lines, "hyde", lambda _i, t: " ".join(stutter(w) for w in t.split()))


def hyde_looped(case: Case) -> str | None:
    """A hyde that repeats itself three times in one line is a looping generation, far past
    the 200-character budget."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(lines, "hyde", lambda _i, t: f"{t} {t} {t}")


def hyde_from_other(case: Case) -> str | None:
    """A hyde about an unrelated query pulls vector search toward the wrong documents."""
    lines = _full_mode(case)
    if lines is None or case.other is None:
        return None
    foreign = _of(parse_lines(case.other), "hyde")
    if not foreign:
        return None
    return _replace(lines, "hyde", lambda _i, _t: foreign[0])


def hyde_query_terms_removed(case: Case) -> str | None:
    """A hyde with every query word replaced by "it" never names its subject, so the vector
    search loses what the passage is about (and QMD may drop it for lacking a query term)."""
    lines = _full_mode(case)
    if lines is None:
        return None
    terms = set(query_terms(case.query)) | set(words(case.query))
    hyde = _of(lines, "hyde")
    if not hyde or not terms & {t.lower() for t in _TOKEN.findall(hyde[0])}:
        return None
    return _replace(
        lines,
        "hyde",
        lambda _i, t: _TOKEN.sub(lambda m: "it" if m.group(0).lower() in terms else m.group(0), t),
    )


# Lex ----------------------------------------------------------------------------------------


def lex_filler_lead(case: Case) -> str | None:
    """Lex lines reduced to a filler lead plus one query word ("guide to X") lose the
    discriminating terms and match any page with that one word."""
    lines = _full_mode(case)
    if lines is None:
        return None
    terms = query_terms(case.query)
    return _replace(
        lines,
        "lex",
        lambda i, _t: f"{_pick(case, FILLER_LEADS, i)} {_pick(case, terms, i)}",
    )


def lex_stuffed(case: Case) -> str | None:
    """Lex lines stuffed with the query's words repeated are keyword spam: longer ANDs,
    no new vocabulary."""
    lines = _full_mode(case)
    if lines is None:
        return None
    stuffing = " ".join(query_terms(case.query) * 3)
    return _replace(lines, "lex", lambda _i, t: f"{t} {stuffing}")


def lex_is_query(case: Case) -> str | None:
    """Lex lines that are the query itself repeat the raw-query BM25 search QMD already runs."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    return _replace(lines, "lex", lambda _i, _t: q)


def lex_invented_and_year(case: Case) -> str | None:
    """An invented word and a year ANDed into every lex line make it match nothing."""
    lines = _full_mode(case)
    if lines is None:
        return None
    word = _pick(case, INVENTED_WORDS)
    year = 1990 + case.seed % 30
    return _replace(lines, "lex", lambda _i, t: f"{t} {word} {year}")


def lex_search_syntax(case: Case) -> str | None:
    """Web search syntax (``OR``, ``site:``) is not FTS5 syntax: the operators become bogus
    terms and the line matches nothing useful."""
    lines = _full_mode(case)
    if lines is None:
        return None

    def web(_i: int, text: str) -> str:
        parts = text.split()
        return " OR ".join(parts) + " site:example.com"

    return _replace(lines, "lex", web)


def lex_negates_query_word(case: Case) -> str | None:
    """A lex line that negates one of the query's own words (``-word``) excludes exactly the
    documents the user is looking for."""
    lines = _full_mode(case)
    if lines is None:
        return None
    terms = [t for t in query_terms(case.query) if re.fullmatch(r"\w+", t)]
    if not terms:
        return None
    word = _pick(case, terms)
    return _replace(lines, "lex", lambda i, t: f"{t} -{word}" if i == 0 else t)


def lex_as_questions(case: Case) -> str | None:
    """Lex lines rewritten as long natural-language questions AND a dozen words together in
    BM25 and match almost nothing."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(
        lines,
        "lex",
        lambda _i, t: (
            f"what is the best way to find out everything about {t} "
            "and how does it work in practice"
        ),
    )


def lex_unclosed_quote(case: Case) -> str | None:
    """An unclosed quote turns the rest of a lex line into one exact phrase that rarely
    occurs verbatim."""
    lines = _full_mode(case)
    if lines is None:
        return None
    lex = _of(lines, "lex")
    target = next(
        (i for i, t in enumerate(lex) if '"' not in t and len(t.split()) >= 3),
        None,
    )
    if target is None:
        return None
    return _replace(lines, "lex", lambda i, t: f'"{t}' if i == target else t)


def lex_merged_overlong(case: Case) -> str | None:
    """All lex and vec key terms ANDed in one overlong lex line match no document."""
    lines = _full_mode(case)
    if lines is None:
        return None
    merged = content_words(" ".join(_of(lines, "lex") + _of(lines, "vec")))
    if len(merged) < 8 or not _of(lines, "lex"):
        return None
    out: list[tuple[str, str]] = []
    for k, t in lines:
        if k != "lex":
            out.append((k, t))
        elif not any(k2 == "lex" for k2, _ in out):
            out.append(("lex", " ".join(merged)))
    return render(out)


def lex_query_terms_removed(case: Case) -> str | None:
    """Lex lines stripped of every query word keep only side terms; QMD drops lines with no
    query term, so the lex searches are lost."""
    lines = _full_mode(case)
    if lines is None:
        return None
    terms = set(query_terms(case.query)) | set(words(case.query))

    def strip(_i: int, text: str) -> str | None:
        kept = [w for w in text.replace('"', "").split() if w.lower().strip(".,") not in terms]
        return " ".join(kept) if kept else None

    if not any(terms & set(words(t)) for t in _of(lines, "lex")):
        return None
    return _replace(lines, "lex", strip)


def lex_from_other(case: Case) -> str | None:
    """Lex lines borrowed from an unrelated query search for the wrong thing (and QMD drops
    them for lacking a query term)."""
    lines = _full_mode(case)
    if lines is None or case.other is None:
        return None
    foreign = _of(parse_lines(case.other), "lex")
    if not foreign:
        return None
    return _replace(lines, "lex", lambda i, _t: foreign[i % len(foreign)])


def drop_lex(case: Case) -> str | None:
    """Without lex lines QMD runs no keyword search beyond the raw query, losing exact-term
    recall."""
    lines = _full_mode(case)
    if lines is None or not _of(lines, "lex"):
        return None
    return render([(k, t) for k, t in lines if k != "lex"])


# Vec ----------------------------------------------------------------------------------------


def vec_from_other(case: Case) -> str | None:
    """Vec lines of an unrelated query embed the wrong topic (and QMD drops them for lacking
    a query term)."""
    lines = _full_mode(case)
    if lines is None or case.other is None:
        return None
    foreign = _of(parse_lines(case.other), "vec")
    if not foreign:
        return None
    return _replace(lines, "vec", lambda i, _t: foreign[i % len(foreign)])


def vec_is_query(case: Case) -> str | None:
    """Vec lines that are the query repeat the raw-query vector search QMD already runs."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    return _replace(lines, "vec", lambda _i, _t: q)


def vec_keywords(case: Case) -> str | None:
    """Vec lines turned into keyword lists lose the natural-language phrasing the embedding
    model matches best."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return _replace(lines, "vec", lambda _i, t: " ".join(content_words(t)))


def vec_copies_hyde(case: Case) -> str | None:
    """A vec line replaced by a copy of the hyde runs the same vector search twice and loses
    a rephrasing."""
    lines = _full_mode(case)
    if lines is None:
        return None
    hyde = _of(lines, "hyde")
    if not hyde:
        return None
    return _replace(lines, "vec", lambda i, t: hyde[0] if i == 0 else t)


def vec_meta(case: Case) -> str | None:
    """Vec lines of meta talk ("the user is asking about X") embed the framing, not the
    content."""
    lines = _full_mode(case)
    if lines is None:
        return None
    q = _base_query(case)
    return _replace(lines, "vec", lambda i, _t: META_VEC[i % len(META_VEC)].format(q=q))


def vec_truncated(case: Case) -> str | None:
    """Vec lines cut to their first few words ("how do I") are fragments with little
    meaning left."""
    lines = _full_mode(case)
    if lines is None:
        return None

    def cut(_i: int, text: str) -> str:
        parts = text.split()
        if len(parts) < 6:
            return text
        return " ".join(parts[: max(2, len(parts) // 3)])

    return _replace(lines, "vec", cut)


def drop_vec(case: Case) -> str | None:
    """Without vec lines QMD has no natural-language rephrasing to embed."""
    lines = _full_mode(case)
    if lines is None or not _of(lines, "vec"):
        return None
    return render([(k, t) for k, t in lines if k != "vec"])


# Whole expansion ----------------------------------------------------------------------------


def lines_identical(case: Case) -> str | None:
    """Identical lex lines and identical vec lines repeat one search and lose every
    alternative."""
    lines = _full_mode(case)
    if lines is None:
        return None
    lex, vec = _of(lines, "lex"), _of(lines, "vec")
    if len(set(lex)) < 2 and len(set(vec)) < 2:
        return None
    first = {"lex": lex[0] if lex else "", "vec": vec[0] if vec else ""}
    return render([(k, first.get(k, t)) for k, t in lines])


def expansion_twice(case: Case) -> str | None:
    """The whole expansion written twice is a looping generation: every search runs twice,
    over the line budget."""
    lines = _full_mode(case)
    if lines is None:
        return None
    text = render(lines)
    return f"{text}\n{text}"


def lex_vec_swapped(case: Case) -> str | None:
    """Keywords sent to the embedder and sentences ANDed in BM25: each line goes to the
    engine it suits worst."""
    lines = _full_mode(case)
    if lines is None or not _of(lines, "lex") or not _of(lines, "vec"):
        return None
    swap = {"lex": "vec", "vec": "lex"}
    return render([(swap.get(k, k), t) for k, t in lines])


def think_block(case: Case) -> str | None:
    """A ``<think>`` block under ``/no_think`` is a defect: extra tokens, and lines QMD
    cannot parse."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return f"{THINK_BLOCK}\n{render(lines)}"


def chatty_preamble(case: Case) -> str | None:
    """A chatty unprefixed preamble line is not a typed line; the grammar forbids it."""
    lines = _full_mode(case)
    if lines is None:
        return None
    return f"{CHATTY_PREAMBLE}\n{render(lines)}"


def chat_tokens_mid_output(case: Case) -> str | None:
    """Chat-template tokens in the middle of the output (a turn closed and a new one opened)
    are a broken generation: nothing after ``<|im_end|>`` belongs to the answer."""
    lines = _full_mode(case)
    if lines is None or len(lines) < 2:
        return None
    half = len(lines) // 2
    return f"{render(lines[:half])}\n<|im_end|>\n<|im_start|>assistant\n{render(lines[half:])}"


def _op(fn: Callable[[Case], str | None]) -> Operator:
    doc = " ".join((fn.__doc__ or "").split())
    return Operator(name=fn.__name__, description=doc, damage=fn)


OPERATORS: tuple[Operator, ...] = tuple(
    _op(fn)
    for fn in (
        drop_hyde,
        hyde_query_thrice,
        hyde_cut_mid_sentence,
        hyde_cut_mid_word,
        hyde_is_query,
        hyde_questions,
        hyde_keywords,
        hyde_placeholder,
        hyde_generic_mention,
        hyde_babble,
        hyde_looped,
        hyde_from_other,
        hyde_query_terms_removed,
        lex_filler_lead,
        lex_stuffed,
        lex_is_query,
        lex_invented_and_year,
        lex_search_syntax,
        lex_negates_query_word,
        lex_as_questions,
        lex_unclosed_quote,
        lex_merged_overlong,
        lex_query_terms_removed,
        lex_from_other,
        drop_lex,
        vec_from_other,
        vec_is_query,
        vec_keywords,
        vec_copies_hyde,
        vec_meta,
        vec_truncated,
        drop_vec,
        lines_identical,
        expansion_twice,
        lex_vec_swapped,
        think_block,
        chatty_preamble,
        chat_tokens_mid_output,
    )
)


# -- templates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A query-independent expansion: ``expand(query)`` pastes the query into fixed frames."""

    name: str
    expand: Callable[[str], str]


def _padded(q: str) -> str:
    return render(
        [
            ("lex", f"{q} guide"),
            ("lex", f"{q} tips and tricks"),
            ("vec", f"a generic question about {q}"),
            ("hyde", f"This is a generic passage that mentions {q} and related topics."),
        ]
    )


def _careful(q: str) -> str:
    return render(
        [
            ("lex", f'"{q}"'),
            ("lex", f"{q} documentation reference"),
            ("lex", f"{q} examples best practices"),
            ("vec", f"how does {q} work and what should I know about it"),
            ("vec", f"what are common problems and solutions related to {q}"),
            (
                "hyde",
                f"{q.capitalize()} is an important topic; this passage explains what it means, "
                "how it is used and why it matters.",
            ),
        ]
    )


def _echo(q: str) -> str:
    return render([("lex", q), ("vec", q), ("hyde", f"{q}.")])


def _filler(q: str) -> str:
    return render(
        [
            ("lex", f"{q} overview basics"),
            ("lex", f"introduction to {q} tutorial"),
            ("vec", f"learn everything about {q} step by step"),
            ("vec", f"complete beginner guide explaining {q} in simple terms"),
            ("hyde", f"Here is a comprehensive overview of {q} covering the basics and more."),
        ]
    )


def _encyclopedic(q: str) -> str:
    return render(
        [
            ("lex", f"{q} facts"),
            ("lex", f"{q} history background"),
            ("vec", f"what is known about {q} and why is it relevant"),
            (
                "hyde",
                f"According to experts, {q} is widely discussed and has many aspects that "
                "are worth considering in detail.",
            ),
        ]
    )


def _faq(q: str) -> str:
    return render(
        [
            ("lex", f"{q} faq"),
            ("vec", f"frequently asked questions about {q}"),
            ("vec", f"what do people usually want to know about {q}"),
            ("hyde", f"The most common questions about {q} are answered below with examples."),
        ]
    )


def _notes(q: str) -> str:
    return render(
        [
            ("lex", f"notes {q}"),
            ("lex", f"{q} summary 2024"),
            ("vec", f"my notes about {q} and the next steps"),
            (
                "hyde",
                f"In my notes from last week I wrote down the key points about {q} and the "
                "follow-up tasks.",
            ),
        ]
    )


def _words_split(q: str) -> str:
    parts = q.split()
    head = " ".join(parts[: max(1, len(parts) // 2)])
    tail = " ".join(parts[max(1, len(parts) // 2) :]) or head
    return render(
        [
            ("lex", f"{head} details"),
            ("lex", f"{tail} information"),
            ("vec", f"how to understand {head} and {tail} better"),
            ("hyde", f"{head.capitalize()} relates to {tail} in several important ways."),
        ]
    )


TEMPLATES: tuple[Template, ...] = (
    Template("padded_frames", _padded),
    Template("careful_looking", _careful),
    Template("echo_everywhere", _echo),
    Template("filler_overview", _filler),
    Template("encyclopedic", _encyclopedic),
    Template("faq_style", _faq),
    Template("personal_notes", _notes),
    Template("split_query", _words_split),
)


# -- running -------------------------------------------------------------------------------

Score = Callable[[str, str], float]


@dataclass(frozen=True)
class Failure:
    """A case where the damaged text did not score strictly lower."""

    query: str
    original: float
    damaged: float


@dataclass(frozen=True)
class OperatorResult:
    """How often one operator's damage lowered the score."""

    name: str
    applicable: int
    lower: int
    failures: tuple[Failure, ...] = field(default=())

    @property
    def share(self) -> float:
        """Share of applicable cases scored strictly lower (1.0 when none applied).

        >>> OperatorResult("x", applicable=4, lower=3).share
        0.75
        """
        return self.lower / self.applicable if self.applicable else 1.0


@dataclass(frozen=True)
class TemplateResult:
    """A template's mean score and how often it lost to the curated expansion."""

    name: str
    count: int
    mean: float
    below: int

    @property
    def share_below(self) -> float:
        """Share of queries where the template scored strictly below the curated expansion."""
        return self.below / self.count if self.count else 1.0


def directional_accuracy(
    score: Score,
    cases: Iterable[Case],
    operators: Iterable[Operator] = OPERATORS,
    max_failures: int = 5,
) -> dict[str, OperatorResult]:
    """Per operator: applicable cases, how many scored strictly lower once damaged, and up
    to ``max_failures`` example failures."""
    cases = list(cases)
    operators = list(operators)
    originals: dict[tuple[str, str], float] = {}
    results: dict[str, OperatorResult] = {}
    for op in operators:
        applicable = lower = 0
        failures: list[Failure] = []
        for case in cases:
            damaged = op.damage(case)
            if damaged is None:
                continue
            key = (case.query, case.expansion)
            if key not in originals:
                originals[key] = score(case.query, case.expansion)
            before = originals[key]
            after = score(case.query, damaged)
            applicable += 1
            if after < before:
                lower += 1
            elif len(failures) < max_failures:
                failures.append(Failure(case.query, before, after))
        results[op.name] = OperatorResult(op.name, applicable, lower, tuple(failures))
    return results


def template_attack(
    score: Score,
    pairs: Iterable[tuple[str, str]],
    templates: Iterable[Template] = TEMPLATES,
) -> dict[str, TemplateResult]:
    """Per template, over ``(query, curated expansion)`` pairs (``/only:`` queries skipped):
    its mean score and how often it scored strictly below the curated expansion."""
    pairs = [(q, e) for q, e in pairs if not is_only_mode(q)]
    curated = [score(q, e) for q, e in pairs]
    results: dict[str, TemplateResult] = {}
    for template in templates:
        scores = [score(q, template.expand(q)) for q, _ in pairs]
        below = sum(s < c for s, c in zip(scores, curated))
        mean = sum(scores) / len(scores) if scores else 0.0
        results[template.name] = TemplateResult(template.name, len(pairs), mean, below)
    return results
