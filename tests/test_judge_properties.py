"""Properties of the whole judge, over generated inputs: bounded, finite, deterministic, never
raising, batch-consistent, one hard zero, and strictly lower for each way an expansion is
made worse."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from qmd_reward import Scorer, kept_by_qmd, parse_expansion
from qmd_reward.textchecks import degenerate

from samples import GOOD

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)

QUERIES = [
    "ssh key authentication",
    "sourdough starter feeding schedule",
    "who is TDS motorsports",
    "svelte 5 runes",
    "wie installiere ich docker",
    "北京天气",
    "rust borrow checker error /only:lex",
]

GOOD_EXPANSIONS = [
    ("ssh key authentication", GOOD),
    (
        "sourdough starter feeding schedule",
        "lex: sourdough starter levain\n"
        'lex: "sourdough starter" hydration\n'
        "vec: how often should I feed a sourdough starter kept at room temperature\n"
        "hyde: Feed a sourdough starter twice a day with equal weights of flour and water at "
        "room temperature.",
    ),
    (
        "who is TDS motorsports",
        "lex: TDS motorsports team\n"
        "lex: TDS racing endurance\n"
        "vec: what is TDS motorsports and who runs the team\n"
        "hyde: TDS Motorsports is a racing team that competes in endurance events and builds "
        "race cars.",
    ),
    (
        "svelte 5 runes",
        "lex: svelte 5 runes $state\n"
        "lex: svelte runes $derived\n"
        "vec: how do runes replace reactive declarations in svelte 5\n"
        "hyde: Svelte 5 introduces runes such as $state and $derived, which replace let and "
        "$: reactivity.",
    ),
]

kinds = st.sampled_from(["lex", "vec", "hyde"])
vocabulary = st.sampled_from(
    "ssh key keys login server password sourdough starter flour water TDS motorsports svelte "
    'runes 5 the a how to do I with guide notes "quoted -not 北京 天气 docker unter'.split()
)
line_texts = st.lists(vocabulary, max_size=8).map(" ".join)
typed_lines = st.builds(lambda kind, text: f"{kind}: {text}", kinds, line_texts)
expansions = st.lists(typed_lines, min_size=1, max_size=6).map("\n".join)
good_pairs = st.sampled_from(GOOD_EXPANSIONS)


def score(query: str, expansion: str) -> float:
    return Scorer().score(query, expansion).score


# --- bounded, finite, deterministic, never raising -----------------------------------------


@SETTINGS
@given(st.sampled_from(QUERIES), expansions)
def test_score_is_in_the_unit_interval_finite_and_deterministic(scorer, query, expansion):
    card = scorer.score(query, expansion)
    assert 0.0 <= card.score <= 1.0 and math.isfinite(card.score)
    assert all(0.0 <= value <= 1.0 for *_, value in card.lines)
    assert all(0.0 < factor < 1.0 for factor in card.penalties.values())
    again = Scorer().score(query, expansion)  # a fresh scorer, empty caches
    assert again.to_dict() == card.to_dict() == scorer.score(query, expansion).to_dict()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60), st.text(max_size=300))
def test_any_unicode_text_never_raises(scorer, query, expansion):
    card = scorer.score(query, expansion)
    assert 0.0 <= card.score <= 1.0 and math.isfinite(card.score)
    json.dumps(card.to_dict())


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40), st.lists(st.text(max_size=120), max_size=4))
def test_any_unicode_typed_lines_never_raise(scorer, query, texts):
    expansion = "\n".join(
        f"{kind}: {text}" for kind, text in zip(["lex", "vec", "hyde"] * 2, texts)
    )
    assert 0.0 <= scorer.score(query, expansion).score <= 1.0


@SETTINGS
@given(st.sampled_from(QUERIES), st.lists(expansions, min_size=1, max_size=5))
def test_score_batch_equals_score_one_by_one_for_one_query(query, texts):
    batch = Scorer().score_batch([(query, text) for text in texts])
    single = [Scorer().score(query, text) for text in texts]
    assert [card.to_dict() for card in batch] == [card.to_dict() for card in single]


# --- templates across queries --------------------------------------------------------------

TWO_WORD_QUERIES = ["docker volumes", "sourdough starter", "ssh keys", "python asyncio"]
SKELETONS = [
    "lex: {q} notes examples",
    "vec: everything you need to know about {q} explained simply",
    "hyde: This is a sample passage that answers the question about {q} in detail.",
]


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(TWO_WORD_QUERIES), min_size=2, max_size=2, unique=True),
    st.lists(st.sampled_from(SKELETONS), min_size=1, max_size=3, unique=True),
)
def test_the_same_skeleton_for_different_queries_earns_nothing(scorer, queries, skeletons):
    texts = ["\n".join(s.format(q=q) for s in skeletons) for q in queries]
    for card in scorer.score_batch(list(zip(queries, texts))):
        assert "template" in card.penalties
        assert all(value == 0.0 for *_, value in card.lines)
    for query, text in zip(queries, texts):
        alone = scorer.score(query, text)
        assert "template" not in alone.penalties
        assert any(value > 0 for *_, value in alone.lines)


# --- the one hard zero ---------------------------------------------------------------------

untyped = st.text(max_size=200).filter(lambda t: not parse_expansion(t).lines)


@SETTINGS
@given(st.sampled_from(QUERIES), untyped)
def test_an_output_without_a_typed_line_scores_zero(scorer, query, text):
    card = scorer.score(query, text)
    assert card.score == 0.0 and card.rating == "Failed" and card.deductions


@SETTINGS
@given(st.sampled_from(QUERIES), expansions)
def test_an_output_with_a_usable_line_scores_above_zero(scorer, query, expansion):
    usable = [
        line
        for line in parse_expansion(expansion).lines
        if kept_by_qmd(line.text, query) and not degenerate(line.text, line.type)
    ]
    if usable:
        assert scorer.score(query, expansion).score > 0


# --- strictly lower for each way an expansion is made worse ---------------------------------

BABBLE = ["ererererer", "a a a a a", "xkcdqzrt bcdfgh", "åŒ—äº¬ å¤©æ°", "wow!!!!!!"]


@SETTINGS
@given(good_pairs, kinds, st.sampled_from(BABBLE))
def test_appending_a_babble_line_lowers_the_score(pair, kind, babble):
    query, good = pair
    worse = f"{good}\n{kind}: {query.split()[0]} {babble}"
    assert score(query, worse) < score(query, good)


@SETTINGS
@given(
    good_pairs,
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r<"),
        min_size=1,
        max_size=40,
    ).filter(lambda t: parse_expansion(t).invalid and not parse_expansion(t).lines),
)
def test_appending_an_unprefixed_line_lowers_the_score(pair, junk):
    query, good = pair
    assert score(query, f"{good}\n{junk}") < score(query, good)


@SETTINGS
@given(good_pairs, st.text(max_size=80).filter(lambda t: "</think>" not in t and "<|" not in t))
def test_a_think_block_lowers_the_score(pair, thought):
    query, good = pair
    assert score(query, f"<think>{thought}</think>\n{good}") < score(query, good)


@SETTINGS
@given(good_pairs, st.integers(min_value=0, max_value=3))
def test_appending_a_duplicate_of_a_line_lowers_the_score(pair, index):
    query, good = pair
    lines = good.split("\n")
    assert score(query, f"{good}\n{lines[index % len(lines)]}") < score(query, good)


@SETTINGS
@given(
    good_pairs,
    kinds,
    st.text(alphabet="bcfgjmpqvwxz yu", max_size=30),
)
def test_appending_a_line_qmd_drops_lowers_the_score(pair, kind, text):
    query, good = pair
    if kept_by_qmd(text, query):
        text = ""  # an empty line is dropped all the same
    assert score(query, f"{good}\n{kind}: {text}") < score(query, good)
