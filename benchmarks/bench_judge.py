"""How well the scorer judges: pairwise accuracy, entity F1, broken-output scores, speed.

Run: python benchmarks/bench_judge.py [--show-misses]
Reads benchmarks/judgements/ (written for this project) and, when present,
../shared/anchor-data for the curated-data mean. Prints figures; asserts nothing.
"""

from __future__ import annotations

import glob
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from qmd_reward import Scorer
from qmd_reward.records import read_records

ROOT = Path(__file__).resolve().parents[1]
JUDGEMENTS = ROOT / "benchmarks" / "judgements"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (JUDGEMENTS / name).read_text().splitlines() if line]


def pairwise(scorer: Scorer, show: bool, name: str) -> None:
    pairs = load(name)
    better = scorer.score_batch([(p["query"], p["better"]) for p in pairs])
    worse = scorer.score_batch([(p["query"], p["worse"]) for p in pairs])
    per_mode: dict[str, list[bool]] = defaultdict(list)
    for pair, b, w in zip(pairs, better, worse, strict=True):
        right = b.score > w.score
        per_mode[pair["mode"]].append(right)
        if show and not right:
            print(
                f"  MISS {pair['id']} [{pair['mode']}] {pair['query']!r}: "
                f"better {b.score:.3f} <= worse {w.score:.3f}"
            )
            print(f"       worse: {w.deductions[:2]}\n       better: {b.deductions[:2]}")
    total = [r for rs in per_mode.values() for r in rs]
    print(f"pairwise accuracy on {name}: {sum(total) / len(total):.3f} ({sum(total)}/{len(total)})")
    for mode, rs in sorted(per_mode.items()):
        print(f"  {mode:<20} {sum(rs) / len(rs):.3f} ({sum(rs)}/{len(rs)})")
    degenerate = [w.score for p, w in zip(pairs, worse, strict=True) if p["mode"] == "degenerate"]
    print(
        f"  mean score of outputs with a degenerate line (worse side): "
        f"{statistics.fmean(degenerate):.3f}"
    )


def entities(scorer: Scorer) -> None:
    gold = load("entities.jsonl")
    found = scorer.entity_detector.detect_many([g["query"] for g in gold])
    tp = fp = fn = 0
    for g, f in zip(gold, found, strict=True):
        want, got = set(g["entities"]), set(f)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    p, r = tp / (tp + fp), tp / (tp + fn)
    print(
        f"entities ({scorer.entity_detector.name}): precision {p:.3f} recall {r:.3f} "
        f"F1 {2 * p * r / (p + r):.3f} on {len(gold)} queries"
    )


def broken(scorer: Scorer) -> None:
    records = [json.loads(x) for x in (ROOT / "data" / "examples.jsonl").read_text().splitlines()]
    cards = scorer.score_batch(
        [(r["query"], r["expansion"]) for r in records if r.get("label") == "broken"]
    )
    print(f"mean score of broken examples in data/: {statistics.fmean(c.score for c in cards):.3f}")
    outputs = load("broken.jsonl")
    cards = scorer.score_batch([(r["query"], r["expansion"]) for r in outputs])
    by_kind: dict[str, list[float]] = defaultdict(list)
    for record, card in zip(outputs, cards, strict=True):
        by_kind[record["kind"]].append(card.score)
    mean = statistics.fmean(c.score for c in cards)
    print(f"mean score of broken or degenerate outputs (broken.jsonl, {len(cards)}): {mean:.3f}")
    for kind, scores in sorted(by_kind.items()):
        print(f"  {kind:<22} mean {statistics.fmean(scores):.3f}  max {max(scores):.3f}")


def anchor() -> list[tuple[str, str]]:
    paths = sorted(glob.glob(str(ROOT.parent / "shared" / "anchor-data" / "*.jsonl")))
    pairs = [(r.query, r.expansion) for p in paths for r in read_records(p) if r.scorable]
    if pairs:
        mean = statistics.fmean(c.score for c in Scorer().score_batch(pairs))
        print(f"curated anchor data: mean {mean:.4f} over {len(pairs)} records")
    return pairs


def speed(pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        pairs = [(p["query"], p["better"]) for p in load("pairs.jsonl")]
    start = time.perf_counter()
    Scorer().score_batch(pairs)
    cold = time.perf_counter() - start
    print(f"unique queries (cold scorer, spaCy included): {len(pairs) / cold:,.0f} records/s")
    groups = [
        [(q, pairs[(i + 97 * k) % len(pairs)][1]) for k in range(8)]
        for i, (q, _) in enumerate(pairs)
    ]
    scorer = Scorer()
    scorer.score_batch([(g[0][0], "") for g in groups])  # queries analysed up front, as in GRPO
    start = time.perf_counter()
    for group in groups:
        scorer.score_batch(group)
    warm = time.perf_counter() - start
    print(
        f"GRPO-shaped batches (1 query x 8 completions): {8 * len(groups) / warm:,.0f} "
        "completions/s"
    )


def main() -> None:
    scorer = Scorer()
    show = "--show-misses" in sys.argv
    pairwise(scorer, show, "pairs.jsonl")  # in-sample: the rules were tuned on it
    pairwise(scorer, show, "holdout.jsonl")  # written blind, never used for tuning
    entities(scorer)
    broken(scorer)
    speed(anchor())


if __name__ == "__main__":
    main()
