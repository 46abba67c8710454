"""The GRPO-shaped scoring loop of ``bench_judge.py`` on its own, for counting its instructions.

Completions per second on a shared machine move by 10-15 % from one run to the next, more than
most single speed changes are worth; the number of CPU instructions the loop runs does not.
Count them with valgrind's callgrind, collecting only inside ``sys.call_tracing``, which this
script wraps around the loop (nothing else calls it):

    PYTHONHASHSEED=0 valgrind --tool=callgrind --toggle-collect=sys_call_tracing \\
        --callgrind-out-file=/dev/null python benchmarks/count_instructions.py --every 4

valgrind ends with ``Collected : <instructions>``. Compare two versions of the code with the
same ``--every`` (one anchor query in N, default 4) and the same hash seed, each installed the
same way: it counts the code as installed, compiled by setup.py unless the install was run with
QMD_REWARD_PURE_PYTHON=1. Loading spaCy under
valgrind takes a few minutes; the loop itself about one.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_judge as bench

from qmd_reward import Scorer


def main() -> None:
    every = int(sys.argv[sys.argv.index("--every") + 1]) if "--every" in sys.argv else 4
    bench.warm_up()
    pairs = bench.anchor_pairs()
    if not pairs:  # no anchor data: the blind holdout's better expansions
        pairs = [(p["query"], p["better"]) for p in bench.load("holdout2.jsonl")]
    rng = random.Random(0)
    groups = [[(q, v) for v in bench.variants(q, e, rng)] for q, e in pairs[0::2][::every]]
    scorer = Scorer()
    scorer.score_batch([(group[0][0], "") for group in groups])  # queries analysed up front
    bench.settle()

    def loop() -> None:
        for group in groups:
            scorer.score_batch(group)

    sys.call_tracing(loop, ())
    print(f"scored {sum(map(len, groups))} completions in {len(groups)} groups")


if __name__ == "__main__":
    main()
