"""Scoring speed: records per second on the anchor data, unique queries and GRPO-shaped batches.

Run: python benchmarks/bench_speed.py [FILES...]   (default: ../shared/anchor-data/*.jsonl,
falling back to data/*.jsonl). Prints figures; asserts nothing.
"""

from __future__ import annotations

import glob
import statistics
import sys
import time
from pathlib import Path

from qmd_reward import Scorer
from qmd_reward.records import read_records

ROOT = Path(__file__).resolve().parents[1]


def load_pairs(paths: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for path in paths:
        pairs += [(r.query, r.expansion) for r in read_records(path) if r.scorable]
    return pairs


def timed(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    paths = sys.argv[1:] or sorted(glob.glob(str(ROOT.parent / "shared/anchor-data/*.jsonl")))
    paths = paths or sorted(glob.glob(str(ROOT / "data/*.jsonl")))
    pairs = load_pairs(paths)
    print(f"records: {len(pairs)} from {len(paths)} file(s)")

    # Cold: a fresh scorer each time, so every query is new (entity pass included).
    cold = timed(lambda: Scorer().score_batch(pairs))
    print(f"unique queries, cold scorer : {len(pairs) / cold:10,.0f} records/s")

    # GRPO shape: one prompt, 8 different completions (its own and 7 others' outputs).
    groups = []
    for i, (query, _) in enumerate(pairs):
        groups.append([(query, pairs[(i + k * 97) % len(pairs)][1]) for k in range(8)])
    flat = [pair for group in groups for pair in group]

    def grpo() -> None:
        scorer = Scorer()
        for group in groups:
            scorer.score_batch(group)

    t = timed(grpo)
    print(f"GRPO batches (1 query x 8)  : {len(flat) / t:10,.0f} completions/s")
    scores = [c.score for c in Scorer().score_batch(pairs)]
    print(f"mean score                  : {statistics.fmean(scores):.4f}")


if __name__ == "__main__":
    main()
