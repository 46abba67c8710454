import argparse
import io
import random

import pytest

from evals import cli
from evals.compare import bootstrap_ci, compare_files, percentile, render_comparison

from samples import GOOD

# Query -> score in A and in B (FixedScorer reads the score from the expansion).
A = {"q1": 0.50, "q2": 0.80, "q3": 0.60, "q4": 0.90, "q5": 0.40, "only-a": 0.3}
B = {"q1": 0.70, "q2": 0.60, "q3": 0.60, "q4": 1.00, "q5": 0.75, "only-b": 0.9}
DELTAS = {"q1": 0.20, "q2": -0.20, "q3": 0.0, "q4": 0.10, "q5": 0.35}


def files(jsonl):
    a = jsonl(
        "a.jsonl",
        [{"_meta": True, "model": "model-a"}]
        + [{"query": q, "expansion": f"score={s}"} for q, s in A.items()],
    )
    b = jsonl("b.jsonl", [{"query": q, "expansion": f"score={s}"} for q, s in B.items()])
    return a, b


def test_paired_deltas_counts_and_ci(jsonl, fixed_scorer):
    a, b = files(jsonl)
    comp = compare_files(str(a), str(b), seed=7, scorer=fixed_scorer)
    assert {p.query: p.delta for p in comp.pairs} == pytest.approx(DELTAS)
    assert comp.mean_delta == pytest.approx(sum(DELTAS.values()) / 5)  # 0.09
    assert (comp.wins, comp.losses, comp.ties) == (3, 1, 1)
    low, high = comp.ci
    assert low <= comp.mean_delta <= high
    assert min(DELTAS.values()) <= low < high <= max(DELTAS.values())
    assert comp.only_a == ["only-a"] and comp.only_b == ["only-b"]
    assert comp.a.label == "model-a" and comp.b.label == str(b)
    assert [p.query for p in comp.regressions(5)] == ["q2"]
    assert [p.query for p in comp.improvements(2)] == ["q5", "q1"]
    # The same seed gives the same interval: reports can be reproduced.
    assert compare_files(str(a), str(b), seed=7, scorer=fixed_scorer).ci == comp.ci


def test_repeated_queries_are_averaged(jsonl, fixed_scorer):
    a = jsonl("a.jsonl", [{"query": "q", "expansion": "score=0.2"}] * 1)
    b = jsonl(
        "b.jsonl",
        [{"query": "q", "expansion": "score=0.4"}, {"query": "q", "expansion": "score=0.8"}],
    )
    comp = compare_files(str(a), str(b), scorer=fixed_scorer)
    assert comp.pairs[0].delta == pytest.approx(0.4)
    assert comp.b.repeated == 1


def test_bootstrap_is_degenerate_for_constant_deltas():
    assert bootstrap_ci([0.25] * 12, resamples=500) == pytest.approx((0.25, 0.25))
    assert bootstrap_ci([]) == (0.0, 0.0)


def test_bootstrap_ci_brackets_the_mean_and_narrows_with_n():
    rng = random.Random(3)
    small = [rng.gauss(0.05, 0.2) for _ in range(20)]
    large = [rng.gauss(0.05, 0.2) for _ in range(400)]
    for values in (small, large):
        low, high = bootstrap_ci(values, resamples=2000, seed=1)
        assert low < sum(values) / len(values) < high
    assert (lambda c: c[1] - c[0])(bootstrap_ci(large, 2000)) < (lambda c: c[1] - c[0])(
        bootstrap_ci(small, 2000)
    )


def test_percentile_matches_numpy():
    np = pytest.importorskip("numpy")
    values = sorted(random.Random(5).random() for _ in range(37))
    for q in (0.0, 0.025, 0.5, 0.975, 1.0):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, 100 * q)))


def test_render_plain_shows_regression_side_by_side(jsonl, fixed_scorer):
    a, b = files(jsonl)
    comp = compare_files(str(a), str(b), seed=0, resamples=1000, scorer=fixed_scorer)
    out = io.StringIO()
    render_comparison(comp, out, top=3, rich=False)
    text = out.getvalue()
    assert "mean delta (B - A)" in text and "+0.0900" in text
    assert "wins / losses / ties (B vs A)" in text and "3 / 1 / 1" in text
    assert "-0.200  'q2'  A 0.800 -> B 0.600" in text
    assert "score=0.8" in text and "| score=0.6" in text  # A left, B right
    assert "new in B: low 0.6" in text
    assert "only in A" in text and "'only-a'" in text and "'only-b'" in text


def test_render_rich_keeps_brackets_literal(jsonl, fixed_scorer):
    a = jsonl("a.jsonl", [{"query": "[bold]q[/bold]", "expansion": "score=0.9"}])
    b = jsonl("b.jsonl", [{"query": "[bold]q[/bold]", "expansion": "score=0.1"}])
    out = io.StringIO()
    render_comparison(compare_files(str(a), str(b), scorer=fixed_scorer), out, rich=True)
    assert "[bold]q[/bold]" in out.getvalue()


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="qmd-reward")
    cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_compare_with_the_real_scorer(jsonl, capsys):
    weak = "lex: ssh key authentication\nvec: ssh key authentication"
    a = jsonl("a.jsonl", [{"query": "ssh key authentication", "expansion": weak}])
    b = jsonl("b.jsonl", [{"query": "ssh key authentication", "expansion": GOOD}])
    assert run_cli(["eval", "compare", str(a), str(b), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "paired queries" in out and "1 / 0 / 0" in out


def test_cli_compare_without_common_queries_fails(jsonl, capsys):
    a = jsonl("a.jsonl", [{"query": "x", "expansion": GOOD}])
    b = jsonl("b.jsonl", [{"query": "y", "expansion": GOOD}])
    assert run_cli(["eval", "compare", str(a), str(b)]) == 1
    assert "nothing to compare" in capsys.readouterr().err
