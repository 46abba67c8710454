"""The facts of one line against one query: measured once, judged by :mod:`qmd_reward.rules`.

A line earns by what it adds to the query for QMD, so the central fact is the line's
*residue*: its content words once the query's own words (stem-aware), function words and
the query's entities under their aliases are taken away. What the residue's words say
(:mod:`qmd_reward.wordclass`) is what the line adds. The rest are the ways QMD would lose the
line (dropped by its query-term filter, unmatched by FTS5) and the ways a text fails to be
what its type asks for (a hyde that does not end its sentence, a vec that is a keyword list).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from . import textchecks
from .entities import line_form, mentions
from .ftsquery import parse_lex_line
from .language import UNSEGMENTED, char_pairs, char_script, drifted, script
from .parse import has_query_term
from .query import QueryInfo
from .text import normalise, words
from .wordclass import Word, WordClass, read_word

_NEGATED = re.compile(r'(?:^|\s)-(?:"[^"]*"?|\S+)')
_INTERROGATIVES = frozenset(
    "how what why when where which who whom can could does do is are should".split()
)


class LineFacts(NamedTuple):
    """What one line is and does, against one query."""

    kind: str
    text: str
    kept: bool  # QMD keeps it: it contains one of the query's terms
    babble: str | None  # why it is machine babble, else None
    drift: bool  # English although the query is in another language
    terms: tuple[str, ...]  # the query's key terms it mentions
    near: bool  # some word of it begins with a key term ('swapfile' for 'swap')
    mentions: int  # how many of its words are the query's key terms
    entities: tuple[str, ...]  # the query's entities it names
    versions: tuple[str, ...]  # the versioned entities whose version it keeps
    anchored: bool  # names an entity or a rare query term, or a term and a technical token
    specific: tuple[str, ...]  # residue words that pin a subject
    common: tuple[str, ...]  # plain residue words
    common_weight: float  # what they say together (wordclass.plain_weight of each)
    unknown: tuple[str, ...]  # residue words no dictionary has
    numbers: tuple[str, ...]  # residue numbers
    generic: tuple[str, ...]  # residue words that say nothing ('details', 'notes')
    aliases: int  # entities named only under another spelling than the query's
    repeats: int  # content-word uses past the second (past the third for query words)
    length: int
    words: int  # how many words it has
    # lex: how FTS5 reads it
    and_terms: int  # required terms and phrases
    phrase: bool  # a quoted phrase of two or more words, in the query's order or new
    relaxes: float  # widens the raw query's search (requires fewer of its terms), in [0, 1]
    reordered: tuple[str, ...]  # quoted phrases of the query's words in another order
    negated: tuple[str, ...]  # negated terms that are the query's own
    no_positive: bool  # only negations: FTS5 matches nothing
    unbalanced: bool  # an odd number of quotes: the last phrase runs to the line's end
    syntax: tuple[str, ...]  # web-search syntax read as words
    chains: tuple[str, ...]  # hyphen chains that become one exact phrase
    stuffed: tuple[str, ...]  # terms said more often than the query says them
    fillers: tuple[str, ...]  # filler leads the query did not ask for
    question: bool  # written as a question
    # vec and hyde: how it reads
    natural: bool  # reads as a sentence, not a list
    restates: bool  # the query again, give or take a few characters
    meta: tuple[str, ...]  # talks about the user, the query or the search
    truncation: str | None  # how a hyde stops mid-sentence
    boilerplate: str | None  # a template opener
    keyword_list: bool  # five or more words with no function word between them
    skeleton: str | None  # its words with the query's masked ('* * notes and examples')


def line_facts(q: QueryInfo, kind: str, text: str) -> LineFacts:
    """Measure one line against an analysed query.

    >>> from qmd_reward.query import analyse
    >>> q = analyse("postgres connection pool exhausted", ("postgres",))
    >>> f = line_facts(q, "lex", "postgresql max_connections pgbouncer")
    >>> f.kept, sorted(f.entities), f.specific, f.aliases
    (True, ['postgres'], ('max_connections',), 1)
    """
    # What a lex line excludes ('-validation') is the opposite of mentioning it.
    form = line_form(_NEGATED.sub(" ", text) if kind == "lex" and "-" in text else text)
    said = {t.word for t in q.terms if mentions(form, t.target)}
    # A word that begins with a key term is about it ('swapfile' for 'swap'): on topic, even
    # if FTS5 does not match the one for the other.
    beginnings = tuple(w.word for w in q.terms if len(w.word) >= 4)
    loose = any(t.startswith(beginnings) for t in form.tokens)
    for joined, held in q.compounds.items():
        if joined in form.stems:
            said.update(held)  # 'haircut' says 'hair' and 'cut'
    terms = tuple(t.word for t in q.terms if t.word in said)
    entities = tuple(e.name for e in q.entities if mentions(form, e.target))
    versions = tuple(
        e.name for e in q.entities if e.version is not None and mentions(form, e.version)
    )
    residue, aliases, skeleton = _residue(q, text)
    truncation = textchecks.truncation(text, q.code) if kind == "hyde" else None
    if truncation == textchecks.CUT_MID_WORD and residue:
        residue = residue[:-1]  # the stump of a word says nothing
    classes: dict[WordClass, list[str]] = {
        WordClass.GENERIC: [],
        WordClass.NUMBER: [],
        WordClass.SPECIFIC: [],
        WordClass.UNKNOWN: [],
        WordClass.COMMON: [],
    }
    for word in residue:
        classes[word.kind].append(word.text)
    # On topic: it names what makes the query specific, or, for a query without entities,
    # keeps a query term and adds a technical token of its own ('"authorized_keys"
    # permissions' for 'ssh key authentication'). A query's entity cannot be stood in for.
    anchored = bool(
        entities
        or any(t.word in terms for t in q.discriminating)
        or (terms and not q.entities and _technical(residue))
        or not (q.terms or q.entities)
    )
    lex = kind == "lex"
    fts = parse_lex_line(text, strict=False) if lex else None
    prose = kind != "lex" and script(text) not in UNSEGMENTED
    return LineFacts(
        kind=kind,
        text=text,
        kept=bool(text) and has_query_term(text, q.filter_terms),
        babble=textchecks.degenerate(text, kind) if text else "empty",
        drift=drifted(q.language, text),
        terms=terms,
        near=loose,
        mentions=sum(map(q.term_stems.__contains__, form.stems)),
        entities=entities,
        versions=versions,
        anchored=anchored,
        specific=tuple(classes[WordClass.SPECIFIC]),
        common=tuple(classes[WordClass.COMMON]),
        common_weight=sum(w.weight for w in residue),
        unknown=tuple(classes[WordClass.UNKNOWN]),
        numbers=tuple(classes[WordClass.NUMBER]),
        generic=tuple(classes[WordClass.GENERIC]),
        aliases=aliases,
        repeats=textchecks.repeats(text, q.counts) if not lex else 0,
        length=len(text),
        words=len(words(text)),
        and_terms=len(fts.positives) if fts else 0,
        phrase=bool(fts) and _has_phrase(q, text),
        relaxes=_relaxes(q, fts, terms) if fts else 0.0,
        reordered=_reordered_phrases(q, text) if lex else (),
        negated=_negated_query_terms(q, fts) if fts else (),
        no_positive=fts is not None and not fts.positives,
        unbalanced=lex and text.count('"') % 2 == 1,
        syntax=textchecks.search_syntax(text) if lex else (),
        chains=textchecks.hyphen_chains(text) if lex else (),
        stuffed=_stuffed(q, fts) if fts else (),
        fillers=_new(q, textchecks.fillers(text)) if lex else (),
        question=_lex_question(text) if lex else textchecks.is_question(text),
        natural=_natural(text, q.language) if not lex else False,
        restates=not lex and _restates(q, text),
        meta=_new(q, textchecks.meta_talk(text)) if not lex else (),
        truncation=truncation,
        boilerplate=textchecks.boilerplate_opening(text) if kind == "hyde" else None,
        keyword_list=prose and textchecks.is_keyword_list(text, q.language),
        skeleton=skeleton,
    )


class _Residue(NamedTuple):
    words: tuple[Word, ...]  # content words not the query's, once each
    aliases: int  # entities named under another spelling than the query's
    skeleton: str | None  # the line with the query's words masked (see line_facts)


def _residue(q: QueryInfo, text: str) -> _Residue:
    """The line's content words that are not the query's, how many of the query's entities
    it names under another spelling (an alias: 'postgresql' for 'postgres', whose words leave
    the residue), and its skeleton: its words with the query's own masked, when the rest
    could frame any query (at least one word masked and two content words of its own)."""
    found: list[Word] = []
    masked: list[str] = []
    own = 0
    language, query_stems, query_letters = q.language, q.stems, q.form.squashed
    for token in words(text):
        if not token.isascii() and any(char_script(ch) in UNSEGMENTED for ch in token):
            found += [read_word(p, language) for p in char_pairs(token) if p not in q.text]
            masked.append(token)
            continue
        word = read_word(token, language)
        query_word = query_stems.issuperset(word.stems) or (
            # Most words are nowhere in the query's letters: a substring test settles them.
            word.squashed in query_letters and q.form.spells(word.squashed)
        )
        if word.stems and query_word:
            masked.append("*")
            continue
        masked.append(token)
        if word.stop or not word.stems:
            continue
        own += 1
        if len(word.stems) == 1 and word.stems[0] in q.compounds:
            continue  # 'haircut' for 'hair cut'
        found.append(word)
    found = list(dict.fromkeys(found))
    aliases = 0
    for entity in q.entities:
        spelled = [w for w in found if w.squashed in entity.target.spellings]
        if spelled:
            aliases += 1
            found = [w for w in found if w not in spelled]
    skeleton = " ".join(masked) if "*" in masked and own >= 2 else None
    return _Residue(tuple(found), aliases, skeleton)


def _technical(residue: tuple[Word, ...]) -> bool:
    return any(w.technical for w in residue if w.kind is WordClass.SPECIFIC)


def _new(q: QueryInfo, phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases the query itself does not use."""
    if not phrases:
        return ()
    asked = f" {' '.join(words(q.text))} "
    return tuple(p for p in phrases if f" {p} " not in asked)


def _has_phrase(q: QueryInfo, text: str) -> bool:
    """A quoted phrase that makes the search more precise: two or more words, not the
    query's own words reordered, and not the whole of a query of three words or more (an
    exact match of the whole query is what the raw query's list already ranks first)."""
    for phrase in re.findall(r'"([^"]+)"', text):
        stems = _stems(phrase)
        whole = stems == q.order and len(stems) >= 3
        if len(stems) >= 2 and not whole and not _is_reordering(q, stems):
            return True
    return False


def _reordered_phrases(q: QueryInfo, text: str) -> tuple[str, ...]:
    """Quoted phrases made of the query's words in an order the query does not have: an
    exact phrase no note contains."""
    return tuple(
        phrase for phrase in re.findall(r'"([^"]+)"', text) if _is_reordering(q, _stems(phrase))
    )


def _stems(text: str) -> tuple[str, ...]:
    return tuple(s for word in words(text) for s in read_word(word).stems)


def _is_reordering(q: QueryInfo, stems: tuple[str, ...]) -> bool:
    """Query words in an order the query does not have them in ('"compose docker"' for
    'docker compose'); words picked in the query's order ('"home office deduction"' from
    'home office tax deduction') read as the phrase they are."""
    if len(stems) < 2 or not q.stems.issuperset(stems):
        return False
    rest = iter(q.order)
    return not all(stem in rest for stem in stems)  # not a subsequence of the query


def _relaxes(q: QueryInfo, fts, terms: tuple[str, ...]) -> float:
    """How much the line widens the raw query's search, which ANDs every word as typed:
    when it requires fewer of the query's terms but keeps the rarest one, more of the right
    notes match ('Priya Q3 budget' for 'meeting notes with Priya about the Q3 budget'). The
    share of the key terms' weight it keeps: a relaxation that keeps more is more precise."""
    required = {t.stem for u in fts.positives for t in u.tokens if t.stem in q.stems}
    if not q.terms or not 0 < len(required) < q.required:
        return 0.0
    heaviest = max(q.terms, key=lambda t: t.weight)
    if heaviest.word not in terms:
        return 0.0
    return sum(t.weight for t in q.terms if t.word in terms) / q.total_weight


def _restates(q: QueryInfo, text: str) -> bool:
    """The query itself, give or take a few characters ('vec: lisbon airport city center')."""
    line, query = normalise(text).strip(" ?.!"), normalise(q.text).strip(" ?.!")
    return line == query or (query in line and len(line) <= len(query) + 4)


def _negated_query_terms(q: QueryInfo, fts) -> tuple[str, ...]:
    return tuple(
        " ".join(token.stem for token in unit.tokens)
        for unit in fts.negatives
        if all(token.stem in q.stems for token in unit.tokens)
    )


def _stuffed(q: QueryInfo, fts) -> tuple[str, ...]:
    """Required terms said more often than the query says them ('docker docker compose')."""
    said = [" ".join(t.stem for t in unit.tokens) for unit in fts.positives]
    if len(set(said)) == len(said):
        return ()
    units = Counter(said)
    asked = Counter(q.order)
    return tuple(u for u, n in units.items() if n >= 2 and n > asked.get(u, 0))


def _lex_question(text: str) -> bool:
    tokens = words(text)
    return "?" in text or (len(tokens) >= 4 and tokens[0] in _INTERROGATIVES)


def _natural(text: str, lang: str | None) -> bool:
    """Reads as language: four or more words, more than a fifth of them function words (prose
    has a third to a half; a keyword list with one 'through' in it is still a list), or, in
    a script without spaces, six characters or more."""
    if script(text) in UNSEGMENTED:
        return len(text.strip()) >= 6
    return len(words(text)) >= 4 and textchecks.function_word_share(text, lang) > 0.2
