"""The judge's two tables, rule by rule: every line rule and every penalty fires on a text
written to have its defect, stays quiet on one without it, and costs strictly. Also the
tables' contract, the gains, combined() and dimension_max()."""

import itertools

import pytest

from qmd_reward import DIMENSIONS, dimension_max
from qmd_reward.facts import line_facts
from qmd_reward.rules import (
    ALL,
    GAINS,
    LINE_RULES,
    MAX_LINES,
    PENALTIES,
    LineRule,
    combined,
    line_value,
    passage_size,
)

QA = "how to rotate a tls certificate"
QS = "sourdough starter feeding schedule"
QE = "who is TDS motorsports"
QD = "wie installiere ich docker"
QV = "svelte 5 runes"

HYDE_OK = (
    "Feed a sourdough starter twice a day with equal weights of flour and water at room "
    "temperature."
)

# The same words as HYDE_OK, said again at more length than a passage should have.
LONG_HYDE = HYDE_OK[:-1] + (
    ", and so on with the sourdough starter feeding schedule, with the flour and the water at "
    "room temperature, twice a day, each and every day."
)

# (rule name, line type, query, a line with the defect, the line without it)
LINE_CASES = [
    ("off_topic", "lex", QA, "nginx reload", "tls nginx reload"),
    (
        "off_topic",
        "vec",
        QA,
        "how do I reload nginx after a change",
        "how do I reload nginx after a tls change",
    ),
    (
        "off_topic",
        "hyde",
        QA,
        "Run certbot renew, then reload nginx so that it serves the new files.",
        "Run certbot renew, then reload nginx so that it serves the new tls certificate.",
    ),
    ("unanchored", "lex", QS, "feeding schedule chart", "sourdough feeding schedule chart"),
    (
        "unanchored",
        "vec",
        QS,
        "how often should I keep to a feeding schedule",
        "how often should I keep my sourdough to a feeding schedule",
    ),
    (
        "entity_unnamed",
        "hyde",
        QE,
        "The motorsports team races in endurance events at Le Mans and Daytona in prototypes.",
        "TDS Motorsports races in endurance events at Le Mans and Daytona in prototypes.",
    ),
    (
        "generic_unnamed",
        "hyde",
        QE,
        "The team is well known and it has a long history of racing in many events.",
        "TDS is well known and it has a long history of racing in many events.",
    ),
    ("drift", "lex", QD, "how to install docker", "docker installieren ubuntu"),
    (
        "drift",
        "vec",
        QD,
        "how do I install docker on ubuntu",
        "wie installiere ich docker unter ubuntu",
    ),
    (
        "drift",
        "hyde",
        QD,
        "Install docker on ubuntu with the apt package manager and then start the daemon.",
        "Installiere docker unter Ubuntu mit apt und starte dann den Dienst mit systemctl.",
    ),
    ("padding", "lex", QS, "sourdough starter levain guide", "sourdough starter levain"),
    (
        "many_terms",
        "lex",
        QS,
        "sourdough starter feeding schedule levain hydration",
        "sourdough starter levain hydration",
    ),
    ("question", "lex", QS, "sourdough starter levain?", "sourdough starter levain"),
    ("unbalanced_quote", "lex", QS, '"sourdough starter levain', '"sourdough starter" levain'),
    ("no_positive_term", "lex", QS, "-sourdough -yeast", "sourdough -yeast"),
    ("negates_query", "lex", QS, "sourdough levain -starter", "sourdough levain -yeast"),
    ("search_syntax", "lex", QS, "sourdough starter site:reddit.com", "sourdough starter reddit"),
    ("search_syntax", "lex", QS, "sourdough OR starter levain", "sourdough starter levain"),
    ("hyphen_chain", "lex", QS, "sourdough-starter-levain", "sourdough starter levain"),
    ("new_number", "lex", QS, "sourdough starter levain 2024", "sourdough starter levain"),
    ("unknown_word", "lex", QS, "sourdough starter levain flurbix", "sourdough starter levain"),
    ("reordered_phrase", "lex", QS, '"starter sourdough" levain', '"sourdough starter" levain'),
    ("stuffed", "lex", QS, "sourdough sourdough starter levain", "sourdough starter levain"),
    (
        "keyword_list",
        "vec",
        QS,
        "sourdough starter feeding ratio flour water",
        "how much flour and water should I feed a sourdough starter",
    ),
    (
        "restates_query",
        "vec",
        QS,
        "sourdough starter feeding schedule",
        "how often should I feed a sourdough starter",
    ),
    ("restates_query", "hyde", QS, "Sourdough starter feeding schedule.", HYDE_OK),
    (
        "keyword_list",
        "hyde",
        QS,
        "sourdough starter feeding ratio flour water twice daily room temperature",
        HYDE_OK,
    ),
    (
        "meta_talk",
        "vec",
        QS,
        "the user is asking how often to feed a sourdough starter",
        "how often should I feed a sourdough starter",
    ),
    (
        "meta_talk",
        "hyde",
        QS,
        "The user wants to know that you feed a sourdough starter twice a day with flour.",
        HYDE_OK,
    ),
    (
        "repeats",
        "hyde",
        QS,
        "Feed a sourdough starter flour, more flour, then flour again, and flour daily with water.",
        HYDE_OK,
    ),
    (
        "repeats",
        "vec",
        QS,
        "how often should I feed a sourdough starter flour, more flour, flour again, flour",
        "how often should I feed a sourdough starter flour and water daily",
    ),
    (
        "question",
        "hyde",
        QS,
        "How often should you feed a sourdough starter? And how much flour and water?",
        HYDE_OK,
    ),
    (
        "boilerplate",
        "hyde",
        QS,
        "This passage explains that you feed a sourdough starter twice a day with flour and water.",
        HYDE_OK,
    ),
    ("unfinished", "hyde", QS, HYDE_OK.rstrip("."), HYDE_OK),
    ("cut_badly", "hyde", QS, HYDE_OK.replace("temperature.", "temperat"), HYDE_OK),
    ("cut_badly", "hyde", QS, HYDE_OK.replace(" at room temperature.", " and"), HYDE_OK),
    (
        "vague",
        "vec",
        QS,
        "a detailed overview of how to feed a sourdough starter",
        "how often should I feed a sourdough starter",
    ),
    (
        "vague",
        "hyde",
        QS,
        "Feed a sourdough starter twice a day; the details and information vary by kitchen.",
        HYDE_OK,
    ),
]
LINE_IDS = [f"{name}-{kind}-{i}" for i, (name, kind, *_) in enumerate(LINE_CASES)]


def rule_for(name: str, kind: str) -> LineRule:
    (rule,) = [r for r in LINE_RULES if r.name == name and kind in r.kinds]
    return rule


@pytest.fixture
def judge_line(scorer):
    def judge(query: str, kind: str, text: str):
        q = scorer.analyse(query)
        f = line_facts(q, kind, text)
        return q, f, line_value(f, q)

    return judge


# --- the tables' contract ------------------------------------------------------------------


@pytest.mark.parametrize("rule", [*LINE_RULES, *PENALTIES], ids=lambda r: r.name)
def test_every_factor_is_strictly_between_zero_and_one(rule):
    assert 0 < rule.factor < 1


@pytest.mark.parametrize("rule", [*LINE_RULES, *PENALTIES], ids=lambda r: r.name)
def test_every_rule_has_a_name_a_message_and_a_function(rule):
    assert rule.name.isidentifier()
    assert isinstance(rule.message, str) and rule.message.strip()
    assert rule.message.replace("{hits}", "").count("{") == 0
    assert callable(rule.hits)


def test_line_rules_apply_to_known_line_types():
    for rule in LINE_RULES:
        assert rule.kinds and rule.kinds <= ALL


def test_a_line_type_has_at_most_one_rule_of_each_name():
    for kind in sorted(ALL):
        names = [r.name for r in LINE_RULES if kind in r.kinds]
        assert len(names) == len(set(names)), kind


def test_penalty_names_are_unique():
    names = [p.name for p in PENALTIES]
    assert len(names) == len(set(names))


def test_every_line_rule_has_cases():
    for rule in LINE_RULES:
        covered = {kind for name, kind, *_ in LINE_CASES if name == rule.name}
        assert rule.kinds <= covered, (rule.name, sorted(rule.kinds - covered))


# --- each line rule ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "query", "worse", "better"), LINE_CASES, ids=LINE_IDS)
def test_line_rule_fires_on_its_defect(judge_line, name, kind, query, worse, better):
    q, f, _ = judge_line(query, kind, worse)
    assert rule_for(name, kind).hits(f, q)


@pytest.mark.parametrize(("name", "kind", "query", "worse", "better"), LINE_CASES, ids=LINE_IDS)
def test_line_rule_is_quiet_without_its_defect(judge_line, name, kind, query, worse, better):
    q, f, _ = judge_line(query, kind, better)
    assert not rule_for(name, kind).hits(f, q)


@pytest.mark.parametrize(("name", "kind", "query", "worse", "better"), LINE_CASES, ids=LINE_IDS)
def test_line_rule_costs_strictly(judge_line, name, kind, query, worse, better):
    *_, worse_result = judge_line(query, kind, worse)
    *_, better_result = judge_line(query, kind, better)
    assert 0 < worse_result.value < better_result.value


@pytest.mark.parametrize(("name", "kind", "query", "worse", "better"), LINE_CASES, ids=LINE_IDS)
def test_line_rule_explains_itself_in_the_line_notes(judge_line, name, kind, query, worse, better):
    lead = rule_for(name, kind).message.split("{hits}")[0].rstrip(" ('")
    *_, result = judge_line(query, kind, worse)
    assert any(lead in note for _, note in result.notes)
    assert all(0 < cost < 1 for cost, _ in result.notes)


def test_a_line_without_defects_has_no_notes(judge_line):
    *_, result = judge_line(QS, "lex", "sourdough starter levain")
    assert result.notes == ()


def test_rules_do_not_apply_to_other_line_types(judge_line):
    # 'padding' is a lex rule: a vec with 'guide' in it is charged as vague, not padding.
    *_, result = judge_line(QS, "vec", "a guide to feeding a sourdough starter twice a day")
    lex_lead = rule_for("padding", "lex").message.split("{hits}")[0].rstrip(" (")
    assert not any(lex_lead in note for _, note in result.notes)


def test_drift_never_fires_for_an_english_query(judge_line):
    q, f, _ = judge_line(QS, "vec", "how often should I feed a sourdough starter")
    assert not rule_for("drift", "vec").hits(f, q)


def test_a_defect_said_twice_costs_more_than_once(judge_line):
    *_, once = judge_line(QS, "lex", "sourdough starter levain guide")
    *_, twice = judge_line(QS, "lex", "sourdough starter levain guide overview")
    assert twice.value < once.value


def test_a_passage_about_user_accounts_is_not_meta_talk(judge_line):
    q, f, _ = judge_line(
        "linux add user to group",
        "hyde",
        "Run usermod -aG docker alice to add a user to the docker group, then log in again.",
    )
    assert not rule_for("meta_talk", "hyde").hits(f, q)


# --- passages: length and anchoring --------------------------------------------------------


@pytest.mark.parametrize("text", ["Feed the sourdough starter daily.", LONG_HYDE])
def test_a_passage_of_the_wrong_length_costs_and_says_so(judge_line, text):
    *_, result = judge_line(QS, "hyde", text)
    *_, right = judge_line(QS, "hyde", HYDE_OK)
    assert result.value < right.value
    assert any("words (8 to 32" in note for _, note in result.notes)
    assert not any("words (8 to 32" in note for _, note in right.notes)


def test_passage_size_is_free_from_8_to_32_words():
    assert all(passage_size(n) == 1.0 for n in (8, 20, 32))


def test_passage_size_costs_smoothly_more_the_further_outside():
    short = [passage_size(n) for n in range(0, 9)]
    long = [passage_size(n) for n in range(32, 161, 8)]
    assert all(a < b for a, b in itertools.pairwise(short))
    assert all(a > b for a, b in itertools.pairwise(long))
    assert all(0 < size <= 1 for size in short + long)
    assert passage_size(7) > 0.9 and passage_size(33) > 0.95  # no step at the edges


def test_writing_it_for_a_long_word_does_not_make_a_passage_fit_better(judge_line):
    long = LONG_HYDE
    *_, before = judge_line(QS, "hyde", long)
    shorter = long.replace("sourdough", "it", 1)
    *_, after = judge_line(QS, "hyde", shorter)
    assert after.value < before.value


def test_a_passage_that_names_its_subject_again_instead_of_it_is_worth_more(judge_line):
    named = "Give a sourdough starter flour and water twice a day; the starter doubles in hours."
    *_, named_result = judge_line(QS, "hyde", named)
    *_, pronoun_result = judge_line(QS, "hyde", named.replace("the starter", "it"))
    assert named_result.value > pronoun_result.value


# --- lines QMD cannot use ------------------------------------------------------------------


def test_a_line_qmd_drops_is_worth_nothing(judge_line):
    *_, result = judge_line(QS, "lex", "bread flour hydration")
    assert result.value == 0.0 and result.notes


def test_a_babble_line_is_worth_nothing(judge_line):
    *_, result = judge_line(QS, "vec", "sourdough sourdough sourdough sourdough starter")
    assert result.value == 0.0 and result.notes


# --- gains ---------------------------------------------------------------------------------


def test_one_more_specific_word_scores_higher(judge_line):
    for kind, texts in {
        "lex": ["sourdough starter", "sourdough starter levain", "sourdough starter levain hooch"],
        "vec": [
            "how often should I feed a sourdough starter",
            "how often should I feed a sourdough starter levain",
            "how often should I feed a sourdough starter levain with rye",
        ],
        "hyde": [
            "Feed a sourdough starter twice a day with flour and water until it doubles.",
            "Feed a sourdough starter twice a day with rye flour and water until it doubles.",
            "Feed a sourdough levain twice a day with rye flour and water until it doubles.",
        ],
    }.items():
        values = [judge_line(QS, kind, text)[2].value for text in texts]
        assert values == sorted(values) and len(set(values)) == len(values), (kind, values)


@pytest.fixture
def blank_facts(scorer):
    """Facts of a line that adds nothing, for each type, to vary one field at a time."""
    q = scorer.analyse(QS)
    lines = {"lex": "sourdough starter", "vec": "sourdough starter", "hyde": "Sourdough starter."}
    return q, {
        kind: line_facts(q, kind, text)._replace(relaxes=0.0, phrase=False)
        for kind, text in lines.items()
    }


@pytest.mark.parametrize("kind", ["lex", "vec", "hyde"])
def test_gain_grows_strictly_with_specific_plain_and_alias_words(blank_facts, kind):
    q, facts = blank_facts
    f, gain = facts[kind], GAINS[kind]
    for field, values in {
        "specific": [tuple(f"w{i}" for i in range(n)) for n in range(6)],
        "common_weight": [0.0, 0.3, 0.6, 1.0, 2.0],
        "aliases": [0, 1, 2],
    }.items():
        gains = [gain.of(f._replace(**{field: v}), q) for v in values]
        assert all(a < b for a, b in itertools.pairwise(gains)), (field, gains)


@pytest.mark.parametrize("kind", ["vec", "hyde"])
def test_passage_gain_grows_with_numbers_up_to_its_cap(blank_facts, kind):
    q, facts = blank_facts
    f, gain = facts[kind], GAINS[kind]
    gains = [
        gain.of(f._replace(numbers=tuple(str(i) for i in range(n))), q)
        for n in range(gain.max_numbers + 1)
    ]
    assert all(a < b for a, b in itertools.pairwise(gains))


def test_lex_gain_grows_with_a_phrase_and_a_relaxation(blank_facts):
    q, facts = blank_facts
    f, gain = facts["lex"], GAINS["lex"]
    assert gain.of(f._replace(phrase=True), q) > gain.of(f, q)
    assert gain.of(f._replace(relaxes=0.8), q) > gain.of(f._replace(relaxes=0.4), q) > gain.of(f, q)


@pytest.mark.parametrize("kind", ["lex", "vec", "hyde"])
def test_a_line_that_adds_nothing_keeps_a_floor_and_no_line_reaches_one(blank_facts, kind):
    q, facts = blank_facts
    f, gain = facts[kind], GAINS[kind]
    assert 0 < gain.of(f, q) < 1
    rich = f._replace(specific=tuple(f"w{i}" for i in range(4)), common_weight=1.0)
    assert gain.of(f, q) < gain.of(rich, q) < 1


# --- combined ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lex", "vec", "hyde"])
def test_combined_of_one_line_is_its_value(kind):
    for v in (0.0, 0.3, 0.9):
        assert combined([v], kind) == pytest.approx(v)
    assert combined([], kind) == 0.0


@pytest.mark.parametrize("kind", ["lex", "vec"])
def test_combined_is_strictly_increasing_in_each_value(kind):
    base = [0.7, 0.4, 0.2]
    for i in range(len(base)):
        raised = list(base)
        raised[i] += 0.05
        assert combined(raised, kind) > combined(base, kind)


@pytest.mark.parametrize("kind", ["lex", "vec"])
def test_one_more_line_adds_with_diminishing_returns(kind):
    one, two, three = combined([0.6], kind), combined([0.6, 0.6], kind), combined([0.6] * 3, kind)
    assert one < two < three < 1
    assert two - one > three - two


@pytest.mark.parametrize("kind", ["lex", "vec"])
def test_combined_does_not_depend_on_order(kind):
    assert combined([0.2, 0.9, 0.5], kind) == pytest.approx(combined([0.9, 0.5, 0.2], kind))


# --- dimension_max -------------------------------------------------------------------------


def test_dimension_max_in_full_mode():
    for name in DIMENSIONS:
        assert dimension_max(name, None) > 0
    assert dimension_max("format", None) < min(
        dimension_max(k, None) for k in ("lex", "vec", "hyde")
    )


def test_full_mode_dimensions_make_up_the_card_total(scorer):
    card = scorer.score(QS, "lex: sourdough starter")
    assert sum(dimension_max(n, None) for n in ("lex", "vec", "hyde", "format")) == card.max_points


@pytest.mark.parametrize("only", ["lex", "vec", "hyde"])
def test_an_only_query_gives_its_type_nearly_everything(only):
    others = [k for k in ("lex", "vec", "hyde") if k != only]
    assert all(dimension_max(k, only) == 0 for k in others)
    assert dimension_max(only, only) > dimension_max(only, None)
    assert dimension_max(only, only) + dimension_max("format", only) == pytest.approx(
        sum(dimension_max(n, None) for n in ("lex", "vec", "hyde", "format"))
    )
    assert dimension_max("format", only) == dimension_max("format", None)
    assert dimension_max("retrieval", only) == dimension_max("retrieval", None) > 0


# --- each penalty --------------------------------------------------------------------------

GOOD_S = (
    "lex: sourdough starter levain\n"
    'lex: "sourdough starter" hydration\n'
    "vec: how often should I feed a sourdough starter kept at room temperature\n"
    f"hyde: {HYDE_OK}"
)
GOOD_A = (
    "lex: tls certificate rotation certbot\n"
    "lex: tls x509 renewal nginx\n"
    "vec: how do I replace an expiring tls certificate on a web server\n"
    "hyde: Rotate a TLS certificate by issuing a new one with certbot renew, then reload nginx."
)
GOOD_E = (
    "lex: TDS motorsports team\n"
    "lex: TDS racing endurance\n"
    "vec: what is TDS motorsports and who runs the team\n"
    "hyde: TDS Motorsports is a racing team that competes in endurance events and builds race cars."
)
GOOD_V = (
    "lex: svelte 5 runes $state\n"
    "lex: svelte runes $derived\n"
    "vec: how do runes replace reactive declarations in svelte 5\n"
    "hyde: Svelte 5 introduces runes such as $state and $derived, which replace $: reactivity."
)
ONLY_LEX = 'lex: sourdough starter levain\nlex: "sourdough starter" hydration'

# (penalty name, query, an expansion with the defect, the expansion without it)
PENALTY_CASES = [
    ("template_tokens", QS, GOOD_S.replace("\nvec:", "<|im_end|>\nvec:"), GOOD_S + "<|im_end|>"),
    ("think_block", QS, "<think>\nfeeding a starter\n</think>\n" + GOOD_S, GOOD_S),
    ("unprefixed", QS, GOOD_S + "\nSure, here are more searches:", GOOD_S + "\n\n"),
    ("dropped", QS, GOOD_S + "\nlex: bread flour hydration", GOOD_S),
    ("babble", QS, GOOD_S + "\nvec: sourdough sourdough sourdough sourdough starter", GOOD_S),
    ("off_topic", QA, GOOD_A + "\nvec: how do I reload nginx after a change", GOOD_A),
    (
        "extra_lines",
        QS,
        GOOD_S + "\nlex: sourdough discard crackers\nlex: starter hooch liquid",
        GOOD_S + "\nlex: sourdough discard crackers",
    ),
    ("repeated_line", QS, GOOD_S + "\nlex: levain sourdough starter", GOOD_S),
    ("missing_entity", QE, GOOD_E.replace("TDS ", ""), GOOD_E),
    ("dropped_version", QV, GOOD_V.replace(" 5", ""), GOOD_V),
    ("missing_term", QS, GOOD_S.replace("sourdough ", ""), GOOD_S),
    (
        "unwanted_type",
        QS + " /only:lex",
        ONLY_LEX + "\nvec: how often should I feed a sourdough starter",
        ONLY_LEX,
    ),
]
BATCH_ONLY_PENALTIES = {"template"}  # needs other queries: see test_template_penalty_*


def test_every_penalty_has_cases():
    covered = {name for name, *_ in PENALTY_CASES} | BATCH_ONLY_PENALTIES
    assert {p.name for p in PENALTIES} == covered


@pytest.mark.parametrize(("name", "query", "worse", "better"), PENALTY_CASES, ids=lambda v: v)
def test_penalty_fires_on_its_defect_and_only_there(scorer, name, query, worse, better):
    assert name in scorer.score(query, worse).penalties
    assert name not in scorer.score(query, better).penalties


@pytest.mark.parametrize(("name", "query", "worse", "better"), PENALTY_CASES, ids=lambda v: v)
def test_penalty_costs_strictly(scorer, name, query, worse, better):
    worse_card, better_card = scorer.score(query, worse), scorer.score(query, better)
    assert 0 < worse_card.score < better_card.score
    assert 0 < worse_card.penalties[name] < 1


@pytest.mark.parametrize(("name", "query", "worse", "better"), PENALTY_CASES, ids=lambda v: v)
def test_penalty_explains_itself(scorer, name, query, worse, better):
    (penalty,) = [p for p in PENALTIES if p.name == name]
    lead = penalty.message.split("{hits}")[0].rstrip(" :")
    assert any(lead in note for note in scorer.score(query, worse).deductions)


def test_a_clean_expansion_has_no_penalty(scorer):
    for query, text in [(QS, GOOD_S), (QE, GOOD_E), (QV, GOOD_V), (QS + " /only:lex", ONLY_LEX)]:
        assert dict(scorer.score(query, text).penalties) == {}, query


def test_each_type_allows_its_number_of_lines(scorer):
    for kind, most in MAX_LINES.items():
        lines = [f"{kind}: sourdough starter levain {word}" for word in ("rye", "spelt", "hooch")]
        at_most = "\n".join(lines[:most])
        one_more = "\n".join([*lines[:most], f"{kind}: sourdough starter levain discard"])
        assert "extra_lines" not in scorer.score(QS, at_most).penalties
        assert "extra_lines" in scorer.score(QS, one_more).penalties


def test_a_line_of_an_unwanted_type_earns_nothing(scorer):
    card = scorer.score(
        QS + " /only:lex", ONLY_LEX + "\nvec: how often should I feed a sourdough starter"
    )
    assert [value for kind, _, value in card.lines if kind == "vec"] == [0.0]


TEMPLATE_LINES = (
    "lex: {q} notes examples\n"
    "vec: everything you need to know about {q} explained simply\n"
    "hyde: This is a sample passage that answers the question about {q} in detail."
)


def test_template_penalty_fires_across_queries_in_a_batch(scorer):
    queries = ["docker volumes", "sourdough starter"]
    cards = scorer.score_batch([(q, TEMPLATE_LINES.format(q=q)) for q in queries])
    for card in cards:
        assert "template" in card.penalties
        assert all(value == 0.0 for *_, value in card.lines)


def test_template_penalty_needs_another_query(scorer):
    text = TEMPLATE_LINES.format(q="docker volumes")
    assert "template" not in scorer.score("docker volumes", text).penalties
    same_query = scorer.score_batch([("docker volumes", text)] * 2)
    assert all("template" not in card.penalties for card in same_query)
