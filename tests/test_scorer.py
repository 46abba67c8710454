import dataclasses
import json
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import qmd_reward
from qmd_reward import ScoreCard, Scorer
from qmd_reward.rubric import echoes

from samples import GOOD

QUERY = "ssh key authentication"


def test_public_api_returns_scorecard():
    card = qmd_reward.score("auth", "lex: auth setup\nvec: how to set up authentication")
    assert isinstance(card, ScoreCard)
    assert 0 <= card.score <= 1
    assert card.rating in {"Excellent", "Good", "Acceptable", "Poor", "Failed"}
    d = card.to_dict()
    assert set(d) >= {"score", "rating", "dimensions", "deductions", "entities"}
    json.dumps(d)


def test_scorecard_is_immutable():
    card = qmd_reward.score(QUERY, GOOD)
    with pytest.raises(AttributeError):
        card.score = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        card.dimensions["format"] = 0  # type: ignore[index]


def test_entities_reported():
    assert "tds" in qmd_reward.score("who is TDS motorsports", "lex: TDS").entities


def test_non_string_input_is_a_clear_error():
    with pytest.raises(TypeError, match="must be str"):
        Scorer().score(QUERY, None)  # type: ignore[arg-type]


def test_import_does_not_pull_torch():
    code = "import sys, qmd_reward, qmd_reward.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_batch_equals_one_by_one():
    pairs = [(QUERY, GOOD), ("auth", "lex: auth"), (QUERY, "vec: ssh keys"), (QUERY, GOOD)]
    batch = Scorer().score_batch(pairs)
    single = [Scorer().score(q, e) for q, e in pairs]
    assert [c.to_dict() for c in batch] == [c.to_dict() for c in single]


# --- properties ----------------------------------------------------------------------------

line_kinds = st.sampled_from(["lex", "vec", "hyde"])
words = st.text(alphabet="abcdefghij klmnop\"-.'", min_size=0, max_size=30)
typed_line = st.builds(lambda k, t: f"{k}: {t}", line_kinds, words)
expansions = st.lists(typed_line, min_size=1, max_size=6).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.text(max_size=400))
def test_any_unicode_never_raises_and_is_bounded(query, expansion):
    card = Scorer().score(query, expansion)
    assert 0.0 <= card.score <= 1.0
    json.dumps(card.to_dict())


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), expansions)
def test_deterministic(query, expansion):
    assert Scorer().score(query, expansion) == Scorer().score(query, expansion)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["auth", QUERY, "Bob's C++ notes"]), expansions), max_size=8)
)
def test_batch_property(pairs):
    assert Scorer().score_batch(pairs) == [Scorer().score(q, e) for q, e in pairs]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([QUERY, "who is TDS motorsports", "auth"]), expansions, st.randoms())
def test_reordering_lines_of_a_type_keeps_score(query, expansion, rnd):
    lines = expansion.split("\n")
    by_type: dict[str, list[str]] = {}
    for line in lines:
        by_type.setdefault(line.split(":", 1)[0], []).append(line)
    for group in by_type.values():
        rnd.shuffle(group)
    shuffled = "\n".join(line for group in by_type.values() for line in group)
    # Group order changes too, which must not matter either.
    assert Scorer().score(query, shuffled).score == pytest.approx(
        Scorer().score(query, expansion).score
    )


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([QUERY, "auth"]),
    expansions,
    st.text(alphabet="abc xyz!?", min_size=1, max_size=20).filter(lambda t: t.strip()),
)
def test_unprefixed_line_sends_score_to_zero(query, expansion, junk):
    if junk.strip().lower() in {"assistant", "user", "system"}:
        return
    assert Scorer().score(query, expansion + "\n" + junk).score == 0.0


ENTITY_CASES = [
    ("meeting with Bob about C++", "bob"),
    ("who is TDS motorsports", "tds"),
    ("React hooks tutorial", "react"),
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(ENTITY_CASES),
    st.lists(
        st.sampled_from(
            [
                "Bob",
                "TDS",
                "React",
                "notes",
                "hooks",
                "C++",
                "meeting",
                "motorsports",
                "tutorial",
                "history",
                "how to use",
            ]
        ),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    st.lists(line_kinds, min_size=1, max_size=4),
)
def test_removing_an_entity_never_raises_score(case, vocab, kinds):
    query, entity = case
    lines = [
        f"{kind}: {' '.join(vocab[i % len(vocab) :] + vocab[: i % len(vocab)])}"
        for i, kind in enumerate(kinds)
    ]
    # A line that is the query give or take a few characters is capped as an echo (score
    # 0.1 when nothing else is said); taking the entity out of it ends the echo, so such
    # outputs are no baseline for this property ('lex: React hooks tutorial Bob' vs
    # 'lex: hooks tutorial Bob').
    assume(not any(echoes(line.split(":", 1)[1], query) for line in lines))
    text = "\n".join(lines)
    stripped = "\n".join(
        " ".join(w for w in line.split(" ") if w.lower() != entity) for line in lines
    )
    scorer = Scorer()
    assert scorer.score(query, stripped).score <= scorer.score(query, text).score + 1e-9


def test_cards_built_without_init_equal_constructed_ones():
    from types import MappingProxyType

    from qmd_reward.scorecard import NO_EXTRAS, new_card

    values = (0.5, "Good", MappingProxyType({"format": 30.0}), ("n",), ("e",), 30.0, None)
    built, made = new_card(*values, NO_EXTRAS), ScoreCard(*values, NO_EXTRAS)
    assert built == made and repr(built) == repr(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.score = 1.0


def test_query_memo_works_each_key_out_once_and_empties_when_full(monkeypatch):
    from qmd_reward import rubric

    q = Scorer().analyse("react hooks tutorial")
    asked: list[str] = []
    memo = rubric.Memo(lambda key, query: asked.append(key) or (key, query.text), q)
    assert memo["a"] == ("a", "react hooks tutorial") == memo["a"]
    assert asked == ["a"]
    monkeypatch.setattr(rubric, "MEMO_SIZE", 2)
    memo["b"], memo["c"]
    assert asked == ["a", "b", "c"] and set(memo) == {"c"}


def test_an_evicted_query_lets_go_of_what_it_learnt_about_lines():
    # A query and its memos refer to each other; eviction must not leave their contents to
    # the cyclic garbage collector.
    scorer = Scorer(cache_size=1)
    scorer.score("react hooks tutorial", GOOD)
    first = scorer.analyse("react hooks tutorial")
    assert first.memo and first.lex_memo and first.readings
    scorer.score("postgres index tuning", "lex: postgres index\nvec: tune postgres indexes")
    assert "react hooks tutorial" not in scorer._queries
    assert not first.memo and not first.lex_memo and not first.hyde_memo
    assert not first.pair_memo and not first.readings
    assert scorer.analyse("postgres index tuning").memo  # the kept query keeps its own
