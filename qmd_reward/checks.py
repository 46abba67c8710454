"""Line-level checks a careful search engineer makes, beyond the original rubric.

Query-independent checks (is this text degenerate? which script and language?). Word-level
verdicts and the checks several callers ask of one text are cached; the rest run once per
(query, line), which the rubric's memos already keep. Everything here is pure.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache, lru_cache
from itertools import compress, filterfalse, repeat
from operator import eq, is_
from typing import Final

from .lexicon import known_word, word_list, zipf
from .text import FUNCTION_WORDS, words

# --- degenerate text ----------------------------------------------------------------------

# Letter runs (aaaaa), stuttered syllables (ererer) and runs of sentence punctuation. Four
# equal letters are allowed for AAAA records and YYYY formats; = and < for merge markers.
_LETTER_RUN = re.compile(r"([^\W\d_])\1{4,}|([^\W\d_]{2,4})\2{2,}")
# Sentence punctuation five times over, or any other symbol six times ('%%%%%%', '$$$$$$'), is
# a generation running away; merge markers (<<<<<<<, =======, >>>>>>>), markdown headings and
# table rules are real text.
_SYMBOL_RUN = re.compile(r"([.!?,;:*~])\1{4,}|([^\w\s<>=#|\-])\2{5,}")
# ASCII letters, digits and spaces: never part of a symbol run.
_PLAIN_BYTES = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "


def _symbol_run(text: str) -> bool:
    # The run regex is slow to scan prose. Deleting letters, digits and spaces can join runs
    # but never break one, so the few symbols left over are scanned first.
    rest = text.encode("utf-8", "surrogatepass").translate(None, _PLAIN_BYTES)
    if len(rest) < 5:
        return False
    rest_text = rest.decode("utf-8", "surrogatepass")
    return _SYMBOL_RUN.search(rest_text) is not None and _SYMBOL_RUN.search(text) is not None


_VOWELS = frozenset("aeiouyàáâäãåèéêëìíîïòóôöõùúûüý")
MAX_LENGTH = {"lex": 150, "vec": 300, "hyde": 700}


def degenerate(text: str, kind: str = "vec") -> str | None:
    """Why a line is machine babble, or None when it reads like text.

    Looks for what a drifting policy produces: stuttered characters (``Anererer``), loops of
    one token, consonant mash, words no dictionary knows, and lengths no line should have.
    """
    if len(text) > MAX_LENGTH.get(kind, 700):
        return f"absurdly long ({len(text)} characters)"
    found = words(text)
    shapes = _shapes(found)
    seen = 0  # every flag some word of the line has
    for shape in shapes:
        seen |= shape
    if seen & _STUTTERED or _symbol_run(text):
        return "stuttered characters"
    if not found:
        return "no words at all"
    tokens = found
    if seen & _DIGITS:
        tokens = tuple([t for t, shape in zip(found, shapes) if shape != _DIGITS])
    distinct = len(set(tokens))
    if len(tokens) >= 4 and distinct * 2 <= len(tokens):
        top, count = Counter(tokens).most_common(1)[0]
        if count >= 3 and count / len(tokens) > 0.5:
            return f"the token {top!r} repeated"
    # 'the the handshake of of tcp is is': prose stutters a word now and then, not three times.
    doubles = 0
    if distinct < len(tokens):
        for i in range(1, len(tokens)):
            if tokens[i] == tokens[i - 1]:
                doubles += 1
    if doubles >= 2 and any(map(eq, tokens, tokens[2:])):
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            if a == b == c:
                return f"the token {a!r} repeated"
    if doubles >= 3:
        return "words stuttered"
    if _mojibake(text):
        return "broken encoding (mojibake)"
    if seen & _NO_VOWEL:
        mashed = [t for t, s in zip(found, shapes) if s & _NO_VOWEL]
        # One short vowelless token is an acronym (pnpm, html); two, or a long one, is mash.
        if len(mashed) >= 2 or any(len(t) >= 6 for t in mashed):
            return "letters without vowels"
    # Lex lines are lists of technical terms (kubectl, pgbouncer) that no dictionary has;
    # prose that is mostly unknown words is babble.
    if seen & _UNKNOWN and kind != "lex":
        # Only plain words carry these flags, so counting shape values counts words.
        unknown = shapes.count(_PLAIN_WORD | _UNKNOWN) + shapes.count(_ALL_PLAIN)
        alpha = shapes.count(_PLAIN_WORD) + shapes.count(_PLAIN_WORD | _NO_VOWEL) + unknown
        if alpha >= 4 and unknown / alpha > 0.5:
            return "mostly words no dictionary knows"
    return None


_MOJIBAKE_PAIR = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)


def _mojibake(text: str) -> bool:
    """UTF-8 text decoded as cp1252 or Latin-1 ('åŒ—äº¬' for '北京'), or replacement marks."""
    if "\ufffd" in text:
        return True
    if text.isascii():
        return False
    # A UTF-8 lead byte read as Latin-1 (Ã, â, å...) followed by a continuation byte read as
    # cp1252 (©, €, ¼...): never two of these in real text.
    if len(_MOJIBAKE_PAIR.findall(text)) >= 2:
        return True
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        # Real accented text is never valid UTF-8 once encoded back; mojibake is, and shrinks.
        if repaired != text:
            return True
    return False


# Final: compiled (setup.py), constants are read as such, not looked up by name each time.
_STUTTERED: Final = 1
_DIGITS: Final = 2
_PLAIN_WORD: Final = 4
_NO_VOWEL: Final = 8
_UNKNOWN: Final = 16
_ALL_PLAIN = _PLAIN_WORD | _NO_VOWEL | _UNKNOWN


_SHAPE_CACHE: Final[dict[str, int]] = {}
_SHAPE_CACHE_SIZE: Final = 131072


def _shapes(found: tuple[str, ...]) -> list[int]:
    """:func:`_shape` of each word, kept in a plain dict: an lru_cache wrapper would cost a
    call per word."""
    if len(_SHAPE_CACHE) > _SHAPE_CACHE_SIZE:
        _SHAPE_CACHE.clear()
    shapes = []
    for word in found:  # compiled (see setup.py), a plain loop is the quick way
        shape = _SHAPE_CACHE.get(word)
        if shape is None:
            shape = _SHAPE_CACHE[word] = _shape(word)
        shapes.append(shape)
    return shapes


def _shape(word: str) -> int:
    """What :func:`degenerate` asks of one word, as bit flags."""
    shape = 0
    # Letter runs live inside one word, so the slow regex runs per distinct word only.
    # A run repeats letters, so the word has at least four letters more than it has
    # distinct ones; the regex is only asked about such words.
    if len(set(word)) <= len(word) - 4 and _LETTER_RUN.search(word) is not None:
        shape |= _STUTTERED
    if word.isdigit():
        shape |= _DIGITS
    if word.isalpha() and word.isascii() and len(word) >= 4:
        shape |= _PLAIN_WORD
        if _VOWELS.isdisjoint(word):
            shape |= _NO_VOWEL
        if _unknown_word(word):
            shape |= _UNKNOWN
    return shape


_LANGS = ("en", "de", "fr", "es", "it", "pt", "nl")


def _unknown_word(word: str) -> bool:
    """A plain lowercase word that no language's list or the gazetteer has."""
    if known_word(word, "en") or word in word_list("gazetteer.txt"):
        return False
    return not any(known_word(word, lang) for lang in _LANGS[1:])


# --- script and language ------------------------------------------------------------------

_SCRIPT_RANGES = (
    (0x0400, 0x052F, "cyrillic"),
    (0x0370, 0x03FF, "greek"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x30FF, "japanese"),
    (0x3400, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
)


_ASCII_LETTER = re.compile("[A-Za-z]")


def _char_script(ch: str) -> str | None:
    code = ord(ch)
    if code < 0x250:
        return "latin" if ch.isalpha() else None
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return "other" if ch.isalpha() else None


@lru_cache(maxsize=65536)
def script(text: str) -> str | None:
    """The writing system of most letters in ``text`` (Japanese kana and kanji count as one)."""
    if text.isascii():  # most lines: no need to look at each character
        return "latin" if _ASCII_LETTER.search(text) else None
    counts: Counter[str] = Counter()
    for ch in text:
        name = _char_script(ch)
        if name:
            counts[name] += 1
    if not counts:
        return None
    if counts["japanese"]:
        counts["japanese"] += counts.pop("han", 0)
    return counts.most_common(1)[0][0]


# Short, frequent function words that tell Latin-script languages apart.
_STOP = {
    "en": "the and of to in is for with how what why on are does do my your from can".split(),
    "de": "der die das und ist wie nicht mit für ein eine ich zu den von auf im dem was".split(),
    "fr": "le la les des est et pour dans une un du comment que qui avec sur pas ce en".split(),
    "es": "el la los las de que y en para con por una un cómo como es se del qué".split(),
    "it": "il lo la gli le di che e per con una un come è non del della nel".split(),
    "pt": "o a os as de que e em para com uma um como é não do da no na".split(),
    "nl": "de het een en van is hoe wat niet met voor op dat ik zijn".split(),
}
_STOP_SETS = {lang: frozenset(ws) for lang, ws in _STOP.items()}
_DIACRITIC_HINTS = {"de": "äöüß", "fr": "àâçèéêëîïôùûœ", "es": "ñáéíóú¿¡", "pt": "ãõçáâéêóú"}


@lru_cache(maxsize=65536)
def language(text: str) -> str | None:
    """A coarse language guess: a script name, or a Latin-script language code, or None.

    Latin-script text is judged by its function words and accents first, then by which
    language's word frequencies fit its words best (``startet immer wieder neu`` is German
    although it has no German function word).
    """
    found = script(text)
    if found != "latin":
        return found
    tokens = [t for t in words(text) if t.isalpha()]
    hits = {lang: sum(t in stops for t in tokens) for lang, stops in _STOP_SETS.items()}
    lower = text.lower()
    for lang, marks in _DIACRITIC_HINTS.items():
        if any(m in lower for m in marks):
            hits[lang] += 1
    best = max(hits.values())
    leaders = [lang for lang, n in hits.items() if n == best]
    content = [t for t in tokens if len(t) >= 4]
    # One function word is thin evidence: 'los angeles traffic', 'leonardo da vinci' and
    # 'build a treehouse' are English. Its language must also fit the other words.
    if (
        best
        and len(leaders) == 1
        and (best >= 2 or not content or _fit(content, leaders[0]) > _fit(content, "en") + 0.5)
    ):
        return leaders[0]
    if len(content) < 2:
        return None
    fit = {lang: _fit(content, lang) for lang in _LANGS}
    ranked = sorted(fit, key=fit.__getitem__, reverse=True)
    # Only a clear winner counts: technical English shares many words with every language.
    if fit[ranked[0]] - fit[ranked[1]] >= 0.8:
        return ranked[0]
    return None


def _fit(words_: list[str], lang: str) -> float:
    """How common ``words_`` are in ``lang``, on average (Zipf scale)."""
    return sum(zipf(w, lang) for w in words_) / len(words_)


def talks_around(text: str) -> bool:
    """Whether a passage uses words that describe a text rather than state a fact
    ('overview', 'detailed information', 'many options')."""
    return not word_list("vague_words.txt").isdisjoint(words(text))


# wordfreq's code for the languages language() names by script.
_SCRIPT_LANGUAGES = {"cyrillic": "ru"}


def _frequency_language(lang: str | None) -> str | None:
    """wordfreq's code for what :func:`language` returned, if its lists are used here."""
    code = _SCRIPT_LANGUAGES.get(lang or "", lang)
    return code if code in _STOP_SETS or code == "ru" else None


def function_word(word: str, lang: str | None) -> bool:
    """A word too common in the query's own language to say what the query is about
    ('cómo', 'un', 'как', 'на'). English is left to :data:`qmd_reward.text.STOPWORDS`."""
    code = _frequency_language(lang)
    if code in (None, "en"):
        return False
    if word in _STOP_SETS.get(code, ()):
        return True
    # Articles, prepositions and pronouns sit above 6.4 in every language wordfreq knows;
    # common content words ('tiempo', 'zeit', 'faire') sit at or below it.
    return zipf(word, code) > 6.4


# Below this Zipf frequency a word is uncommon enough to pin a passage to a subject
# ('colorimeter', 'limonero'); 'options', 'settings', 'información' are above it.
SPECIFIC_ZIPF = 3.5


@lru_cache(maxsize=16384)
def specific_words(text: str, lang: str | None = None) -> tuple[str, ...]:
    """Words that make a passage concrete: numbers, technical tokens (``node.js``,
    ``--previous``), inner capitals (``JPEG``, ``iPhone``), quantities and units (``twice``,
    ``cups``) and uncommon words.

    A template passage ('This guide covers all the essential information you need') has none
    beyond the query's own words, whatever the topic.
    """
    named = _named_words(text)
    code = _frequency_language(lang) or "en"
    return tuple(t for t in dict.fromkeys(words(text)) if t in named or _specific(t, code))


def says_more_than(text: str, lang: str | None, known: frozenset[str]) -> bool:
    """Whether ``text`` has a :func:`specific_words` word outside ``known``.

    Each word's verdict is kept per language: passages share most of their words, so the
    words are looked up in C and only those never judged are judged, up to the first
    specific one."""
    found = list(filterfalse(known.__contains__, words(text)))
    code = _frequency_language(lang) or "en"
    cache = _SPECIFIC.setdefault(code, {})
    judged = list(map(cache.get, found))  # True, False, or None for a word not judged yet
    if True in judged:
        return True
    if None in judged:
        if len(cache) > _SPECIFIC_SIZE:
            cache.clear()
        for token in compress(found, map(is_, judged, repeat(None))):
            specific = cache[token] = _specific(token, code)
            if specific:
                return True
    return bool(found) and not _named_words(text).isdisjoint(found)


# Per language, whether a word is specific by its own spelling and frequency: passages
# share most of their words.
_SPECIFIC: dict[str, dict[str, bool]] = {}
_SPECIFIC_SIZE = 131072


def _specific(token: str, code: str) -> bool:
    """A specific word by its spelling and frequency in wordfreq's language ``code``
    (capitals aside)."""
    if not token.isalpha() or (code == "en" and token in word_list("concrete_words.txt")):
        return True
    return zipf(token, code) < SPECIFIC_ZIPF


def _named_words(text: str) -> set[str]:
    """Words of chunks with a capital past their first letter: JPEG, iPhone, CrashLoopBackOff."""
    return {t for raw in text.split() if raw[1:] != raw[1:].lower() for t in words(raw)}


def drifted(query_lang: str | None, line: str) -> bool:
    """The line is in another language than a non-English query."""
    if query_lang in (None, "en"):
        return False
    line_lang = language(line)
    if query_lang in _STOP_SETS:
        # Latin-script query: drift is a confident guess of English for the line.
        return line_lang == "en"
    return line_lang is not None and line_lang != query_lang


# --- lex and hyde shape -------------------------------------------------------------------


def ends_on_function_word(text: str) -> bool:
    """A line cut off mid-phrase; an upper-case keyword (SQL's OVER) is not cut off."""
    tokens = words(text)
    if not tokens or tokens[-1] not in FUNCTION_WORDS:
        return False
    return not text.rsplit(None, 1)[-1].isupper()


_DANGLING = ",;:(-–—"


def hyde_truncated(text: str) -> bool:
    """A passage that stops mid-sentence: on a function word or dangling punctuation."""
    end = text.rstrip()[-1:]
    return (bool(end) and end in _DANGLING) or ends_on_function_word(text)


def fillers_in(text: str) -> tuple[str, ...]:
    """Filler words and phrases in a line (word-bounded)."""
    tokens = words(text)
    single, phrases, firsts = _filler_index()
    found = single.intersection(tokens)
    # A phrase can only be there when its first word is.
    starts = firsts.intersection(tokens)
    if not starts:
        return tuple(sorted(found)) if found else ()
    padded = f" {' '.join(tokens)} "
    hits = [hit[1:-1] for first in starts for hit in filter(padded.__contains__, phrases[first])]
    return tuple(sorted(found.union(hits)))


@cache
def _filler_index() -> tuple[frozenset[str], dict[str, tuple[str, ...]], frozenset[str]]:
    """Single-word fillers, and filler phrases (space-padded, as they are searched for) by
    their first word."""
    entries = word_list("fillers.txt")
    single = frozenset(f for f in entries if " " not in f)
    phrases: dict[str, list[str]] = {}
    for phrase in sorted(f for f in entries if " " in f):
        phrases.setdefault(phrase.split()[0], []).append(f" {phrase} ")
    return single, {first: tuple(found) for first, found in phrases.items()}, frozenset(phrases)


def boilerplate_opening(text: str) -> str | None:
    openers = _openers()
    # Only the opening matters: normalising a head of the passage gives a prefix of the
    # normalised passage, long enough unless the head is mostly whitespace.
    longest = _longest_opener()
    head = text[: 2 * longest]
    lower = " ".join(head.lower().split())
    if len(lower) < longest and len(head) < len(text):
        lower = " ".join(text.lower().split())
    if not lower.startswith(openers):  # one C-level test for the common case
        return None
    return next(opener for opener in openers if lower.startswith(opener))


@cache
def _longest_opener() -> int:
    return max(map(len, _openers()), default=0)


@cache
def _openers() -> tuple[str, ...]:
    return tuple(sorted(word_list("boilerplate_hyde.txt")))


@lru_cache(maxsize=65536)
def repeated_words(text: str, query: str = "") -> tuple[str, ...]:
    """Words a lex line says more often than the query does: keyword stuffing.

    'baking soda baking powder' is fine for a query that says 'baking' twice, and so are
    distinct quoted phrases that share a word ('"order of sharps" "order of flats"'): each
    phrase is one FTS5 term. The same phrase quoted twice is stuffing.
    """
    tokens = tuple(filterfalse(FUNCTION_WORDS.__contains__, words(text)))
    if len(set(tokens)) == len(tokens):
        return ()
    counts: Counter[str] = Counter()
    if '"' in text:
        phrases = Counter(" ".join(words(p)) for p in _QUOTED.findall(text))
        counts.update(w for w in words(_QUOTED.sub(" ", text)) if w not in FUNCTION_WORDS)
        in_phrases: Counter[str] = Counter()
        for phrase, times in phrases.items():
            for w in set(words(phrase)) - FUNCTION_WORDS:
                in_phrases[w] = max(in_phrases[w], times)
        counts.update(in_phrases)
    else:
        counts.update(tokens)
    asked = Counter(words(query))
    return tuple(sorted(w for w, c in counts.items() if c >= 2 and c > asked[w]))


_QUOTED = re.compile(r'"([^"]*)"')


def plain_terms(lex: str) -> int:
    """How many plain (ANDed) terms a lex line has; quoted phrases and negations excluded."""
    text = _QUOTED_TERM.sub(" ", lex) if '"' in lex else lex
    tokens = text.split()
    if "".join(tokens).isalnum():  # plain words only: each is a term
        return len(tokens)
    return sum(1 for token in tokens if not token.startswith("-") and words(token))


_QUOTED_TERM = re.compile(r'-?"[^"]*"')
