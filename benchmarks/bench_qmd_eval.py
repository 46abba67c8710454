"""A model as real QMD's expansion model against QMD with the raw query, on one corpus.

Run: python benchmarks/bench_qmd_eval.py --model MODEL.gguf [--corpus data/corpus]
[--workdir DIR] [--reuse]

Runs ``qmd-reward eval qmd`` twice (``--no-expand``, then ``--model``), timing each, then
prints ``eval compare`` between them on QMD's nDCG@10 and MRR (paired bootstrap interval),
and the Spearman correlation between our judge's score for each expansion and QMD's
retrieval gain for it (nDCG@10 expanded minus raw): the judge's external validity. The
correlation is printed over all queries and over those whose expansion QMD used (its
first BM25 probe can be strong enough that it skips expansion; then the gain is zero
whatever the expansion). ``--reuse`` reads results files already in the work folder.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.compare import compare_files, render_comparison
from evals.qmd_eval import run_eval
from evals.qmd_records import metric_of, spearman

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Records by query id (the _meta line left out)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {str(r["query_id"]): r for r in rows if not r.get("_meta")}


def timed_run(label: str, output: Path, model: str | None, corpus: Path, reuse: bool) -> None:
    if reuse and output.is_file():
        print(f"{label}: reusing {output}")
        return
    started = time.monotonic()
    run_eval(corpus, output, model=model, progress=True)
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{label}: {time.monotonic() - started:.0f} s wall (load average now {load_avg})")


def correlations(raw: dict[str, dict[str, Any]], expanded: dict[str, dict[str, Any]]) -> None:
    pairs: list[tuple[float, float, bool]] = []
    for qid, record in expanded.items():
        before, after = metric_of(raw.get(qid, {}), "ndcg@10"), metric_of(record, "ndcg@10")
        judge = record.get("judge", {}).get("score")
        if before is None or after is None or not isinstance(judge, int | float):
            continue
        pairs.append((float(judge), after - before, bool(record["qmd"].get("expansion_used"))))
    used = [p for p in pairs if p[2]]
    for name, chosen in (("all queries", pairs), ("expansion used by QMD", used)):
        rho = spearman([p[0] for p in chosen], [p[1] for p in chosen])
        shown = "undefined" if rho is None else f"{rho:+.3f}"
        helped = sum(1 for p in chosen if p[1] > 0)
        hurt = sum(1 for p in chosen if p[1] < 0)
        print(
            f"Spearman(judge score, nDCG@10 gain), {name}: {shown} over {len(chosen)} queries "
            f"({helped} helped, {hurt} hurt, {len(chosen) - helped - hurt} unchanged)"
        )
    if pairs:
        print(f"mean judge score: {sum(p[0] for p in pairs) / len(pairs):.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the expansion model (GGUF)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "qmd-eval")
    parser.add_argument("--reuse", action="store_true", help="reuse results already written")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    raw_file = args.workdir / "raw.jsonl"
    model_file = args.workdir / f"{Path(args.model).stem}.jsonl"
    timed_run("no expansion", raw_file, None, args.corpus, args.reuse)
    timed_run(Path(args.model).name, model_file, args.model, args.corpus, args.reuse)
    for metric in ("ndcg@10", "mrr"):
        out = io.StringIO()
        comparison = compare_files(str(raw_file), str(model_file), metric=metric)
        render_comparison(comparison, out, top=3, rich=False)
        print(f"\n== eval compare --metric {metric} (A: raw query, B: {args.model})")
        print(out.getvalue().rstrip())
    raw, expanded = load(raw_file), load(model_file)
    errors = sum(1 for r in [*raw.values(), *expanded.values()] if r.get("error"))
    print(f"\nrecords: raw {len(raw)}, expanded {len(expanded)}, with an error {errors}")
    skipped = sum(1 for r in expanded.values() if r.get("qmd", {}).get("strong_signal"))
    print(f"queries where QMD skipped expansion (strong BM25 signal): {skipped}")
    correlations(raw, expanded)


if __name__ == "__main__":
    main()
