"""The scorer and its score card: public API, card structure, /only: modes, the hard zero,
caching, batches, the retrieval dimension, and the line-comparison helpers."""

import gc
import json
import math
import subprocess
import sys

import pytest

import qmd_reward
from qmd_reward import RATING_NAMES, ScoreCard, Scorer, dimension_max, rating_for
from qmd_reward.facts import line_facts
from qmd_reward.scorer import copy, near_duplicate, repeats

from samples import GOOD

QUERY = "ssh key authentication"
NO_HYDE = "lex: ssh key login\nvec: how do I log in to a server with an ssh key"


# --- public API ----------------------------------------------------------------------------


def test_public_score_returns_a_json_ready_scorecard():
    card = qmd_reward.score(QUERY, GOOD)
    assert isinstance(card, ScoreCard)
    assert 0 <= card.score <= 1
    assert card.rating in RATING_NAMES and card.rating == rating_for(card.score)
    d = card.to_dict()
    assert set(d) >= {
        "score",
        "rating",
        "dimensions",
        "penalties",
        "deductions",
        "entities",
        "lines",
    }
    json.dumps(d)


def test_scorecard_is_immutable(scorer):
    card = scorer.score(QUERY, GOOD)
    with pytest.raises(AttributeError):
        card.score = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        card.dimensions["format"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        card.penalties["babble"] = 0.5  # type: ignore[index]


def test_entities_are_reported(scorer):
    assert "tds" in scorer.score("who is TDS motorsports", "lex: TDS").entities


def test_non_string_input_is_a_clear_error(scorer):
    with pytest.raises(TypeError, match="must be str"):
        scorer.score(QUERY, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be str"):
        scorer.score(3, GOOD)  # type: ignore[arg-type]


def test_importing_the_package_does_not_pull_torch():
    code = "import sys, qmd_reward, qmd_reward.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ratings_follow_the_score():
    scores = [1.0, 0.85, 0.7, 0.5, 0.3, 0.1, 0.0]
    ranks = [RATING_NAMES.index(rating_for(s)) for s in scores]
    assert ranks == sorted(ranks)
    assert rating_for(1.0) == RATING_NAMES[0] and rating_for(0.0) == RATING_NAMES[-1]


# --- the card's structure ------------------------------------------------------------------


def test_full_mode_has_the_three_types_and_format(scorer):
    card = scorer.score(QUERY, GOOD)
    assert set(card.dimensions) == {"lex", "vec", "hyde", "format"}
    assert card.only_mode is None
    assert card.max_points == sum(dimension_max(n, None) for n in card.dimensions)


def test_each_dimension_is_within_its_maximum(scorer):
    for text in (GOOD, NO_HYDE, "lex: ssh"):
        card = scorer.score(QUERY, text)
        for name, points in card.dimensions.items():
            assert 0 <= points <= dimension_max(name, card.only_mode)


def test_total_factor_and_score_fit_together(scorer):
    card = scorer.score(QUERY, GOOD + "\nSure!")
    assert card.total == pytest.approx(sum(card.dimensions.values()))
    assert card.penalties and card.factor == pytest.approx(math.prod(card.penalties.values()))
    assert card.score == pytest.approx(card.total / card.max_points * card.factor, abs=1e-6)


def test_lines_are_one_per_typed_line_in_order(scorer):
    card = scorer.score(QUERY, "Sure!\n" + GOOD)
    parsed = qmd_reward.parse_expansion(GOOD).lines
    assert [(kind, text) for kind, text, _ in card.lines] == [(ln.type, ln.text) for ln in parsed]
    assert all(0 <= value <= 1 for *_, value in card.lines)


def test_a_clean_expansion_has_no_penalties_and_a_factor_of_one(scorer):
    card = scorer.score(QUERY, GOOD)
    assert dict(card.penalties) == {} and card.factor == 1.0


def test_deductions_explain_penalties(scorer):
    card = scorer.score(QUERY, "<think>hm</think>\n" + GOOD)
    assert "think_block" in card.penalties
    assert any("think" in note for note in card.deductions)
    assert card.main_deduction == card.deductions[0]


def test_full_mode_wants_all_three_types(scorer):
    full = scorer.score(QUERY, GOOD)
    without_hyde = scorer.score(QUERY, "\n".join(GOOD.split("\n")[:-1]))
    assert without_hyde.score < full.score
    assert without_hyde.dimensions["hyde"] == 0
    assert any("No hyde line" in note for note in without_hyde.deductions)


@pytest.mark.parametrize("only", ["lex", "vec", "hyde"])
def test_an_only_query_scores_its_type_and_format(scorer, only):
    card = scorer.score(f"{QUERY} /only:{only}", GOOD)
    assert card.only_mode == only
    assert set(card.dimensions) == {only, "format"}
    assert card.max_points == dimension_max(only, only) + dimension_max("format", only)


def test_an_only_query_prefers_its_type_alone(scorer):
    lex_only = "lex: ssh key login\nlex: authorized_keys permissions"
    query = f"{QUERY} /only:lex"
    assert scorer.score(query, lex_only).score > scorer.score(query, GOOD).score


# --- the hard zero -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n", "Sure! Here you go.", "<think>lex: ssh</think>", "LEX: ssh keys", "<|im_end|>"],
)
def test_an_output_without_a_typed_line_is_the_hard_zero(scorer, text):
    card = scorer.score(QUERY, text)
    assert card.score == 0.0 and card.rating == "Failed"
    # every dimension is there, at zero: a training log's per-dimension means stay defined
    assert dict(card.dimensions) == dict.fromkeys(("lex", "vec", "hyde", "format"), 0.0)
    assert card.lines == ()
    assert card.deductions and "No lex:/vec:/hyde: line" in card.deductions[0]


def test_the_hard_zero_quotes_the_first_unreadable_line(scorer):
    assert "Sure!" in scorer.score(QUERY, "Sure!\nOK").deductions[0]


def test_a_single_readable_line_is_no_hard_zero(scorer):
    assert scorer.score(QUERY, "lex: ssh key login").score > 0


# --- caching and batches -------------------------------------------------------------------


def test_the_analysis_of_a_query_is_cached(scorer):
    assert scorer.analyse(QUERY) is scorer.analyse(QUERY)


def test_an_evicted_query_scores_the_same_when_it_comes_back():
    small = Scorer(cache_size=1)
    first = small.score(QUERY, GOOD).to_dict()
    small.score("postgres index tuning", "lex: postgres btree index")
    assert QUERY not in small._queries
    assert small.score(QUERY, GOOD).to_dict() == first == Scorer().score(QUERY, GOOD).to_dict()


def test_batch_equals_one_by_one_without_shared_templates():
    pairs = [(QUERY, GOOD), ("auth", "lex: auth"), (QUERY, "vec: ssh keys"), (QUERY, GOOD)]
    batch = Scorer().score_batch(pairs)
    single = [Scorer().score(q, e) for q, e in pairs]
    assert [c.to_dict() for c in batch] == [c.to_dict() for c in single]


def test_an_empty_batch_is_empty(scorer):
    assert scorer.score_batch([]) == []


def test_relevant_documents_without_a_retrieval_judge_change_nothing(scorer):
    assert scorer.score(QUERY, GOOD, ["a.md"]) == scorer.score(QUERY, GOOD)
    assert scorer.score_batch([(QUERY, GOOD, ["a.md"])]) == [scorer.score(QUERY, GOOD)]


class _CollectorSpy:
    """An entity detector that records whether the cyclic collector runs while it is asked."""

    def __init__(self) -> None:
        self.enabled: list[bool] = []

    def detect_many(self, queries):
        self.enabled.append(gc.isenabled())
        return [() for _ in queries]


def test_collector_paused_while_scoring_and_restored_after():
    spy = _CollectorSpy()
    scorer = Scorer(entity_detector=spy)
    assert gc.isenabled()
    scorer.score_batch([(QUERY, GOOD), ("rotate tls certificate", GOOD)])
    scorer.score("kafka consumer lag", NO_HYDE)
    assert spy.enabled == [False, False]
    assert gc.isenabled()


def test_collector_left_off_when_the_caller_turned_it_off():
    gc.disable()
    try:
        Scorer(entity_detector=_CollectorSpy()).score(QUERY, GOOD)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_restored_when_scoring_raises():
    with pytest.raises(TypeError):
        Scorer(entity_detector=_CollectorSpy()).score_batch([(QUERY, None)])
    assert gc.isenabled()


# --- retrieval -----------------------------------------------------------------------------

NOTES = (
    ("garage", "The mechanic at the garage did the automobile brake repair for 340 euros."),
    ("bike", "Repair a bike puncture with a patch kit and tyre levers."),
    ("cost", "Car insurance cost went up again; compare quotes before renewal."),
)
CAR = "car repair cost"
FINDS = "lex: automobile brake repair\nvec: how much does a car repair cost"
BLIND = "lex: car insurance quotes\nvec: how much does a car repair cost"


@pytest.fixture(scope="module")
def judged():
    from qmd_reward.retrieval import BM25Index, Corpus, Document, RetrievalJudge

    corpus = Corpus(tuple(Document(doc_id, "", text) for doc_id, text in NOTES))
    return Scorer(retrieval=RetrievalJudge(BM25Index.build(corpus, use_cache=False)))


def test_relevant_documents_add_the_retrieval_dimension(judged):
    card = judged.score(CAR, FINDS, ["garage"])
    assert "retrieval" in card.dimensions
    assert card.max_points == judged.score(CAR, FINDS).max_points + dimension_max("retrieval", None)
    assert 0 < card.dimensions["retrieval"] <= dimension_max("retrieval", None)
    assert "retrieval" in card.extras


def test_without_relevant_documents_there_is_no_retrieval_dimension(judged):
    card = judged.score(CAR, FINDS)
    assert "retrieval" not in card.dimensions and not card.extras


def test_a_lex_line_that_finds_the_relevant_note_beats_one_that_does_not(judged):
    finds, blind = judged.score(CAR, FINDS, ["garage"]), judged.score(CAR, BLIND, ["garage"])
    assert finds.dimensions["retrieval"] > blind.dimensions["retrieval"]
    assert finds.score > blind.score


def test_a_blind_lex_line_is_charged(judged):
    assert "blind_line" in judged.score(CAR, BLIND, ["garage"]).penalties
    assert "blind_line" not in judged.score(CAR, FINDS, ["garage"]).penalties


# --- helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ssh key login", "login ssh keys"),
        ("ssh key login", "SSH  key login"),
        ("docker volumes", "docker volume"),
    ],
)
def test_near_duplicates(a, b):
    assert near_duplicate(a, b)


@pytest.mark.parametrize(
    ("a", "b"), [("ssh", "ssh key"), ("ssh key login", "ssh agent forwarding"), ("", "")]
)
def test_not_near_duplicates(a, b):
    assert not near_duplicate(a, b)


def test_copy_across_types():
    assert copy("how do I log in with a key", "How do I log in with a key?")
    assert not copy("how do I log in with a key", "Run ssh-keygen, then ssh-copy-id.")


def test_repeats_marks_the_later_line_and_the_vec_that_copies():
    parsed = qmd_reward.parse_expansion(
        "lex: ssh key login\nlex: login ssh keys\n"
        "hyde: How do I log in with a key?\nvec: how do I log in with a key"
    )
    assert repeats(parsed) == (None, "same", None, "other")


def test_skeleton_masks_the_query_words(scorer):
    q = scorer.analyse("docker volumes")

    def skeleton(line: str) -> str | None:
        return line_facts(q, "lex", line).skeleton

    assert skeleton("docker volumes notes and examples") == "* * notes and examples"
    assert skeleton("docker volumes permissions") is None  # one word of its own
    assert skeleton("named mounts and bind mounts") is None  # masks nothing
