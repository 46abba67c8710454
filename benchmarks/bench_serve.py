"""Load test of ``qmd-reward serve`` on loopback: requests per second and p50/p95 latency at
8, 64 and 256 completions per request.

Run: python benchmarks/bench_serve.py [--requests N]

The server runs in its own process, as it would beside a trainer. Each request is GRPO-shaped:
groups of one query with 8 completions (an expansion and seven edits of it, as
bench_judge.py's speed figure makes them), and every request's queries are new to the
server, as each GRPO step's prompts are. One client sends the requests one after another,
as a trainer does once per step. Expansions come from ../shared/anchor-data when present,
else benchmarks/judgements/holdout2.jsonl. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_judge import speed_pairs, variants  # noqa: E402

SIZES = (8, 64, 256)
GROUP = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "qmd_reward", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not come up within 120 s")


def requests_of(size: int, count: int, groups: list[list[tuple[str, str]]]) -> list[bytes]:
    """``count`` request bodies of ``size`` completions each, taking fresh groups in turn."""
    bodies = []
    for _ in range(count):
        chosen = [groups.pop() for _ in range(size // GROUP)]
        items = [{"query": q, "completion": c} for group in chosen for q, c in group]
        bodies.append(json.dumps({"items": items}).encode("utf-8"))
    return bodies


def post(url: str, body: bytes) -> float:
    request = urllib.request.Request(url, data=body, method="POST")
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per size")
    args = parser.parse_args()

    rng = random.Random(0)
    pairs = speed_pairs()
    rng.shuffle(pairs)
    groups = [[(q, v) for v in variants(q, e, rng)] for q, e in pairs]
    needed = sum(size // GROUP * (args.requests + 2) for size in SIZES)
    if needed > len(groups):
        print(f"(only {len(groups)} groups for {needed}: later requests repeat queries)")
        groups = (groups * (needed // len(groups) + 1))[:needed]
    groups.reverse()  # pop() takes them in shuffled order

    port = free_port()
    url = f"http://127.0.0.1:{port}/score"
    server = start_server(port)
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("completions requests   req/s  compl/s   p50 s   p95 s")
        for size in SIZES:
            bodies = requests_of(size, args.requests + 2, groups)
            for body in bodies[:2]:  # warm-up: not timed
                post(url, body)
            start = time.perf_counter()
            latencies = [post(url, body) for body in bodies[2:]]
            elapsed = time.perf_counter() - start
            rate = len(latencies) / elapsed
            print(
                f"{size:>11} {len(latencies):>8} {rate:>7.2f} {rate * size:>8.0f} "
                f"{statistics.median(latencies):>7.3f} {percentile(latencies, 0.95):>7.3f}"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
