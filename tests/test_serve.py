"""``qmd-reward serve`` on an ephemeral loopback port: the same scores as in process, 4xx
with a message for bad input, OpenRLHF's remote reward-model shape, and the remote client."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmd_reward import Scorer
from qmd_reward.prompts import user_message
from qmd_reward.remote import RemoteQMDReward, RemoteRewardError
from qmd_reward.serve import ScoreServer, make_server
from qmd_reward.service import Limits, split_sequence
from qmd_reward.trl import QMDReward

ROOT = Path(__file__).resolve().parents[1]
MAX_ITEMS = 64
MAX_BYTES = 64 * 1024


def pairs() -> list[tuple[str, str]]:
    """A few dozen (query, completion) pairs: both sides of judgement pairs, good and bad."""
    rows = [
        json.loads(line)
        for line in (ROOT / "benchmarks/judgements/holdout2.jsonl").read_text().splitlines()[:18]
    ]
    return [(row["query"], row[side]) for row in rows for side in ("better", "worse")]


def templated(query: str) -> str:
    """A Qwen3 prompt as the chat template renders it with thinking off."""
    return (
        f"<|im_start|>user\n{user_message(query)}<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )


@pytest.fixture(scope="module")
def server(scorer: Scorer) -> Iterator[ScoreServer]:
    reward = QMDReward(lambda: scorer, log_details=False)
    srv = make_server(reward, port=0, limits=Limits(max_bytes=MAX_BYTES, max_items=MAX_ITEMS))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def post(srv: ScoreServer, path: str, body: Any, raw: bool = False) -> tuple[int, Any]:
    data = body if raw else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(srv.url + path, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health(server):
    with urllib.request.urlopen(server.url + "/health", timeout=10) as response:
        body = json.loads(response.read())
    assert response.status == 200
    assert body["status"] == "ok" and body["max_items"] == MAX_ITEMS
    assert body["retrieval"] is False


def test_the_served_scores_are_the_in_process_scores(server):
    batch = pairs()
    status, body = post(
        server, "/score", {"items": [{"query": q, "completion": c} for q, c in batch]}
    )
    assert status == 200
    local = QMDReward(Scorer, log_details=False)
    expected = local(completions=[c for _, c in batch], query=[q for q, _ in batch])
    assert body["scores"] == expected
    cards = local.cards(None, [c for _, c in batch], query=[q for q, _ in batch])
    for summary, card in zip(body["cards"], cards, strict=True):
        assert card is not None
        assert summary["score"] == card.score and summary["rating"] == card.rating
        assert summary["dimensions"] == dict(card.dimensions)
        assert summary["deductions"] == list(card.deductions)


def test_prompts_and_chat_completions_are_read_as_trl_reads_them(server):
    query, completion = pairs()[0]
    items = [
        {"prompt": templated(query), "completion": completion},
        {"prompt": [{"role": "user", "content": user_message(query)}], "completion": completion},
        {"query": query, "completion": [{"role": "assistant", "content": completion}]},
    ]
    status, body = post(server, "/score", {"items": items})
    assert status == 200
    assert len(set(body["scores"])) == 1 and body["scores"][0] > 0


def test_an_empty_batch_is_an_empty_answer(server):
    assert post(server, "/score", {"items": []}) == (200, {"scores": [], "cards": []})


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b'{"items": "\xff"}', 400, "UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"things": []}', 400, "missing 'items'"),
        (b'{"items": {"query": "a"}}', 400, "a list"),
        (b'{"items": ["lex: a"]}', 400, "items[0]"),
        (b'{"items": [{"query": "a"}]}', 400, "completion"),
        (b'{"items": [{"completion": "lex: a"}]}', 400, "query"),
        (b'{"items": [{"query": 3, "completion": "lex: a"}]}', 400, "items[0].query"),
        (b'{"items": [{"query": "a", "completion": 7}]}', 400, "items[0].completion"),
        (b'{"query": "not a list"}', 400, "'query'"),  # to /get_reward
        (b"[" * 100_000 + b"]" * 100_000, 413, "bytes"),
    ],
)
def test_bad_input_gets_a_4xx_and_a_message(server, body, status, words):
    path = "/get_reward" if body.startswith(b'{"query"') else "/score"
    got, answer = post(server, path, body, raw=True)
    assert got == status
    assert words in answer["error"]


def test_too_many_items_is_413(server):
    items = [{"query": "a", "completion": "lex: b"}] * (MAX_ITEMS + 1)
    status, answer = post(server, "/score", {"items": items})
    assert status == 413 and str(MAX_ITEMS) in answer["error"]


def test_the_server_keeps_serving_after_bad_input(server):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    connection.putrequest("POST", "/score")  # no Content-Length
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 411 and "Content-Length" in json.loads(response.read())["error"]
    connection.close()
    assert post(server, "/nowhere", {})[0] == 404
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(server.url + "/score", timeout=10)
    assert caught.value.code == 405
    assert post(server, "/score", {"items": [{"query": "a", "completion": "lex: b"}]})[0] == 200


def test_openrlhf_remote_reward_model_shape(server):
    """OpenRLHF posts {"query": [prompt + response], "prompts": [prompt], "labels": [...]}
    and reads "rewards", "scores" and "extra_logs"."""
    batch = pairs()[:6]
    texts = [templated(q) + c + "<|im_end|>" for q, c in batch]
    payload = {"query": texts, "prompts": [templated(q) for q, _ in batch], "labels": [""] * 6}
    status, body = post(server, "/get_reward", payload)
    assert status == 200
    assert set(body) == {"rewards", "scores", "extra_logs"}
    local = QMDReward(Scorer, log_details=False)
    expected = local(completions=[c for _, c in batch], query=[q for q, _ in batch])
    assert body["rewards"] == body["scores"] == expected
    # without prompts the sequence is cut at its last assistant turn, to the same effect
    status, bare = post(server, "/get_reward", {"query": texts})
    assert status == 200 and bare["rewards"] == expected


def test_split_sequence():
    prompt = templated("ssh keys")
    assert split_sequence(prompt + "lex: ssh", prompt) == ("ssh keys", "lex: ssh")
    assert split_sequence(prompt + "lex: ssh", None) == ("ssh keys", "lex: ssh")
    assert split_sequence("ssh keys lex: ssh", "ssh keys ") == ("ssh keys", "lex: ssh")
    assert split_sequence("no prompt here", None) == (None, "no prompt here")


def test_the_remote_reward_is_the_local_reward(server):
    batch = pairs()[:12]
    prompts = [[{"role": "user", "content": user_message(q)}] for q, _ in batch]
    completions = [[{"role": "assistant", "content": c}] for _, c in batch]
    metrics: dict[str, float] = {}
    extra: dict[str, list[str]] = {}
    remote = RemoteQMDReward(server.url)
    got = remote(
        prompts=prompts,
        completions=[*completions, None],
        log_metric=metrics.__setitem__,
        log_extra=extra.__setitem__,
    )
    local = QMDReward(Scorer, log_details=False)
    assert got == local(prompts=prompts, completions=[*completions, None])
    assert got[-1] == 0.0
    assert {"qmd/lex", "qmd/format"} <= set(metrics)
    assert len(extra["qmd_deduction"]) == len(batch) + 1


def test_the_remote_reward_says_when_the_server_is_gone(server):
    remote = RemoteQMDReward("http://127.0.0.1:9", retries=1, backoff=0.01, timeout=5)
    with pytest.raises(RemoteRewardError, match="unreachable"):
        remote(completions=["lex: a"], query=["a"])
    too_big = RemoteQMDReward(server.url)
    with pytest.raises(RemoteRewardError, match="413"):
        too_big(completions=["lex: b"] * (MAX_ITEMS + 1), query=["a"] * (MAX_ITEMS + 1))


def test_retrieval_through_the_server_matches_in_process(scorer):
    reward = QMDReward.with_corpus(str(ROOT / "data/corpus"), embedder="none", log_details=False)
    rows = [
        json.loads(line)
        for line in (ROOT / "data/corpus/expansions.jsonl").read_text().splitlines()[:5]
    ]
    srv = make_server(reward, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        items = [
            {"query": r["query"], "completion": r["expansion"], "query_id": r["query_id"]}
            for r in rows
        ]
        status, body = post(srv, "/score", {"items": items})
    finally:
        srv.shutdown()
        srv.server_close()
    assert status == 200
    assert all("retrieval" in card["dimensions"] for card in body["cards"])
    fresh = QMDReward.with_corpus(str(ROOT / "data/corpus"), embedder="none", log_details=False)
    expected = fresh(
        completions=[r["expansion"] for r in rows],
        query=[r["query"] for r in rows],
        query_id=[r["query_id"] for r in rows],
    )
    assert body["scores"] == expected


def test_serve_is_a_command():
    from qmd_reward.cli import build_parser

    args = build_parser([]).parse_args(["serve", "--port", "0", "--max-items", "8"])
    assert args.port == 0 and args.max_items == 8 and args.host == "127.0.0.1"
