"""Directional benchmark on the curated anchor data: damage each expansion one way, count how
often the judge scores it strictly lower; and how query-independent templates fare.

Run: python benchmarks/directional.py [--limit N]
Reads ../shared/anchor-data/*.jsonl (relative to the repo root) and, when present, scores the
same texts with the original project's scorer (../shared/anchor-reward/reward.py, loaded at run
time) in a column beside ours. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals.directional import (  # noqa: E402
    OPERATORS,
    Case,
    directional_accuracy,
    is_only_mode,
    template_attack,
    words,
)

SHARED = ROOT.parent / "shared"
ANCHOR_DATA = SHARED / "anchor-data"
ANCHOR_REWARD = SHARED / "anchor-reward" / "reward.py"

Score = Callable[[str, str], float]


def _render(output: Sequence[Sequence[str]]) -> str:
    return "\n".join(f"{kind}: {text}" for kind, text in output)


def anchor_cases(limit: int | None = None) -> list[Case]:
    """The anchor data's full-mode records as cases, each paired with an unrelated record's
    expansion (no query word in common) as ``other``; empty when the data is absent.

    ``limit`` keeps an evenly spaced sample of that many cases.
    """
    records: list[tuple[str, str]] = []
    for path in sorted(ANCHOR_DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            query, output = record.get("query"), record.get("output")
            if not isinstance(query, str) or not output or is_only_mode(query):
                continue
            records.append((query, _render(output)))
    n = len(records)
    cases = []
    for i, (query, expansion) in enumerate(records):
        mine = set(words(query))
        other = None
        for step in range(n // 2, n // 2 + n):
            candidate_query, candidate = records[(i + step) % n]
            if (i + step) % n != i and not mine & set(words(candidate_query)):
                other = candidate
                break
        cases.append(Case(query, expansion, other, seed=i))
    if limit is not None and 0 < limit < len(cases):
        stride = len(cases) / limit
        cases = [cases[int(k * stride)] for k in range(limit)]
    return cases


def original_scorer() -> Score | None:
    """The original project's ``score_expansion``, loaded from ../shared at run time; None
    when that file is absent or fails to load."""
    if not ANCHOR_REWARD.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location("anchor_reward", ANCHOR_REWARD)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:  # a broken reference must not stop the benchmark
        print(f"(original scorer not loaded: {error})", file=sys.stderr)
        return None
    fn = getattr(module, "score_expansion", None)
    return fn if callable(fn) else None


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:6.1%}"


def print_directional(score: Score, cases: Sequence[Case]) -> None:
    """One row per operator: applicable records, share strictly lower with ``score``, and the
    same share with the original scorer when it is available."""
    cases = list(cases)
    ours = directional_accuracy(score, cases)
    original = original_scorer()
    theirs = directional_accuracy(original, cases) if original is not None else {}
    print(f"directional accuracy over {len(cases)} anchor records (share scored strictly lower)")
    print(f"  {'operator':<26} {'applicable':>10} {'ours':>7} {'original':>9}")
    ours_total = theirs_total = applied_total = 0
    for op in OPERATORS:
        mine = ours[op.name]
        other = theirs.get(op.name)
        print(
            f"  {op.name:<26} {mine.applicable:>10} {_share(mine.share):>7} "
            f"{_share(other.share if other else None):>9}"
        )
        applied_total += mine.applicable
        ours_total += mine.lower
        theirs_total += other.lower if other else 0
    if applied_total:
        print(
            f"  {'all operators':<26} {applied_total:>10} "
            f"{_share(ours_total / applied_total):>7} "
            f"{_share(theirs_total / applied_total if theirs else None):>9}"
        )


def print_templates(score: Score, pairs: Sequence[tuple[str, str]]) -> None:
    """Per template: mean score and share of queries losing to the curated expansion, for
    ``score`` and for the original scorer when available."""
    pairs = list(pairs)
    ours = template_attack(score, pairs)
    original = original_scorer()
    theirs = template_attack(original, pairs) if original is not None else {}
    count = next(iter(ours.values())).count if ours else 0
    print(f"template attack over {count} queries (mean score; share below the curated expansion)")
    print(f"  {'template':<18} {'ours mean':>9} {'below':>7} {'orig mean':>9} {'below':>7}")
    for name, mine in ours.items():
        other = theirs.get(name)
        print(
            f"  {name:<18} {mine.mean:>9.3f} {_share(mine.share_below):>7} "
            f"{(f'{other.mean:.3f}' if other else '-'):>9} "
            f"{_share(other.share_below if other else None):>7}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="an evenly spaced sample")
    args = parser.parse_args(argv)

    cases = anchor_cases(args.limit)
    if not cases:
        print(f"no anchor data at {ANCHOR_DATA}; nothing to benchmark")
        return 0

    import qmd_reward

    def score(query: str, expansion: str) -> float:
        return qmd_reward.score(query, expansion).score

    started = time.perf_counter()
    print_directional(score, cases)
    print()
    print_templates(score, [(c.query, c.expansion) for c in cases])
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
