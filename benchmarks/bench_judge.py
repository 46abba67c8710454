"""How well the judge judges, and how fast: every figure of docs/benchmarks.md.

Run: python benchmarks/bench_judge.py [--show-misses] [--skip-speed]
     python benchmarks/bench_judge.py --rate unique|grpo   (one speed figure, one process)

Reads benchmarks/judgements/ (written for this project), tests/directional_cases.jsonl,
data/corpus, and, when present, ../shared/anchor-data (the original project's curated data)
and ../shared/anchor-reward (its scorer, for a column beside ours). Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from directional import (  # noqa: E402
    ANCHOR_DATA,
    anchor_cases,
    original_scorer,
    print_directional,
    print_templates,
)

from evals.directional import TEMPLATES  # noqa: E402
from qmd_reward import Scorer, read_records  # noqa: E402

JUDGEMENTS = ROOT / "benchmarks" / "judgements"
SPEED_RUNS = 3


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --- judging ------------------------------------------------------------------------------


def pairwise(scorer: Scorer, name: str, show: bool) -> None:
    """Share of pairs whose better side scores strictly higher, per mode."""
    pairs = load(JUDGEMENTS / name)
    per_mode: dict[str, list[bool]] = defaultdict(list)
    for pair in pairs:
        better = scorer.score(pair["query"], pair["better"])
        worse = scorer.score(pair["query"], pair["worse"])
        right = better.score > worse.score
        per_mode[pair["mode"]].append(right)
        if show and not right:
            print(
                f"  MISS {pair['id']} [{pair['mode']}] {pair['query']!r}: "
                f"better {better.score:.3f} <= worse {worse.score:.3f}"
            )
    total = [r for rs in per_mode.values() for r in rs]
    print(f"pairwise accuracy, {name}: {sum(total) / len(total):.3f} ({sum(total)}/{len(total)})")
    misses = {mode: rs.count(False) for mode, rs in sorted(per_mode.items()) if False in rs}
    if misses:
        print(f"  misses by mode: {misses}")


def entities(scorer: Scorer, name: str, show: bool) -> None:
    gold = load(JUDGEMENTS / name)
    found = scorer.entity_detector.detect_many([g["query"] for g in gold])
    tp = fp = fn = 0
    for g, f in zip(gold, found):
        want, got = set(g["entities"]), set(f)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
        if show and want != got:
            print(f"  MISS {g['query']!r}: gold {sorted(want)} found {sorted(got)}")
    p, r = tp / (tp + fp), tp / (tp + fn)
    print(
        f"entities, {name}: precision {p:.3f} recall {r:.3f} F1 {2 * p * r / (p + r):.3f} "
        f"({len(gold)} queries)"
    )


def broken(scorer: Scorer) -> None:
    outputs = load(JUDGEMENTS / "broken.jsonl")
    cards = scorer.score_batch([(r["query"], r["expansion"]) for r in outputs])
    mean = statistics.fmean(c.score for c in cards)
    print(
        f"broken or degenerate outputs, broken.jsonl: mean {mean:.3f}"
        f" max {max(c.score for c in cards):.3f} ({len(cards)})"
    )
    examples = [r for r in read_records(str(ROOT / "data" / "examples.jsonl")) if r.scorable]
    labels = [
        json.loads(line).get("label")
        for line in (ROOT / "data" / "examples.jsonl").read_text().splitlines()
        if line
    ]
    by_label: dict[str, list[float]] = defaultdict(list)
    for record, label in zip(examples, labels):
        by_label[str(label)].append(scorer.score(record.query, record.expansion).score)
    print(
        "data/examples.jsonl by label: "
        + ", ".join(
            f"{label} mean {statistics.fmean(s):.3f} (min {min(s):.3f}, max {max(s):.3f})"
            for label, s in sorted(by_label.items())
        )
    )


def anchor(scorer: Scorer) -> list[tuple[str, str, float]]:
    """The curated data scored as the command line scores a file (in batches, so a line the
    same for many queries is a template), and the defects the judge finds in it."""
    rows = []
    for path in sorted(ANCHOR_DATA.glob("*.jsonl")):
        pairs = [(r.query, r.expansion) for r in read_records(str(path)) if r.scorable]
        for start in range(0, len(pairs), 256):
            batch = pairs[start : start + 256]
            for (query, text), card in zip(batch, scorer.score_batch(batch)):
                rows.append((path.name, query, text, card))
    if not rows:
        print("curated anchor data: not found")
        return []
    scores = [card.score for *_, card in rows]
    print(
        f"curated anchor data: mean {statistics.fmean(scores):.3f} over {len(rows)} records "
        f"({sum(s >= 0.6 for s in scores)} Good or better)"
    )
    defects = Counter(name for *_, card in rows for name in card.penalties)
    flagged = [
        r for r in rows if {"template", "dropped", "off_topic", "babble"} & set(r[3].penalties)
    ]
    print(
        f"  records with template lines, lines QMD drops, off-topic or babble lines: "
        f"{len(flagged)}; their penalties: {dict(defects.most_common(8))}"
    )
    sound = [r[3].score for r in rows if r not in flagged]
    print(f"  mean without them: {statistics.fmean(sound):.3f} over {len(sound)} records")
    for name in sorted({r[0] for r in rows}):
        mine = [r[3].score for r in rows if r[0] == name]
        bad = sum(1 for r in flagged if r[0] == name)
        print(
            f"  {name:<45} {len(mine):5} records, mean {statistics.fmean(mine):.3f}, "
            f"{bad} with those defects"
        )
    return [(query, text, card.score) for _, query, text, card in rows]


def templates_with_retrieval() -> None:
    """The templates against the reference expansions of data/corpus, retrieval judged the way
    QMD retrieves: BM25 for lex lines and, with the dense extra installed, vectors for the
    raw query and for vec and hyde lines."""
    from qmd_reward.retrieval import Corpus, RetrievalJudge

    corpus = Corpus.from_beir(ROOT / "data" / "corpus")
    for embedder in ("none", "auto"):
        judge = RetrievalJudge.for_corpus(corpus, embedder=embedder)
        if embedder == "auto" and not judge.dense:
            print("  (no dense extra installed: the hybrid figures are left out)")
            return
        _templates_against_references(
            Scorer(retrieval=judge), "BM25 and vectors" if judge.dense else "BM25 only"
        )


def _templates_against_references(scorer: Scorer, how: str) -> None:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (ROOT / "data" / "corpus" / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, grade = line.split("\t")
        qrels[query_id][doc_id] = int(grade)
    records = load(ROOT / "data" / "corpus" / "expansions.jsonl")
    batch = [(r["query"], r["expansion"], qrels[r["query_id"]]) for r in records]
    reference = [card.score for card in scorer.score_batch(batch)]
    print(
        f"with retrieval, {how} (data/corpus, {len(records)} queries): reference expansions "
        f"mean {statistics.fmean(reference):.3f}"
    )
    for template in TEMPLATES:
        pairs = [(r["query"], template.expand(r["query"]), qrels[r["query_id"]]) for r in records]
        scores = [card.score for card in scorer.score_batch(pairs)]
        ties = sum(s >= ref for s, ref in zip(scores, reference))
        print(
            f"  {template.name:<18} mean {statistics.fmean(scores):.3f}, "
            f"beats or ties the reference on {ties}/{len(records)}"
        )


def project_cases() -> list[tuple[str, str]]:
    cases = load(ROOT / "tests" / "directional_cases.jsonl")
    return [(c["query"], c["expansion"]) for c in cases]


def judging(show: bool) -> None:
    scorer = Scorer()
    for name in ("pairs.jsonl", "holdout.jsonl", "holdout2.jsonl", "blind_v2.jsonl"):
        pairwise(scorer, name, show)
    for name in ("entities.jsonl", "entities_holdout.jsonl", "entities_blind.jsonl"):
        entities(scorer, name, show)
    broken(scorer)
    rows = anchor(scorer)

    def score(query: str, expansion: str) -> float:
        return scorer.score(query, expansion).score

    cases = project_cases()
    print()
    print_templates(score, cases)
    print("  (over tests/directional_cases.jsonl)")
    templates_with_retrieval()
    if rows:
        good = {(q, t) for q, t, s in rows if s >= 0.6}
        anchor_set = anchor_cases()
        print()
        print_directional(score, anchor_set)
        print()
        print_directional(score, [c for c in anchor_set if (c.query, c.expansion) in good])
        print("  (the records above rated Good or better: damage to a sound expansion)")
        print()
        print_templates(score, [(c.query, c.expansion) for c in anchor_set])
        print_templates(
            score, [(c.query, c.expansion) for c in anchor_set if (c.query, c.expansion) in good]
        )
        print("  (the second table: records rated Good or better)")


# --- speed --------------------------------------------------------------------------------


def variants(query: str, expansion: str, rng: random.Random) -> list[str]:
    """Eight different completions of one prompt, as a sampling policy writes them: one
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


def speed_pairs() -> list[tuple[str, str]]:
    pairs = [(c.query, c.expansion) for c in anchor_cases()]
    return pairs or [(p["query"], p["better"]) for p in load(JUDGEMENTS / "holdout2.jsonl")]


def warm_up() -> None:
    """Load spaCy and wordfreq as a process that has been scoring a while has: score the
    judgement sets (texts disjoint from the measured ones)."""
    scorer = Scorer()
    for name in ("pairs.jsonl", "holdout.jsonl"):
        rows = load(JUDGEMENTS / name)
        scorer.score_batch([(p["query"], p[side]) for p in rows for side in ("better", "worse")])


def rate(which: str) -> float:
    """One speed figure, in a process that has never scored the measured texts."""
    warm_up()
    pairs = speed_pairs()
    gc.collect()  # garbage that loading left is not the scorer's
    if which == "unique":
        start = time.perf_counter()
        Scorer().score_batch(pairs)
        return len(pairs) / (time.perf_counter() - start)
    rng = random.Random(0)
    groups = [[(q, v) for v in variants(q, e, rng)] for q, e in pairs]
    scorer = Scorer()
    scorer.score_batch([(g[0][0], "") for g in groups])  # prompts' queries analysed, as in GRPO
    gc.collect()
    start = time.perf_counter()
    for group in groups:
        scorer.score_batch(group)
    return sum(map(len, groups)) / (time.perf_counter() - start)


def speed() -> None:
    labels = {
        "unique": "records/s, every query and line new (entity detection included)",
        "grpo": "completions/s, GRPO-shaped (1 query x 8 completions: one expansion, 7 edits)",
    }
    for which, label in labels.items():
        rates = []
        for _ in range(SPEED_RUNS):
            out = subprocess.run(
                [sys.executable, __file__, "--rate", which],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rates.append(float(out.strip()))
        print(
            f"speed: {statistics.median(rates):,.0f} {label} "
            f"(median of {SPEED_RUNS} processes; {min(rates):,.0f} to {max(rates):,.0f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="print every miss")
    parser.add_argument("--skip-speed", action="store_true", help="judging figures only")
    parser.add_argument("--rate", choices=("unique", "grpo"), help="one speed figure (internal)")
    args = parser.parse_args()
    if args.rate:
        print(f"{rate(args.rate):.1f}")
        return
    if original_scorer() is None:
        print("(the original scorer is not at ../shared/anchor-reward: its columns are empty)")
    judging(args.show_misses)
    if not args.skip_speed:
        print()
        speed()


if __name__ == "__main__":
    main()
