"""The judge's matching rules added with the faster scorer: each one firing, and not firing.

Porter-stem term matching, language-aware function words, generic hyde, symbol runs, quoted
phrases in the stuffing check, and the caches (score cards, parsed lines) staying correct.
"""

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmd_reward import Scorer, checks
from qmd_reward.entities import _root, mentioned_terms, mentions
from qmd_reward.expansion import Expansion, LineIssue, parse_expansion
from qmd_reward.rubric import GENERIC, KEEPS_NONE

from samples import dims

# --- 1. Porter-stem term matching ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "term"),
    [
        ("monitor calibration colorimeter", "calibrate"),
        ("configuration file", "configure"),
        ("calibrating a colorimeter", "calibration"),
        ("photo editing software", "edited"),
    ],
)
def test_stem_match_finds_derived_forms(line, term):
    assert mentions(line, term) is True
    assert mentioned_terms(line, (term,)) == {term}


@pytest.mark.parametrize(
    ("line", "term"),
    [
        ("reactive forms", "react"),  # a longer word is not a mention
        ("caring for orchids", "care"),  # 4 letters: not stemmed although Porter says 'care'
        ("monitor colorimeter profile", "calibrate"),
        ("config file", "configure"),  # a prefix is not the same stem
    ],
)
def test_stem_match_leaves_short_words_and_substrings_alone(line, term):
    assert mentions(line, term) is False
    assert mentioned_terms(line, (term,)) == frozenset()


def test_root_is_the_porter_stem_of_long_plain_words_only():
    assert _root("calibrate") == _root("calibration") is not None
    assert _root("configure") == _root("configuration") is not None
    assert _root("react") != _root("reactive")
    assert _root("care") is None  # short
    assert _root("ipv6x") is None  # not only letters
    assert _root("naïve") is None  # not ASCII


def test_mentioned_terms_mixes_exact_and_stem_matches():
    terms = ("calibrate", "monitor", "react", "photo")
    assert mentioned_terms("monitor calibration colorimeter", terms) == {"calibrate", "monitor"}


_PIECES = (
    "react",
    "reactive",
    "e",
    "mail",
    "email",
    "node",
    ".js",
    "calibrate",
    "calibration",
    "calibrating",
    "library",
    "libraries",
    "sarah's",
    "c++",
    "python",
    "3.12",
    "git",
    "hub",
    "github",
    "actions",
)
_TERMS = (
    "react",
    "reactive",
    "e-mail",
    "email",
    "mail",
    "e mail",
    "node.js",
    "node",
    "calibrate",
    "calibration",
    "library",
    "libraries",
    "sarah",
    "c++",
    "python",
    "python 3.12",
    "configure",
    "github actions",
    "git hub",
)
# Word pieces glued by a space, a hyphen or nothing: 'e mail', 'e-mail', 'email', 'node.js'.
_LINES = st.lists(
    st.tuples(st.sampled_from(_PIECES), st.sampled_from((" ", " ", "-", ""))), max_size=6
).map(lambda parts: "".join(piece + glue for piece, glue in parts))


@settings(max_examples=1000, deadline=None)
@given(line=_LINES, term=st.sampled_from(_TERMS))
def test_fast_path_agrees_with_mentions(line, term):
    assert (term in mentioned_terms(line, (term,))) is mentions(line, term)


@settings(max_examples=300, deadline=None)
@given(
    line=_LINES,
    terms=st.lists(st.sampled_from(_TERMS), min_size=1, max_size=5, unique=True).map(tuple),
)
def test_fast_path_on_many_terms_is_the_union_of_single_lookups(line, terms):
    assert mentioned_terms(line, terms) == {t for t in terms if mentions(line, t)}


@pytest.mark.parametrize(
    ("line", "term"),
    [
        ("e mail filters", "email"),  # two tokens spell the term
        ("email filters", "e mail"),
        ("python 3.12 release notes", "python 3.12"),
        ("nodejs streams", "node.js"),
        ("python libraries", "library"),
    ],
)
def test_fast_path_finds_spellings_over_two_tokens(line, term):
    assert mentions(line, term) is True
    assert mentioned_terms(line, (term,)) == {term}


@pytest.mark.parametrize(
    ("line", "term"),
    [
        ("git hub actions cache", "github actions"),
        ("i phone 15 battery", "iphone 15"),
        ("python 3-12 release", "python 3.12"),
    ],
)
def test_fast_path_agrees_on_two_token_terms_split_over_three(line, term):
    assert (term in mentioned_terms(line, (term,))) is mentions(line, term)


# --- 2. discriminating terms in lex lines ------------------------------------------------


CALIBRATE_Q = "how to calibrate a monitor for photo editing"
CALIBRATE_VEC = "\nvec: how do I calibrate my monitor so photos look right when editing"


def _keeps_none(card) -> list[str]:
    return [d for d in card.deductions if KEEPS_NONE in d]


def test_derived_form_keeps_the_discriminating_term(s):
    assert "calibrate" in s.analyse(CALIBRATE_Q).discriminating
    card = s.score(CALIBRATE_Q, "lex: monitor calibration colorimeter" + CALIBRATE_VEC)
    assert _keeps_none(card) == []


def test_lex_without_discriminating_term_is_charged(s):
    card = s.score(CALIBRATE_Q, "lex: display color profile" + CALIBRATE_VEC)
    assert any("display color profile" in d for d in _keeps_none(card))


def test_stem_match_lifts_quality_over_a_line_without_the_term(s):
    stemmed = dims(s, CALIBRATE_Q, "lex: monitor calibration colorimeter" + CALIBRATE_VEC)
    missing = dims(s, CALIBRATE_Q, "lex: monitor colorimeter profile" + CALIBRATE_VEC)
    assert stemmed["quality"] > missing["quality"]


# --- 3. language-aware function words ----------------------------------------------------


def test_spanish_function_words_are_not_key_terms(s):
    assert s.analyse("cómo podar un limonero joven").key_terms == {"podar", "limonero", "joven"}


def test_russian_function_words_are_not_key_terms(s):
    key = s.analyse("как включить ipv6 на роутере").key_terms
    assert "как" not in key and "на" not in key
    assert {"включить", "ipv6", "роутере"} <= key


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("how to make bread at home", {"bread", "make", "home"}),
        ("one pot pasta recipe", {"one", "pot", "pasta"}),  # 'one' is above Zipf 6.4 in English
    ],
)
def test_english_key_terms_are_unaffected(s, query, kept):
    assert kept <= s.analyse(query).key_terms


@pytest.mark.parametrize(
    ("word", "lang", "expected"),
    [
        ("un", "es", True),
        ("cómo", "es", True),
        ("podar", "es", False),
        ("tiempo", "es", False),  # common, but a content word
        ("zeit", "de", False),
        ("как", "cyrillic", True),
        ("на", "cyrillic", True),
        ("роутере", "cyrillic", False),
        ("one", "en", False),  # English is left to STOPWORDS
        ("the", None, False),
        ("la", "han", False),  # a language without a list
    ],
)
def test_function_word(word, lang, expected):
    assert checks.function_word(word, lang) is expected


# --- 4. generic hyde ---------------------------------------------------------------------


LR_Q = "lightroom export settings for instagram"
LR_BASE = (
    "lex: lightroom jpeg srgb resize\n"
    "vec: what export settings in lightroom work best for instagram posts\n"
)
LR_GENERIC = (
    "Lightroom offers many export options, and choosing the right settings can make a big "
    "difference for Instagram."
)
LR_CONCRETE = (
    "Export from Lightroom as sRGB JPEG, 1080 px wide, quality 80-90, with Sharpen for Screen "
    "set to Standard."
)


def _generic(card) -> bool:
    return any(GENERIC in d for d in card.deductions)


def test_generic_hyde_is_charged(s):
    generic = s.score(LR_Q, LR_BASE + "hyde: " + LR_GENERIC)
    concrete = s.score(LR_Q, LR_BASE + "hyde: " + LR_CONCRETE)
    assert _generic(generic) and not _generic(concrete)
    assert generic.dimensions["hyde"] < concrete.dimensions["hyde"]


def test_generic_hyde_helpers():
    asked = {"lightroom", "export", "settings", "for", "instagram"}
    assert checks.talks_around(LR_GENERIC)
    assert not set(checks.specific_words(LR_GENERIC, "en")) - asked
    assert not checks.talks_around(LR_CONCRETE)
    assert {"srgb", "jpeg", "1080"} <= set(checks.specific_words(LR_CONCRETE, "en"))


SOUR_Q = "sourdough starter feeding schedule"
SOUR_BASE = "lex: sourdough starter feeding\nvec: how often should I feed my sourdough starter\n"


@pytest.mark.parametrize(
    "hyde",
    [
        "Feed the sourdough starter twice a day with equal flour and water.",
        # Talks around the subject ('many ways'), but a quantity makes it concrete.
        "There are many ways to feed a sourdough starter, but twice a day with equal flour "
        "and water works.",
    ],
)
def test_common_words_with_quantities_are_not_generic(s, hyde):
    card = s.score(SOUR_Q, SOUR_BASE + "hyde: " + hyde)
    assert not _generic(card)
    assert {"twice", "day"} <= set(checks.specific_words(hyde, "en"))


def test_talking_around_without_a_quantity_is_generic(s):
    hyde = "There are many ways to feed a sourdough starter, and the right approach matters."
    assert _generic(s.score(SOUR_Q, SOUR_BASE + "hyde: " + hyde))


# --- 5. symbol runs ----------------------------------------------------------------------


def test_symbol_run_is_degenerate():
    text = "MySQL can use an index for LIKE 'abc%' but not '%abc%%%%%%%%%%%%%'"
    assert checks.degenerate(text, "hyde") == "stuttered characters"
    assert checks.degenerate("prices went up $$$$$$ again", "vec") == "stuttered characters"


@pytest.mark.parametrize(
    "text",
    [
        "Git marks conflicts with <<<<<<< HEAD and ======= then >>>>>>> main",
        "###### Installation notes for the server",
        "a markdown table rule looks like |------|------|",
        "LIKE 'abc%' matches a prefix, '%abc%%' a substring",  # short runs are fine
        "wait.... what",  # four dots: one short of a punctuation run
    ],
)
def test_markers_headings_and_short_runs_are_not_degenerate(text):
    assert checks.degenerate(text, "hyde") is None


_LETTER_STUTTER = re.compile(r"([^\W\d_])\1{4,}|([^\W\d_]{2,4})\2{2,}")
_SENTENCE_MARKS = ".!?,;:*~"
_STRUCTURAL_SYMBOLS = "<>=#|-"


def _expect_stutter(text: str) -> bool:
    """The rule stated over the whole text rather than word by word."""
    if _LETTER_STUTTER.search(text.lower()):
        return True
    if any(mark * 5 in text for mark in _SENTENCE_MARKS):
        return True
    symbols = {c for c in text if not c.isalnum() and not c.isspace() and c != "_"}
    return any(c * 6 in text for c in symbols - set(_STRUCTURAL_SYMBOLS))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abeAB ", max_size=150))
def test_stutter_check_matches_whole_text_regex_on_letters(text):
    assert (checks.degenerate(text, "lex") == "stuttered characters") is _expect_stutter(text)


_STUTTER_PIECES = ["a", "b", "e", "er", "ab", "A", " ", " ", ".", "!", "%", "$", "=", "<", "#"]
_STUTTER_PIECES += ["-", "|", "aa", "..", "%%", "==", "er er"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_STUTTER_PIECES), max_size=40).map("".join))
def test_stutter_check_matches_whole_text_regex_with_symbols(text):
    if len(text) > checks.MAX_LENGTH["lex"]:
        return
    assert (checks.degenerate(text, "lex") == "stuttered characters") is _expect_stutter(text)


# --- 6. quoted phrases and stuffing ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ('"order of sharps" "order of flats"', ()),
        ('"react hooks" "react hooks"', ("hooks", "react")),
        ('react "react hooks"', ("react",)),
        ("docker docker compose", ("docker",)),
        ("docker compose volumes", ()),
    ],
)
def test_repeated_words_with_quoted_phrases(text, flagged):
    assert checks.repeated_words(text) == flagged


def test_repeated_words_allows_what_the_query_repeats():
    assert checks.repeated_words("docker docker compose", "docker in docker") == ()


# --- 7. caches and immutable results -----------------------------------------------------


def test_cached_card_equals_the_first_and_is_read_only():
    fresh = Scorer()
    text = SOUR_BASE + "hyde: Feed the sourdough starter twice a day with equal flour and water."
    first = fresh.score(SOUR_Q, text)
    second = fresh.score(SOUR_Q, text)
    assert second.score == first.score
    assert dict(second.dimensions) == dict(first.dimensions)
    assert second.deductions == first.deductions
    assert second.rating == first.rating
    for card in (first, second):
        with pytest.raises(TypeError):
            card.dimensions["hyde"] = 0.0
        with pytest.raises(dataclasses.FrozenInstanceError):
            card.score = 1.0
    # The cache hands back the same judgement, not a card that was changed after the fact.
    assert fresh.score(SOUR_Q, text).dimensions == first.dimensions


def test_cache_keeps_different_expansions_apart():
    fresh = Scorer()
    good = fresh.score(LR_Q, LR_BASE + "hyde: " + LR_CONCRETE)
    generic = fresh.score(LR_Q, LR_BASE + "hyde: " + LR_GENERIC)
    assert fresh.score(LR_Q, LR_BASE + "hyde: " + LR_CONCRETE).deductions == good.deductions
    assert good.dimensions["hyde"] != generic.dimensions["hyde"]


def test_expansion_is_a_named_tuple_with_per_type_texts():
    assert issubclass(Expansion, tuple)
    assert {"lex", "vec", "hyde"} <= set(Expansion._fields)


def test_degenerate_line_is_kept_in_lines_but_not_in_texts():
    text = (
        "lex: sourdough starter\n"
        "vec: how often should I feed a sourdough starter\n"
        "hyde: The Anererererer......\n"
        "hyde: Feed the sourdough starter twice a day."
    )
    exp = parse_expansion(text, SOUR_Q)
    assert exp.lex == ("sourdough starter",) == exp.of_type("lex")
    assert exp.vec == ("how often should I feed a sourdough starter",) == exp.of_type("vec")
    assert exp.hyde == ("Feed the sourdough starter twice a day.",) == exp.of_type("hyde")
    babble = [line for line in exp.lines if line.text == "The Anererererer......"]
    assert len(babble) == 1 and LineIssue.DEGENERATE in babble[0].issues
    assert exp.degenerate == tuple(babble)
    assert all(LineIssue.DEGENERATE not in line.issues for line in exp.lines if line != babble[0])
    assert exp.of_type("other") == ()


# --- 8. query-dependent issues and the per-line cache ------------------------------------


def _issues(text, query):
    (line,) = parse_expansion(text, query).lines
    return line.issues


def test_no_query_term_does_not_leak_through_the_line_cache():
    assert _issues("lex: postgres vacuum", "postgres bloat") == ()
    assert _issues("lex: postgres vacuum", "kubernetes pods") == (LineIssue.NO_QUERY_TERM,)
    assert _issues("lex: postgres vacuum", "postgres bloat") == ()
    assert parse_expansion("lex: postgres vacuum", "kubernetes pods").lines[0].dropped


def test_no_query_term_adds_to_query_free_issues():
    # The text's own issue (unbalanced quotes) stays whatever the query.
    text = 'lex: "postgres vacuum'
    assert _issues(text, "postgres bloat") == (LineIssue.UNBALANCED_QUOTES,)
    assert set(_issues(text, "kubernetes pods")) == {
        LineIssue.UNBALANCED_QUOTES,
        LineIssue.NO_QUERY_TERM,
    }
    assert _issues(text, "postgres bloat") == (LineIssue.UNBALANCED_QUOTES,)


def test_query_without_ascii_terms_filters_nothing():
    assert _issues("lex: postgres vacuum", "如何配置") == ()


def test_scores_follow_the_query_not_the_cached_line(s):
    text = "lex: postgres vacuum\nvec: how do I reclaim space from bloated postgres tables"
    on_topic = s.score("postgres bloat", text)
    off_topic = s.score("kubernetes pods", text)
    assert not any("shares no term" in d for d in on_topic.deductions)
    assert any("shares no term" in d for d in off_topic.deductions)
    assert s.score("postgres bloat", text).deductions == on_topic.deductions


# --- 9. stuttered words and broken encodings ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the the handshake of of tcp is is like when when syn ack",
        "åŒ—äº¬æ•…å®«éœ€é€šè¿‡å®˜ç½‘æˆ–å¾®ä¿¡",  # UTF-8 Chinese read as cp1252
        "Ã©tÃ© Ã  Paris pour les vacances",
        "Paris opening hours \ufffd\ufffd for the museum",
    ],
)
def test_stuttered_words_and_mojibake_are_degenerate(text):
    assert checks.degenerate(text, "hyde") is not None


@pytest.mark.parametrize(
    "text",
    [
        "that that is the question, and it is fine to say it once",
        "Crème brûlée à la française, servie au café",
        "São Paulo: coração da ação cultural do Brasil",
        "Größe und Übersicht für die Straße",
        "l’été dernier, «bonjour» à tous",
        "北京故宫需通过官网预约门票",
    ],
)
def test_accented_and_cjk_text_is_not_mojibake(text):
    assert checks.degenerate(text, "hyde") is None


# --- 10. NER only where it can help ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mutex vs semaphore", False),  # all lowercase, no name cue: NER skipped
        ("logarithms rules properties", False),
        ("Meeting with Sarah", True),  # capitals
        ("jimi hendrix guitar tone", True),  # a known surname
        ("nasa artemis ii launch date", True),  # a roman numeral ends a name
    ],
)
def test_ner_runs_only_where_it_can_help(query, expected):
    from qmd_reward.detectors import _worth_ner

    assert _worth_ner(query) is expected


def test_lowercase_queries_get_no_ner_guesses():
    from qmd_reward.detectors import CombinedEntityDetector

    detect = CombinedEntityDetector().detect
    assert detect("mutex vs semaphore") == ()
    assert detect("utilitarianism ethics explained") == ()
    assert set(detect("jimi hendrix guitar tone")) == {"jimi hendrix"}


# --- 11. one foreign function word does not make a query foreign ---------------------------


@pytest.mark.parametrize(
    "query",
    ["build a treehouse", "los angeles traffic congestion", "leonardo da vinci", "el nino weather"],
)
def test_english_query_with_a_foreign_name_is_not_foreign(query):
    assert checks.language(query) in ("en", None)


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("cómo podar un limonero joven", "es"),
        ("rezept für apfelkuchen", "de"),
        ("receta de paella", "es"),
    ],
)
def test_foreign_queries_keep_their_language(query, lang):
    assert checks.language(query) == lang


def test_english_lines_for_a_name_query_are_not_drift(s):
    card = s.score(
        "build a treehouse",
        "lex: treehouse plans\nvec: how to build a treehouse in a backyard tree\n"
        "hyde: Bolt a platform to two 8-inch trunks with 1/2-inch lag bolts before framing walls.",
    )
    assert not any("language" in d for d in card.deductions)
