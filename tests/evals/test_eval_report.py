import argparse
import io
import re
from html.parser import HTMLParser

import pytest

from evals import cli
from evals.html_report import render_html
from evals.report import build_report, render_text

from samples import GOOD

HOSTILE = 'lex: x\nhyde: <script>alert("x")</script> <img src="http://evil/x.png">'


@pytest.fixture
def results(jsonl, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("# alpha\nqa\nqb\n# beta\nqc\n", encoding="utf-8")
    path = jsonl(
        "results.jsonl",
        [
            {"_meta": True, "model": "tiny-model"},
            {"query": "qa", "expansion": "score=0.9"},
            {"query": "qb", "expansion": "score=0.5"},
            {"query": "qc", "expansion": "score=0.2"},
            {"query": "qa", "expansion": "score=0.1", "category": "given"},
            {"query": "unknown", "expansion": "score=0.6"},
        ],
    )
    return path, queries


def test_categories_dimensions_ratings_and_worst(results, fixed_scorer):
    path, queries = results
    report = build_report(str(path), queries, scorer=fixed_scorer)
    assert report.model == "tiny-model"
    assert report.categories() == [
        ("alpha", 2, pytest.approx(0.7)),
        ("beta", 1, pytest.approx(0.2)),
        ("given", 1, pytest.approx(0.1)),
        ("uncategorised", 1, pytest.approx(0.6)),
    ]
    assert report.dimensions() == [("format", pytest.approx(3 * 2.3 / 5), 3, 5)]
    assert dict(report.ratings()) == {
        "Excellent": 1,
        "Good": 1,
        "Acceptable": 1,
        "Poor": 1,
        "Failed": 1,
    }
    assert [r.card.score for r in report.worst(2)] == [0.1, 0.2]
    assert [r.where.rsplit(":", 1)[1] for r in report.worst(2)] == ["5", "4"]
    assert sum(report.histogram(20)) == 5


def test_plain_text_report(results, fixed_scorer):
    path, queries = results
    out = io.StringIO()
    render_text(build_report(str(path), queries, scorer=fixed_scorer), out, worst=2)
    text = out.getvalue()
    for heading in ("per category", "mean per dimension", "ratings", "worst 2 expansions"):
        assert heading in text
    assert re.search(r"alpha\s+2\s+0\.700", text)
    assert "[given] 'qa'" in text and "- low 0.1" in text and "| score=0.1" in text
    assert "\x1b[" not in text  # piped output carries no terminal escapes


def test_rich_text_report(results, fixed_scorer):
    path, queries = results
    out = io.StringIO()
    render_text(build_report(str(path), queries, scorer=fixed_scorer), out, rich=True)
    assert "per category" in out.getvalue() and "[given]" in out.getvalue()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs


def test_html_is_self_contained_and_escaped(jsonl, scorer):
    path = jsonl(
        "r.jsonl",
        [
            {"query": "ssh key authentication", "expansion": GOOD},
            {"query": "x", "expansion": HOSTILE},
        ],
    )
    page = render_html(build_report(str(path), None, scorer=scorer))
    parsed = _Tags()
    parsed.feed(page)
    # The images are inline SVG: nothing is fetched, nothing runs.
    assert parsed.tags.count("svg") == 2 and parsed.tags.count("rect") >= 2
    assert not {"img", "script", "link", "iframe", "object"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attrs if name in ("src", "href")]
    assert not [value for _, value in parsed.attrs if value and "//" in value]
    assert "url(" not in page and "@import" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="qmd-reward")
    cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_report_writes_html_and_uses_shipped_queries(jsonl, tmp_path, capsys):
    path = jsonl(
        "r.jsonl",
        [
            {"query": "cache", "expansion": GOOD},
            {"query": "rotate nginx access logs daily", "expansion": "lex: nginx logrotate daily"},
        ],
    )
    html = tmp_path / "report.html"
    assert run_cli(["eval", "report", str(path), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "short and ambiguous" in out and "technical docs" in out
    assert "<svg" in html.read_text(encoding="utf-8")


def test_cli_report_flags_bad_lines(jsonl, capsys):
    path = jsonl("r.jsonl", [{"query": "a", "expansion": GOOD}, "{broken"])
    assert run_cli(["eval", "report", str(path)]) == 1
    assert "r.jsonl:2: invalid JSON" in capsys.readouterr().err


def test_wires_into_the_main_parser(jsonl, capsys):
    import qmd_reward.cli as main_cli

    path = jsonl("r.jsonl", [{"query": "cache", "expansion": GOOD}])
    assert main_cli.main(["eval", "report", str(path)]) == 0
    assert main_cli.main(["data", "validate", str(path)]) == 1  # eval records are not training
    assert "missing 'output'" in capsys.readouterr().out
