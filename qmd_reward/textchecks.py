"""Checks of a line's text alone, whatever the query: is it babble, is it a sentence, does
it talk about the search instead of its subject.

Each check is a small pure function; :mod:`qmd_reward.facts` calls them once per line and
:mod:`qmd_reward.rules` decides what they cost.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Container
from functools import cache, lru_cache

from .language import STOP_SETS
from .lexicon import known_word, word_list, zipf
from .text import FUNCTION_WORDS, PARTICLES, STOPWORDS, words
from .wordclass import read_word

# Longer than any line of its type should be: a generation that ran away.
MAX_LENGTH = {"lex": 150, "vec": 300, "hyde": 700}

# Letter runs (aaaaa) and stuttered syllables (ererer); four equal letters are allowed for
# AAAA records and YYYY formats.
_LETTER_RUN = re.compile(r"([^\W\d_])\1{4,}|([^\W\d_]{2,4})\2{2,}")
# Sentence punctuation five times over, or another symbol six times ('%%%%%%'); merge
# markers (<<<<<<<, =======), markdown headings and table rules are real text. Two patterns,
# not one alternation: the regex engine tries a single pattern's branches at every position.
_PUNCTUATION_RUN = re.compile(r"([.!?,;:*~])\1{4,}")
_SYMBOL_RUN = re.compile(r"([^\w\s<>=#|\-])\1{5,}")
# Hex literals and colours (#ffffff, 0xdeadbeef) repeat letters on purpose.
_HEX = re.compile(r"(?:#|0x)?[0-9a-f]{3,}")
# A UTF-8 lead byte read as Latin-1 (Ã, â, å...) followed by a continuation byte read as
# cp1252 (©, €, ¼...): never twice in real text.
_MOJIBAKE_PAIR = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)
_OTHER_LANGUAGES = ("de", "fr", "es", "it", "pt", "nl")


def degenerate(text: str, kind: str = "vec") -> str | None:
    """Why a line is machine babble, or None when it reads like text.

    Looks for what a drifting policy writes: stuttered characters, loops of one token,
    stuttered words, broken encoding, consonant mash, prose of words no dictionary knows,
    and lengths no line of its type should have. Technical tokens are not babble.

    >>> degenerate("The Anererererer......"), degenerate("a a a a a")
    ('stuttered characters', "the token 'a' repeated")
    >>> degenerate("grpc over http/2 with btrfs and pnpm, colour #ffffff, 0xdeadbeef")
    """
    if len(text) > MAX_LENGTH.get(kind, 700):
        return f"absurdly long ({len(text)} characters)"
    tokens = words(text)
    if not tokens:
        return "no words at all"
    # A run needs five letters at least (aaaaa, ererer); verdicts are kept per word.
    if (
        _PUNCTUATION_RUN.search(text)
        or _SYMBOL_RUN.search(text)
        or any(_stuttered(t) for t in tokens if len(t) >= 5)
    ):
        return "stuttered characters"
    # Numbers repeat in real text (versions, dates); the other tokens must repeat twice
    # over, which the whole line's tokens must then do too: most lines stop at that test.
    if len(tokens) >= 4 and len(set(tokens)) <= len(tokens) - 2:
        counted = [t for t in tokens if not t.isdigit()]
        if len(counted) >= 4 and len(set(counted)) <= len(counted) - 2:
            top, count = Counter(counted).most_common(1)[0]
            if count >= 3 and count / len(counted) > 0.5:
                return f"the token {top!r} repeated"
    doubled = sum(map(operator.eq, tokens, tokens[1:]))
    if doubled >= 3 or (doubled == 2 and any(map(_same3, tokens, tokens[1:], tokens[2:]))):
        return "words stuttered"
    if mojibake(text):
        return "broken encoding (mojibake)"
    read = list(map(read_word, tokens))
    # One short vowelless token is an acronym or a tool (pnpm, grpc); a long one, or a line
    # that is mostly such tokens, is mash.
    mash = [w.text for w in read if w.vowelless and not w.known and len(w.text) >= 4]
    if any(len(t) >= 7 for t in mash) or (len(mash) >= 3 and len(mash) * 2 >= len(tokens)):
        return "letters without vowels"
    # Lex lines are lists of jargon (kubectl, pgbouncer) no dictionary has; prose that is
    # mostly such words is babble.
    if kind == "lex":
        return None
    plain = [w for w in read if len(w.text) >= 4 and w.text.isalpha() and w.text.isascii()]
    if len(plain) >= 4:
        # English first: only when most words are unknown to it are other languages asked.
        unknown = [w.text for w in plain if not w.known]
        if len(unknown) * 2 > len(plain) and sum(map(_unknown, unknown)) * 2 > len(plain):
            return "mostly words no dictionary knows"
    return None


def _same3(a: str, b: str, c: str) -> bool:
    return a == b == c


@lru_cache(maxsize=16384)
def _stuttered(token: str) -> bool:
    if _LETTER_RUN.search(token) is None:
        return False
    # A hex literal or colour repeats letters on purpose (#ffffff, 0xdeadbeef).
    hex_literal = token[0] in "#0" or any(c.isdigit() for c in token)
    return not (hex_literal and _HEX.fullmatch(token))


def _unknown(word: str) -> bool:
    if known_word(word) or word in word_list("gazetteer.txt"):
        return False
    return not any(known_word(word, lang) for lang in _OTHER_LANGUAGES)


def mojibake(text: str) -> bool:
    """UTF-8 text decoded as cp1252 or Latin-1 ('åŒ—äº¬' for '北京'), or replacement marks.

    >>> mojibake("åŒ—äº¬ weather"), mojibake("crème brûlée")
    (True, False)
    """
    if "\ufffd" in text:
        return True
    if text.isascii():
        return False
    if len(_MOJIBAKE_PAIR.findall(text)) >= 2:
        return True
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        # Real accented text is never valid UTF-8 once encoded back; mojibake is.
        if repaired != text:
            return True
    return False


# --- sentences --------------------------------------------------------------------------

_SENTENCE_END = ".!?…。！？"
CUT_MID_WORD = "it is cut mid-word"
BROKEN_END = "its sentence ends on an article or a preposition"
_ARTICLES_AND_PREPOSITIONS = frozenset("a an the of to for with from by at into and or".split())
_CLOSERS = "\"')]»”’」』"
_DANGLING = ",;:(-–—/&+"


def ends_sentence(text: str) -> bool:
    """The text ends a sentence (closing quotes and brackets allowed after the mark).

    >>> ends_sentence('Run "ssh-keygen -t ed25519".'), ends_sentence("Feed it twice a day")
    (True, False)
    """
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def truncation(text: str, lang: str = "en") -> str | None:
    """How a passage stops mid-sentence, or None when it ends a sentence. ``lang`` is
    wordfreq's code for the passage's language (a last word it does not know was cut).

    >>> truncation("Feed it twice a day with"), truncation("Keep it at room temperat")
    ('it ends on a function word', 'it is cut mid-word')
    >>> truncation("Set the proxy, then back it up"), truncation("It works.")
    ('it stops without ending its sentence', None)
    """
    if ends_sentence(text):
        # '... when mutable code the.': a full stop after an article is no sentence's end.
        ending = words(text)[-1:]
        return BROKEN_END if ending and ending[0] in _ARTICLES_AND_PREPOSITIONS else None
    stripped = text.rstrip()
    if stripped and stripped[-1] in _DANGLING:
        return "it ends on dangling punctuation"
    tokens = words(stripped)
    if not tokens:
        return "it stops without ending its sentence"
    last = tokens[-1]
    raw_last = stripped.rsplit(None, 1)[-1]
    if last in FUNCTION_WORDS and last not in PARTICLES and not raw_last.isupper():
        return "it ends on a function word"
    if last.isalpha() and _cut_word(last, lang):
        return CUT_MID_WORD
    return "it stops without ending its sentence"


def _cut_word(word: str, lang: str) -> bool:
    """A word that is no word of the language but the start of one ('expla', 'temperat')."""
    if word in word_list("gazetteer.txt"):
        return False
    if not known_word(word, lang):
        return True
    return zipf(word, lang) < 3.0 and word in _word_starts(lang)


@cache
def _word_starts(lang: str) -> frozenset[str]:
    """Every proper beginning (three letters or more) of the language's 30,000 commonest
    words."""
    from wordfreq import top_n_list

    return frozenset(
        w[:n] for w in top_n_list(lang, 30000) if w.isalpha() for n in range(3, len(w))
    )


# Dots that end no sentence: versions, abbreviations, ellipses.
_NOT_SENTENCE_ENDS = re.compile(
    r"\d\.\d|\b(?:e\.g|i\.e|etc|vs|cf|approx|dr|mr|mrs|st)\.|\b\w\.(?=\w)|\.\.\.", re.I
)


def is_question(text: str) -> bool:
    """The passage asks instead of answering: it ends on a question mark and no sentence of
    it ends otherwise.

    >>> is_question("How do I rotate a TLS certificate? What tools help?")
    True
    >>> is_question("How do you rotate it? Run certbot renew, then reload nginx.")
    False
    """
    stripped = text.rstrip().rstrip(_CLOSERS)
    if not stripped.endswith(("?", "？")):
        return False
    body = _NOT_SENTENCE_ENDS.sub("", stripped)
    return not any(mark in body for mark in ".!。！")


def function_word_share(text: str, lang: str | None = None) -> float:
    """The share of a text's words that are function words (English and the text's own
    language): prose has a third or more, a keyword list next to none.

    >>> function_word_share("ssh keygen ed25519 authorized_keys permissions")
    0.0
    >>> round(function_word_share("Run ssh-keygen, then copy the key to the server"), 2)
    0.44
    """
    tokens = words(text)
    if not tokens:
        return 0.0
    return sum(map(_function_words(lang).__contains__, tokens)) / len(tokens)


@cache
def _function_words(lang: str | None) -> frozenset[str]:
    """English function words and those of ``lang``."""
    return FUNCTION_WORDS | STOP_SETS.get(lang or "", frozenset())


def is_keyword_list(text: str, lang: str | None = None) -> bool:
    """Five or more words with almost no function word between them and no structure (a
    colon or brackets that say what the words are): a list, not prose.

    >>> is_keyword_list("ssh keygen ed25519 authorized_keys permissions 600")
    True
    >>> is_keyword_list("Copy the public key to the server with ssh-copy-id.")
    False
    >>> is_keyword_list("German cases: nominative (subject), accusative (object).")
    False
    """
    if ":" in text or "(" in text:
        return False
    return len(words(text)) >= 5 and function_word_share(text, lang) < 0.12


def boilerplate_opening(text: str) -> str | None:
    """A template opener ('This passage...', 'Here is...'), or None.

    >>> boilerplate_opening("This passage explains the topic in detail.")
    'this passage'
    """
    lower = " ".join(text.lower().lstrip(" \"'").split())
    if not lower.startswith(_openers()):
        return None  # most passages: one test of every opener at once
    return next(o for o in _openers() if lower.startswith(o))


@cache
def _openers() -> tuple[str, ...]:
    return tuple(sorted(word_list("boilerplate_hyde.txt"), key=len, reverse=True))


def phrases_in(text: str, list_name: str) -> tuple[str, ...]:
    """The phrases of a packaged list that occur in ``text`` on word boundaries.

    >>> phrases_in("the user is asking about ssh keys", "meta_phrases.txt")
    ('asking about', 'is asking', 'the user is', 'user is asking')
    """
    tokens = words(text)
    by_first = _phrases_by_first_word(list_name)
    candidates = [p for w in set(tokens) for p in by_first.get(w, ())]
    if not candidates:
        return ()
    padded = f" {' '.join(tokens)} "
    return tuple(sorted(p for p in candidates if f" {p} " in padded))


@cache
def _phrases_by_first_word(list_name: str) -> dict[str, tuple[str, ...]]:
    """A list's phrases by their first word: a line can only hold those its words begin."""
    found: dict[str, list[str]] = {}
    for phrase in word_list(list_name):
        found.setdefault(phrase.split()[0], []).append(phrase)
    return {first: tuple(phrases) for first, phrases in found.items()}


def meta_talk(text: str) -> tuple[str, ...]:
    """Phrases that talk about the user, the query or the search instead of the subject."""
    return phrases_in(text, "meta_phrases.txt")


def fillers(text: str) -> tuple[str, ...]:
    """Filler leads of a lex line ('guide to', 'overview of', 'understanding')."""
    return phrases_in(text, "fillers.txt")


def repeats(text: str, asked: Container[str] = frozenset()) -> int:
    """How many times content words are said past their allowance: twice, once more for
    the query's own words (``asked``), once more per 150 characters of a long passage.

    >>> repeats("kafka kafka kafka kafka consumer"), repeats("kafka kafka consumer")
    (2, 0)
    """
    said = [w for w in words(text) if w not in STOPWORDS and len(w) > 2]
    base = 2 + len(text) // 150
    if len(said) - len(set(said)) < base:
        return 0  # no word can be said more than its allowance
    counts = Counter(said)
    return sum(max(0, n - base - (w in asked)) for w, n in counts.items())


_SEARCH_OPERATORS = frozenset({"OR", "AND", "NOT", "NEAR"})
_SEARCH_FIELD = re.compile(r"\b(?:site|filetype|inurl|intitle|intext|ext|lang):\S", re.I)


def search_syntax(lex: str) -> tuple[str, ...]:
    """Web-search syntax in a lex line: QMD reads ``OR`` and ``site:x`` as required words.

    >>> search_syntax("docker OR podman site:reddit.com")
    ('OR', 'site:reddit.com')
    """
    found = [t for t in lex.split() if t in _SEARCH_OPERATORS]
    found += [m.group(0) + lex[m.end() :].split(None, 1)[0] for m in _SEARCH_FIELD.finditer(lex)]
    return tuple(dict.fromkeys(t.rstrip() for t in found))


def hyphen_chains(lex: str) -> tuple[str, ...]:
    """Hyphen chains of three or more content words: QMD makes each one exact phrase that a
    note rarely contains ('ssh-key-login-setup'); 'end-to-end' and 'state-of-the-art' are
    real phrases.

    >>> hyphen_chains("ssh-key-login-setup end-to-end gpt-4")
    ('ssh-key-login-setup',)
    """
    chains = []
    for token in lex.split():
        parts = [p for p in token.strip("\"'").split("-") if p]
        if len(parts) >= 3 and sum(1 for p in parts if p.lower() not in FUNCTION_WORDS) >= 3:
            chains.append(token)
    return tuple(chains)
