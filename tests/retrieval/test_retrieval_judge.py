from __future__ import annotations

import pytest

from qmd_reward.retrieval import BM25Index, RetrievalJudge
from qmd_reward.retrieval.fusion import fuse
from qmd_reward.retrieval.judge import strong_signal
from qmd_reward.retrieval.metrics import ndcg, reciprocal_rank, retrieval_points

from retrieval_helpers import IndexFactory

NOTES = (
    ("car-cost", "Car insurance cost went up again; compare quotes before renewal."),
    ("garage", "The mechanic at the garage did the automobile brake repair for 340 euros."),
    ("snake", "A python snake can swallow prey whole; python species live in Asia."),
    ("code", "Python scripts: use a virtualenv and pin versions in requirements.txt."),
    ("bike", "Repair a bike puncture with a patch kit and tyre levers."),
    ("phrase-yes", "The public key is copied to the server."),
    ("phrase-no", "A key that is public; the server never sees it."),
)


@pytest.fixture
def judge(make_index: IndexFactory) -> RetrievalJudge:
    return RetrievalJudge(make_index(*NOTES))


def test_lex_line_bridging_a_vocabulary_gap_gains(judge: RetrievalJudge) -> None:
    # The query says "car"; the note about the repair says "automobile".
    result = judge.evaluate("car repair cost", ["automobile brakes repair"], ["garage"])
    assert result.rr_before == 0.0
    assert result.rank_after == 1
    assert result.points > 15
    assert result.lines[0].found == ("garage",)


def test_too_long_lex_line_gains_nothing(judge: RetrievalJudge) -> None:
    line = "car automobile repair mechanic garage brakes cost price euros invoice"
    result = judge.evaluate("car repair cost", [line], ["garage"])
    assert result.lines[0].matched == 0
    assert result.points == pytest.approx(10.0)
    assert result.rr_after == result.rr_before


def test_negation_removes_a_distractor(judge: RetrievalJudge) -> None:
    plain = judge.evaluate("python", [], ["code"])
    negated = judge.evaluate("python", ["python -snake"], ["code"])
    assert plain.rank_before == 2  # the snake note ranks first for the bare word
    assert "snake" not in judge.search("python -snake")
    assert negated.rank_after == 1
    assert negated.points > 10


def test_dropped_lines_do_not_count(judge: RetrievalJudge) -> None:
    # The line would find the note, but shares no term with the query, so QMD drops it.
    result = judge.evaluate("car repair cost", ["automobile brakes mechanic"], ["garage"])
    assert result.lines[0].dropped
    assert result.points == pytest.approx(10.0)
    assert result.rank_after is None


def test_quoted_phrase_needs_adjacency(judge: RetrievalJudge) -> None:
    quoted = judge.evaluate("public key", ['"public key"'], ["phrase-yes"])
    assert quoted.lines[0].matched == 1
    assert quoted.lines[0].found == ("phrase-yes",)
    distractor = judge.evaluate("public key", ['"public key"'], ["phrase-no"])
    assert distractor.lines[0].found == ()


def test_expansion_lines_are_searched_as_hybrid_query_searches_them(judge: RetrievalJudge) -> None:
    """QMD validates quotes only in queries a user types; an expansion's unclosed quote runs
    to the end of the line (buildFTS5Query), and only negations still match nothing."""
    result = judge.evaluate("python", ['"python', "-python"], ["code"])
    assert [line.error for line in result.lines] == [None, "only negated terms"]
    assert (
        result.lines[0].matched == judge.evaluate("python", ['"python"'], ["code"]).lines[0].matched
    )


def test_unknown_relevance_is_neutral(judge: RetrievalJudge) -> None:
    result = judge.evaluate("python", ["python scripts"], ["no-such-doc"])
    assert not result.judged
    assert result.points == 10.0
    assert result.lines[0].matched == 1


def test_relevance_as_mapping_ignores_zero_grades(judge: RetrievalJudge) -> None:
    result = judge.evaluate("python", [], {"snake": 0, "code": 2})
    assert result.rank_before == 2
    assert [(r.doc_id, r.grade, r.before, r.after) for r in result.relevant] == [("code", 2, 2, 2)]


def test_only_directive_is_not_searched(judge: RetrievalJudge) -> None:
    with_directive = judge.evaluate("python /only:lex", ["python scripts"], ["code"])
    without = judge.evaluate("python", ["python scripts"], ["code"])
    assert with_directive == without


def test_long_natural_query_matches_nothing_alone(judge: RetrievalJudge) -> None:
    result = judge.evaluate("how much does a car repair cost", ["car insurance"], ["car-cost"])
    assert result.raw_matched == 0
    assert result.rank_after == 1


def test_results_are_stable_across_calls(judge: RetrievalJudge) -> None:
    first = judge.evaluate("python", ["python -snake", "virtualenv python"], ["code"])
    assert judge.evaluate("python", ["python -snake", "virtualenv python"], ["code"]) == first


def test_fusion_weights_and_bonus() -> None:
    # raw: a then b; line: b alone. b gains the line's 1/61 and its first-place bonus.
    fused = fuse([(["a", "b"], 2.0), (["b"], 1.0)])
    assert fused == ["b", "a"]
    assert fuse([(["a", "b", "c"], 2.0)]) == ["a", "b", "c"]


def test_metrics() -> None:
    assert reciprocal_rank(["x", "y"], {"y": 1}) == 0.5
    assert ndcg(["y", "x"], {"y": 1}) == 1.0
    assert ndcg([], {"y": 1}) == 0.0
    assert retrieval_points(0.5, 0.5, 0.3, 0.3) == 10.0
    assert 19.8 < retrieval_points(0.0, 1.0, 0.0, 1.0) <= 20.0
    assert 0.0 <= retrieval_points(1.0, 0.0, 1.0, 0.0) < 0.2


def test_depth_limits_what_counts(make_index: IndexFactory) -> None:
    docs = [(f"d{i}", f"common unique{i}") for i in range(30)]
    long_note = "common " + " ".join(f"filler{i}" for i in range(50))
    index: BM25Index = make_index(*docs, ("target", long_note))
    shallow = RetrievalJudge(index, depth=5).evaluate("common", [], ["target"])
    assert shallow.rank_before is None


def test_strong_signal_matches_qmds_thresholds() -> None:
    import doctest

    from qmd_reward.retrieval import judge as judge_module

    assert doctest.testmod(judge_module).failed == 0
    # |bm25| / (1 + |bm25|): 0.85 needs a score of 5.67; the gap is taken after the mapping.
    assert strong_signal([5.7]) and not strong_signal([5.6])
    assert strong_signal([9.0, 2.9]) and not strong_signal([9.0, 3.1])  # 0.9 - 0.75 = 0.15
    assert not strong_signal([])


def test_a_strong_raw_query_is_not_expanded(make_index: IndexFactory) -> None:
    """QMD skips expansion when the raw query's top BM25 hit is strong and alone: whatever
    the lines would find, the ranking is the raw query's and no line is blind."""
    fillers = tuple(
        (f"filler-{i}", f"Filler note number {i} about nothing much.") for i in range(30)
    )
    judge = RetrievalJudge(make_index(*NOTES, *fillers))
    distracting = ["python species asia"]  # finds the snake note, not the garage
    strong = judge.evaluate("mechanic garage automobile", distracting, ["garage"])
    assert strong.skipped and strong.rank_before == strong.rank_after == 1
    assert strong.points == pytest.approx(10.0) and strong.blind == ()
    assert strong.lines[0].found == ()  # the line was still searched, for reports
    weak = judge.evaluate("python", ["python -snake"], ["code"])  # two notes match alike
    assert not weak.skipped and weak.rank_after == 1 and weak.points > 10
