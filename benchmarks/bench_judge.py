"""How well the scorer judges: pairwise accuracy, entity F1, broken-output scores, speed.

Run: python benchmarks/bench_judge.py [--show-misses]
Reads benchmarks/judgements/ (written for this project) and, when present,
../shared/anchor-data for the curated-data mean. Prints figures; asserts nothing.
"""

from __future__ import annotations

import gc
import glob
import importlib.machinery
import json
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from qmd_reward import Scorer
from qmd_reward.records import read_records

ROOT = Path(__file__).resolve().parents[1]
JUDGEMENTS = ROOT / "benchmarks" / "judgements"
SPEED_RUNS = 3


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


def entities(scorer: Scorer, show: bool, name: str) -> None:
    gold = load(name)
    found = scorer.entity_detector.detect_many([g["query"] for g in gold])
    tp = fp = fn = 0
    for g, f in zip(gold, found, strict=True):
        want, got = set(g["entities"]), set(f)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
        if show and want != got:
            print(f"  MISS {g['query']!r}: gold {sorted(want)} found {sorted(got)}")
    p, r = tp / (tp + fp), tp / (tp + fn)
    print(
        f"entities on {name} ({scorer.entity_detector.name}): precision {p:.3f} "
        f"recall {r:.3f} F1 {2 * p * r / (p + r):.3f} on {len(gold)} queries"
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


def anchor_pairs() -> list[tuple[str, str]]:
    paths = sorted(glob.glob(str(ROOT.parent / "shared" / "anchor-data" / "*.jsonl")))
    return [(r.query, r.expansion) for p in paths for r in read_records(p) if r.scorable]


def anchor_mean(pairs: list[tuple[str, str]]) -> None:
    if pairs:
        mean = statistics.fmean(c.score for c in Scorer().score_batch(pairs))
        print(f"curated anchor data: mean {mean:.4f} over {len(pairs)} records")


def variants(query: str, expansion: str, rng: random.Random) -> list[str]:
    """Eight different completions of one prompt, as a sampling policy produces them: one
    expansion and seven edits of it (lines dropped, reordered, cut short, reworded)."""
    lines = expansion.split("\n")
    found = [expansion]
    edits = [
        lambda ls: ls[:-1],
        lambda ls: [ls[i] for i in range(len(ls)) if i != rng.randrange(len(ls))],
        lambda ls: ls[1:] + ls[:1],
        lambda ls: [_cut(line, rng) if line.startswith("hyde:") else line for line in ls],
        lambda ls: [_drop_word(line, rng) if line.startswith("lex:") else line for line in ls],
        lambda ls: [f"vec: {query}" if line.startswith("vec:") else line for line in ls],
        lambda ls: list(reversed(ls)),
        lambda ls: [*ls, f"lex: {query}"],
        lambda ls: [_drop_word(line, rng) for line in ls],
    ]
    for edit in edits:
        text = "\n".join(edit(list(lines)))
        if text and text not in found:
            found.append(text)
        if len(found) == 8:
            break
    while len(found) < 8:  # very short expansions: add distinct extra lines
        found.append(f"{expansion}\nvec: {query} ({len(found)})")
    return found


def _cut(line: str, rng: random.Random) -> str:
    words = line.split()
    return " ".join(words[: max(2, int(len(words) * rng.uniform(0.4, 0.8)))])


def _drop_word(line: str, rng: random.Random) -> str:
    words = line.split()
    if len(words) <= 2:
        return line
    del words[rng.randrange(1, len(words))]
    return " ".join(words)


def settle() -> None:
    """Collect the garbage that loading data and building batches left, so that a full
    collection it would trigger is not billed to the scorer; garbage the scorer makes while
    timed is still collected (and counted) as usual."""
    gc.collect()


def grpo_rate(groups: list[list[tuple[str, str]]], scorer: Scorer | None = None) -> float:
    scorer = scorer or Scorer()
    scorer.score_batch([(g[0][0], "") for g in groups])  # queries analysed up front, as in GRPO
    settle()
    start = time.perf_counter()
    for group in groups:
        scorer.score_batch(group)
    return sum(map(len, groups)) / (time.perf_counter() - start)


def unique_rate(pairs: list[tuple[str, str]]) -> None:
    """Records none of whose queries or lines this process has seen: run before anything else
    scores them, so no cache of the scorer's modules helps."""
    settle()
    start = time.perf_counter()
    Scorer().score_batch(pairs)
    cold = time.perf_counter() - start
    print(
        f"unique queries and texts (new scorer, spaCy included): {len(pairs) / cold:,.0f} records/s"
    )


def speed(pairs: list[tuple[str, str]], others: list[tuple[str, str]]) -> None:
    """GRPO-shaped rates. ``pairs`` and ``others`` must be texts this process has not scored:
    a completion's lines are new to a training run too."""
    rng = random.Random(0)
    related = [[(q, v) for v in variants(q, e, rng)] for q, e in pairs]
    scorer = Scorer()
    fresh = grpo_rate(related, scorer)
    print(
        "GRPO-shaped batches (1 query x 8 different completions, edits of one expansion): "
        f"{fresh:,.0f} completions/s"
    )
    # The same completions again with the card cache emptied: every (query, line) pair is
    # known, so this is the cost of a completion apart from judging new lines.
    scorer._cards.clear()
    seen = grpo_rate(related, scorer)
    new_lines = len({(q, line) for g in related for q, v in g for line in v.split("\n")})
    per_completion = new_lines / sum(map(len, related))
    print(
        f"  same completions, lines already judged: {seen:,.0f} completions/s "
        f"({1e6 / seen:.0f} us each); new lines per completion {per_completion:.2f}, "
        f"about {(1e6 / fresh - 1e6 / seen) / per_completion:.0f} us each"
    )
    unrelated = [
        [(q, others[(i + 97 * k) % len(others)][1]) for k in range(8)]
        for i, (q, _) in enumerate(others)
    ]
    print(
        "  worst case (1 query x 8 expansions written for other queries, no line shared "
        f"inside a group): {grpo_rate(unrelated):,.0f} completions/s"
    )


def warm_up() -> None:
    """Load spaCy's model and wordfreq's tables, and see everyday words, as a process that has
    been scoring for a while has: score the judgement sets (texts disjoint from the anchor
    data)."""
    scorer = Scorer()
    for name in ("pairs.jsonl", "holdout.jsonl"):
        rows = load(name)
        scorer.score_batch([(p["query"], p[side]) for p in rows for side in ("better", "worse")])


def rate(which: str) -> None:
    """One speed figure, in a process of its own: every measured text is new to it."""
    warm_up()
    pairs = anchor_pairs() or [(p["query"], p["better"]) for p in load("holdout2.jsonl")]
    if which == "unique":
        unique_rate(pairs)
    else:
        speed(pairs[0::2], pairs[1::2])


def build() -> str:
    """Which build of the scorer this process runs: modules compiled by setup.py, or none."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    loaded = {n: str(getattr(m, "__file__", "")) for n, m in sys.modules.items()}
    compiled = sorted(
        name.removeprefix("qmd_reward.")
        for name, path in loaded.items()
        if name.startswith("qmd_reward.") and path.endswith(suffixes)
    )
    return f"compiled by mypyc ({', '.join(compiled)})" if compiled else "plain Python"


def main() -> None:
    if "--rate" in sys.argv:
        rate(sys.argv[sys.argv.index("--rate") + 1])
        return
    scorer = Scorer()
    show = "--show-misses" in sys.argv
    pairwise(scorer, show, "pairs.jsonl")  # in-sample: the rules were tuned on it
    pairwise(scorer, show, "holdout.jsonl")  # written blind; see the README for its use
    pairwise(scorer, show, "holdout2.jsonl")  # written blind; see the README for its use
    entities(scorer, show, "entities.jsonl")  # in-sample
    entities(scorer, show, "entities_holdout.jsonl")  # written blind; never tuned on
    broken(scorer)
    anchor_mean(anchor_pairs())
    # Speed on texts the measuring process has never scored, each figure in a fresh process;
    # several processes, since one run on a shared machine varies by about a tenth.
    print(f"scorer build: {build()}")
    for which in ("unique", "grpo"):
        rates = []
        for _ in range(SPEED_RUNS):
            out = subprocess.run(
                [sys.executable, __file__, "--rate", which],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            print(out, end="")
            rates.append(float(out.split(": ", 1)[1].split()[0].replace(",", "")))
        print(
            f"  {which}: median {statistics.median(rates):,.0f}/s over {SPEED_RUNS} processes "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
        )


if __name__ == "__main__":
    main()
