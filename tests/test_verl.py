"""The verl adapter, called exactly as verl's reward managers call a custom reward function
(verl itself is not installed)."""

from __future__ import annotations

import doctest
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qmd_reward import Scorer
from qmd_reward import verl as adapter
from qmd_reward.trl import QMDReward
from qmd_reward.verl import compute_score, compute_score_batch

ROOT = Path(__file__).resolve().parents[1]
QUERY = "ssh key authentication"
GOOD = (
    "lex: ssh key login\n"
    "vec: how do I log in to a server with an ssh key instead of a password\n"
    "hyde: Run ssh-keygen -t ed25519, then ssh-copy-id user@host to install the public key."
)


def test_doctests():
    assert doctest.testmod(adapter).failed == 0


def test_called_as_the_naive_manager_calls_it():
    # verl's NaiveRewardManager: keyword arguments, extra_info a dict it has added to
    extra_info = {"query": QUERY, "index": 3, "num_turns": None, "rollout_reward_scores": {}}
    got = compute_score(
        data_source="qmd", solution_str=GOOD, ground_truth="", extra_info=extra_info
    )
    assert isinstance(got, float)
    assert got == Scorer().score(QUERY, GOOD).score
    # the query as the ground truth, and as a mapping's "query"
    assert compute_score(data_source="qmd", solution_str=GOOD, ground_truth=QUERY) == got
    assert compute_score("qmd", GOOD, {"query": QUERY}, None) == got


def test_called_as_the_batch_manager_calls_it():
    rows = [json.loads(line) for line in (ROOT / "data/examples.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "expansion" in r or "output" in r][:8]
    texts = [
        r["expansion"] if "expansion" in r else "\n".join(f"{t}: {x}" for t, x in r["output"])
        for r in rows
    ]
    queries = [r["query"] for r in rows]
    got = compute_score_batch(
        data_sources=np.array(["qmd"] * len(rows), dtype=object),
        solution_strs=texts,
        ground_truths=queries,
        extra_infos=[{"rollout_reward_scores": {}} for _ in rows],
    )
    assert got == QMDReward(Scorer, log_details=False)(completions=texts, query=queries)


def test_it_never_raises():
    junk = [None, 42, "", "\x00", "<think>x</think>", ["not", "text"]]
    for text in junk:
        value = compute_score("qmd", text, QUERY)
        assert value == 0.0
    assert compute_score("qmd", GOOD, None, None) == 0.0  # no query anywhere
    assert compute_score("qmd", GOOD, 17, "not a dict") == 0.0
    assert compute_score_batch(["qmd"], [GOOD], [QUERY], [None], corpus="no/such/dir") == [0.0]


def test_reward_kwargs_add_retrieval():
    rows = [
        json.loads(line)
        for line in (ROOT / "data/corpus/expansions.jsonl").read_text().splitlines()[:4]
    ]
    kwargs = {"corpus": str(ROOT / "data/corpus"), "embedder": "none"}
    plain = compute_score_batch(
        ["qmd"] * 4, [r["expansion"] for r in rows], [r["query"] for r in rows], None
    )
    judged = compute_score_batch(
        ["qmd"] * 4,
        [r["expansion"] for r in rows],
        [r["query"] for r in rows],
        [{"query_id": r["query_id"], "relevant_docs": None} for r in rows],
        **kwargs,
    )
    assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in judged)
    assert judged != plain  # the retrieval dimension took part


def test_threads_get_the_sequential_scores():
    # verl's reward loop runs compute_score in an executor's threads
    texts = [GOOD, "lex: ssh", "vec: how to use ssh keys", GOOD + "\nlex: ed25519"] * 4
    expected = [compute_score("qmd", t, QUERY) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: compute_score("qmd", t, QUERY), texts))
    assert got == expected
