"""QMDReward as TRL calls it: shapes, junk, logging hooks, per-dimension rewards, pickling."""

from __future__ import annotations

import logging
import math
import pickle
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmd_reward import DIMENSIONS, Scorer, dimension_max
from qmd_reward.prompts import user_message
from qmd_reward.trl import DEDUCTION_COLUMN, QMDReward, completion_text, prompt_query

QUERY = "ssh key authentication"
GOOD = (
    "lex: ssh key login\n"
    'lex: "authorized_keys" permissions\n'
    "vec: how do I log in to a server with an ssh key instead of a password\n"
    "hyde: Run ssh-keygen -t ed25519, then ssh-copy-id user@host to install the public key."
)
TEMPLATED = (
    f"<|im_start|>user\n{user_message(QUERY)}<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n"
)
JUNK = [
    "",
    "\x00\x00\x00",
    "lex: " + "a" * 20_000,
    "<|im_start|>assistant\nlex: ssh<|im_end|>",
    "<think>let me think</think>\nlex: ssh key",
    "Sure! Here are some expansions:",
    "lex: \ud800 broken surrogate",
    None,
    42,
    [{"role": "assistant", "content": None}],
    [],
]


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def user_prompt(query: str = QUERY) -> list[dict[str, str]]:
    return [{"role": "user", "content": user_message(query)}]


class Recorder:
    """Stands in for TRL's log_metric / log_extra callbacks."""

    def __init__(self) -> None:
        self.metrics: dict[str, list[float]] = {}
        self.extra: dict[str, list] = {}

    def log_metric(self, name: str, value: float) -> None:
        self.metrics.setdefault(name, []).append(value)

    def log_extra(self, column: str, values: list) -> None:
        self.extra.setdefault(column, []).extend(values)


def test_importing_it_does_not_import_torch_or_trl():
    code = (
        "import sys, qmd_reward.trl; "
        "print(sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_name_for_trl_metrics():
    reward = QMDReward()
    assert reward.__name__ == "qmd"
    assert [f.__name__ for f in reward.per_dimension()] == [f"qmd_{n}" for n in DIMENSIONS]
    assert DIMENSIONS == ("lex", "vec", "hyde", "format", "retrieval")


def test_plain_text_matches_scorer(scorer: Scorer):
    reward = QMDReward()
    values = reward(prompts=[user_message(QUERY), TEMPLATED], completions=[GOOD, GOOD])
    assert values == [scorer.score(QUERY, GOOD).score] * 2


def test_conversational_matches_plain():
    reward = QMDReward()
    plain = reward(prompts=[user_message(QUERY)], completions=[GOOD])
    conversational = reward(prompts=[user_prompt()], completions=[chat(GOOD)])
    assert conversational == plain


def test_query_column_wins_over_the_prompt(scorer: Scorer):
    reward = QMDReward()
    values = reward(prompts=["unrelated prompt"], completions=[GOOD], query=[QUERY])
    assert values == [scorer.score(QUERY, GOOD).score]


def test_prompt_query_sees_through_markup():
    assert prompt_query(TEMPLATED) == QUERY
    assert prompt_query(user_prompt()) == QUERY
    system = [{"role": "system", "content": "be brief"}, *user_prompt()]
    assert prompt_query(system) == QUERY
    content_blocks = [{"role": "user", "content": [{"type": "text", "text": user_message(QUERY)}]}]
    assert prompt_query(content_blocks) == QUERY


def test_thinking_moved_out_by_a_parser_is_still_charged():
    parsed = [{"role": "assistant", "content": GOOD, "reasoning_content": "hmm, ssh"}]
    text = completion_text(parsed)
    assert text.startswith("<think>")
    reward = QMDReward()
    with_thinking = reward(prompts=[user_prompt()], completions=[parsed])[0]
    without = reward(prompts=[user_prompt()], completions=[chat(GOOD)])[0]
    assert with_thinking < without


def test_empty_think_block_of_the_prompt_is_not_charged():
    # Qwen3's template puts "<think>\n\n</think>\n\n" at the end of the prompt, not in the output.
    reward = QMDReward()
    assert reward(prompts=[TEMPLATED], completions=[GOOD]) == reward(
        prompts=[user_message(QUERY)], completions=[GOOD]
    )


def test_junk_gives_finite_floats_and_good_outranks_it():
    reward = QMDReward()
    completions = [GOOD, *JUNK]
    values = reward(prompts=[user_message(QUERY)] * len(completions), completions=completions)
    assert len(values) == len(completions)
    assert all(isinstance(v, float) and math.isfinite(v) for v in values)
    assert all(values[0] > v for v in values[1:])
    assert values[JUNK.index(None) + 1] == 0.0


def test_junk_prompts_and_missing_prompts_never_raise():
    reward = QMDReward()
    prompts = [None, 3, [], [{"role": "user"}], {"content": "x"}, "\x00"]
    values = reward(prompts=prompts, completions=[GOOD] * len(prompts))
    assert len(values) == len(prompts) and all(math.isfinite(v) for v in values)
    assert reward(prompts=None, completions=[GOOD]) == [0.0]
    assert reward(prompts=[], completions=[]) == []


class ExplodingScorer(Scorer):
    """Raises on any batch that holds a completion with 'boom' in it."""

    def score_batch(self, pairs):  # type: ignore[override]
        if any("boom" in pair[1] for pair in pairs):
            raise RuntimeError("scorer bug")
        return super().score_batch(pairs)


def test_a_scorer_error_zeroes_one_completion_and_logs_once(caplog):
    reward = QMDReward(ExplodingScorer)
    with caplog.at_level(logging.ERROR, logger="qmd_reward.trl"):
        values = reward(prompts=[QUERY] * 3, completions=[GOOD, "lex: boom", "lex: boom"])
        reward(prompts=[QUERY], completions=["lex: boom"])
    assert values[0] > 0 and values[1:] == [0.0, 0.0]
    assert sum("scorer bug" in r.getMessage() for r in caplog.records) == 1


SHARED = QMDReward()  # one scorer for every generated example: building one is not free


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_any_text_gives_a_score_in_range(completion, query):
    values = SHARED(prompts=[user_message(query)], completions=[completion])
    assert len(values) == 1 and 0.0 <= values[0] <= 1.0


def test_log_metric_and_log_extra_receive_batch_details(scorer: Scorer):
    reward = QMDReward()
    recorder = Recorder()
    no_hyde = "lex: ssh key login\nvec: how do I log in with an ssh key"
    completions = [GOOD, no_hyde, None]
    reward(
        prompts=[user_message(QUERY)] * 3,
        completions=completions,
        log_metric=recorder.log_metric,
        log_extra=recorder.log_extra,
        trainer_state=object(),
    )
    cards = [scorer.score(QUERY, GOOD), scorer.score(QUERY, no_hyde)]
    assert set(recorder.metrics) == {f"qmd/{n}" for n in ("lex", "vec", "hyde", "format")}
    for name in ("lex", "vec", "hyde", "format"):
        mean = sum(c.dimensions[name] for c in cards) / 2
        assert recorder.metrics[f"qmd/{name}"] == [pytest.approx(mean)]
    deductions = recorder.extra[DEDUCTION_COLUMN]
    assert len(deductions) == 3 and all(isinstance(d, str) for d in deductions)
    assert deductions[1] == cards[1].main_deduction


def test_no_logging_when_disabled():
    recorder = Recorder()
    QMDReward(log_details=False)(
        prompts=[QUERY], completions=[GOOD], log_metric=recorder.log_metric
    )
    assert recorder.metrics == {}


def test_per_dimension_rewards_agree_with_scorer(scorer: Scorer):
    reward = QMDReward()
    no_hyde = "lex: ssh key login\nvec: how do I log in with an ssh key"
    completions = [GOOD, no_hyde, GOOD + "\nSure!", "junk line", None]
    prompts = [user_message(QUERY)] * len(completions)
    for function in reward.per_dimension():
        values = function(prompts=prompts, completions=completions)
        for text, value in zip(completions, values, strict=True):
            if text is None:
                assert value == 0.0
                continue
            card = scorer.score(QUERY, text)
            if function.dimension == "retrieval":
                assert value is None  # no relevance information: the dimension does not apply
                continue
            points = card.dimensions.get(function.dimension, 0.0)
            expected = points / dimension_max(function.dimension, None) * card.factor
            assert value == pytest.approx(expected)
            assert 0.0 <= value <= 1.0


def test_per_dimension_rewards_of_a_penalised_completion_are_lower_in_every_dimension():
    functions = QMDReward().per_dimension(["lex", "vec", "hyde", "format"])
    clean, thinking = GOOD, "<think>hmm</think>\n" + GOOD
    for function in functions:
        good, worse = function(prompts=[QUERY] * 2, completions=[clean, thinking])
        assert worse < good, function.dimension


def test_per_dimension_rewards_of_types_an_only_query_does_not_want_are_none():
    functions = QMDReward().per_dimension()
    lex_only = "lex: ssh key login\nlex: authorized_keys permissions"
    values = {
        f.dimension: f(prompts=[f"{QUERY} /only:lex"], completions=[lex_only])[0] for f in functions
    }
    assert values["vec"] is None and values["hyde"] is None and values["retrieval"] is None
    assert 0.0 < values["lex"] <= 1.0 and 0.0 < values["format"] <= 1.0


def test_per_dimension_logging_goes_through_the_first_function_only():
    recorder = Recorder()
    functions = QMDReward(log_details=False).per_dimension(["format", "lex"])
    for function in functions:
        function(prompts=[QUERY], completions=[GOOD], log_extra=recorder.log_extra)
    assert len(recorder.extra[DEDUCTION_COLUMN]) == 1
    with pytest.raises(ValueError, match="unknown dimension"):
        QMDReward().per_dimension(["nope"])


def test_pickle_round_trip_gives_the_same_rewards():
    reward = QMDReward()
    functions = reward.per_dimension()
    prompts = [user_message(QUERY), user_message("who is TDS motorsports")]
    completions = [GOOD, "lex: TDS motorsports team\nvec: who runs TDS motorsports"]
    before = [reward(prompts=prompts, completions=completions)] + [
        f(prompts=prompts, completions=completions) for f in functions
    ]
    restored, restored_functions = pickle.loads(pickle.dumps((reward, functions)))
    after = [restored(prompts=prompts, completions=completions)] + [
        f(prompts=prompts, completions=completions) for f in restored_functions
    ]
    assert after == before
    # the per-dimension functions still share one scorer after unpickling
    assert all(f.parent is restored for f in restored_functions)


def test_relevant_docs_reach_the_scorer_as_relevant():
    seen: list = []

    class RetrievalScorer(Scorer):
        def __init__(self):
            super().__init__(retrieval=retrieval_scorer().retrieval)

        def score_batch(self, pairs):  # type: ignore[override]
            seen.extend(pair[2] if len(pair) > 2 else None for pair in pairs)
            return super().score_batch(pairs)

    reward = QMDReward(RetrievalScorer)
    reward(prompts=[QUERY, QUERY], completions=[GOOD, GOOD], relevant_docs=[["a.md"], None])
    assert seen == [["a.md"], None]
    # without a retrieval judge the columns change nothing
    plain = QMDReward()(prompts=[QUERY], completions=[GOOD])
    assert QMDReward()(prompts=[QUERY], completions=[GOOD], reference=["lex: x"]) == plain
    assert QMDReward()(prompts=[QUERY], completions=[GOOD], relevant_docs=[["a.md"]]) == plain


def retrieval_scorer() -> Scorer:
    """A scorer with a tiny BM25 judge (module-level so the reward stays picklable)."""
    from qmd_reward.retrieval import BM25Index, Corpus, Document, RetrievalJudge

    notes = (
        ("garage", "The mechanic at the garage did the automobile brake repair for 340 euros."),
        ("bike", "Repair a bike puncture with a patch kit and tyre levers."),
        ("cost", "Car insurance cost went up again; compare quotes before renewal."),
    )
    corpus = Corpus(tuple(Document(doc_id, "", text) for doc_id, text in notes))
    return Scorer(retrieval=RetrievalJudge(BM25Index.build(corpus, use_cache=False)))


def test_relevant_docs_column_adds_the_retrieval_dimension():
    reward = QMDReward(retrieval_scorer)
    recorder = Recorder()
    expansion = "lex: automobile brake repair\nvec: how much does a car repair cost"
    values = reward(
        prompts=["car repair cost"] * 2,
        completions=[expansion] * 2,
        relevant_docs=[["garage"], None],
        log_metric=recorder.log_metric,
    )
    assert all(0.0 <= v <= 1.0 for v in values)
    assert "qmd/retrieval" in recorder.metrics
    retrieval = next(f for f in reward.per_dimension() if f.dimension == "retrieval")
    with_docs, without = retrieval(
        prompts=["car repair cost"] * 2,
        completions=[expansion] * 2,
        relevant_docs=[["garage"], None],
    )
    assert without is None and 0.0 < with_docs <= 1.0
    assert (
        pickle.loads(pickle.dumps(reward))(
            prompts=["car repair cost"], completions=[expansion], relevant_docs=[["garage"]]
        )
        == values[:1]
    )


REFERENCES = [
    (
        "ssh key authentication",
        "lex: ssh keys\nvec: how to log in with ssh keys\n"
        "hyde: Run ssh-keygen, then ssh-copy-id user@host to install the public key.",
    ),
    (
        "sourdough starter feeding",
        "lex: sourdough starter\nvec: how to feed a sourdough starter\n"
        "hyde: Feed the starter equal weights of flour and water twice a day.",
    ),
]


def test_references_give_the_retrieval_dimension_against_pseudo_relevance():
    reward = QMDReward.with_references(REFERENCES)
    bridging = "lex: ssh-keygen ssh-copy-id public key\nvec: log in to a server with an ssh key"
    cards = reward.cards(["ssh key authentication"], [bridging], query=["ssh key authentication"])
    assert cards[0].dimensions["retrieval"] > 10  # the lex line finds the reference passage
    values = reward(prompts=["ssh key authentication"], completions=[bridging])
    assert values == pickle.loads(pickle.dumps(reward))(
        prompts=["ssh key authentication"], completions=[bridging]
    )


def test_grpo_uses_the_references_column_for_retrieval():
    datasets = pytest.importorskip("datasets")
    from trainers.config import RewardConfig
    from trainers.grpo import base_reward

    rows = datasets.Dataset.from_list([{"query": q, "reference": r} for q, r in REFERENCES])
    assert base_reward(RewardConfig(), rows).relevance is not None
    assert base_reward(RewardConfig(retrieval="none"), rows).relevance is None
