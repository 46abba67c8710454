from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from qmd_reward.retrieval import cli


def parse(argv: list[str], *, lex_only: bool = True) -> argparse.Namespace:
    """Lex only unless asked: these tests pin BM25 figures (dense: test_retrieval_dense*)."""
    parser = argparse.ArgumentParser(prog="qmd-reward")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args([*argv, "--embedder", "none"] if lex_only else argv)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    write_jsonl(
        root / "corpus.jsonl",
        [
            {"_id": "car", "title": "Insurance", "text": "Car insurance renewal quotes."},
            {"_id": "garage", "title": "Garage", "text": "Automobile brake repair invoice."},
            {"_id": "bike", "title": "Bike", "text": "Bike repair: puncture patch."},
        ],
    )
    write_jsonl(root / "queries.jsonl", [{"_id": "q1", "text": "Car Repair"}])
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tgarage\t1\n")
    return root


def test_eval_records_with_each_kind_of_relevance(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expansion = "lex: automobile repair\nlex: car insurance\nvec: fixing my car"
    records = write_jsonl(
        tmp_path / "eval.jsonl",
        [
            {"_meta": True, "model": "test"},
            {"query": "car repair", "expansion": expansion, "relevant_docs": ["garage"]},
            {"query": "car repair", "expansion": expansion, "query_id": "q1"},
            {"query": "car  repair", "expansion": expansion},
            {"query": "unknown", "expansion": "lex: unknown"},
        ],
    )
    args = parse(["retrieval", str(records), "--corpus", str(corpus_dir), "--no-cache"])
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert "queries judged: 3" in out
    assert "not judged (no relevance): 1" in out
    assert "MRR       0.000 -> 1.000" in out
    assert "relevant at rank 1 (garage)" in out
    assert "helped 3 (100%)" in out


def test_training_records_with_reference_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {
                "query": "how do I renew a tls cert",
                "output": [
                    ["lex", "tls certificate renew certbot"],
                    ["lex", "renew letsencrypt"],
                    ["hyde", "Run certbot renew to renew the Let's Encrypt TLS certificate."],
                ],
            },
            {
                "query": "sourdough starter",
                "output": [["lex", "sourdough starter feeding"], ["hyde", "Feed the starter."]],
            },
        ],
    )
    args = parse(
        ["retrieval", str(train), "--reference-corpus", str(train), "--cache-dir", str(tmp_path)]
    )
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert "queries judged: 2" in out
    assert "matched nothing" in out


def test_quiet_prints_only_the_summary(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = write_jsonl(
        tmp_path / "e.jsonl", [{"query": "car repair", "expansion": "lex: car", "query_id": "q1"}]
    )
    args = parse(["retrieval", str(records), "--corpus", str(corpus_dir), "--no-cache", "--quiet"])
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert "#1" not in out and "MRR" in out


def test_missing_inputs_exit_2(tmp_path: Path, corpus_dir: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    assert cli.run(parse(["retrieval", str(missing), "--corpus", str(missing)])) == 2
    assert (
        cli.run(parse(["retrieval", str(missing), "--corpus", str(corpus_dir), "--no-cache"])) == 2
    )


def test_corpus_source_is_required() -> None:
    with pytest.raises(SystemExit):
        parse(["retrieval", "file.jsonl"])


def test_an_embedder_that_cannot_load_exits_2(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = write_jsonl(tmp_path / "e.jsonl", [{"query": "car", "expansion": "lex: car"}])
    argv = ["retrieval", str(records), "--corpus", str(corpus_dir), "--no-cache"]
    gguf = str(tmp_path / "model.gguf")
    assert cli.run(parse([*argv, "--embedder", gguf], lex_only=False)) == 2
    assert "GGUF" in capsys.readouterr().err


def test_lex_only_report_says_vec_and_hyde_were_not_searched(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expansion = "lex: automobile repair\nvec: fixing my car\nhyde: the car was repaired"
    records = write_jsonl(
        tmp_path / "e.jsonl", [{"query": "car repair", "expansion": expansion, "query_id": "q1"}]
    )
    assert (
        cli.run(parse(["retrieval", str(records), "--corpus", str(corpus_dir), "--no-cache"])) == 0
    )
    out = capsys.readouterr().out
    assert "BM25 only: vec and hyde not searched" in out
    assert "      lex  automobile repair" in out and "      vec " not in out
    table = out[out.index("per line type") :].splitlines()[2:]
    assert [row.split()[0] for row in table if row.strip()] == ["lex"]


def test_rich_report_takes_markup_like_text_literally() -> None:
    import io

    from qmd_reward.retrieval.judge import LineOutcome, RetrievalResult
    from qmd_reward.retrieval.records import QueryRecord
    from qmd_reward.retrieval.report import RichReport
    from qmd_reward.retrieval.summary import summarise

    line = LineOutcome("[bold]x[/] -y", False, None, 2, ("d1",), 1)
    hyde = LineOutcome("[red]hyde[/]", False, None, 20, (), None, kind="hyde")
    result = RetrievalResult(18.0, 0.5, 1.0, 0.6, 1.0, 2, 1, 3, True, (line, hyde), dense=True)
    stream = io.StringIO()
    report = RichReport(stream)
    report.query(QueryRecord(1, "what [is] this", ("[bold]x[/] -y",)), result)
    report.summary(summarise([result]))
    out = stream.getvalue()
    assert "what [is] this" in out and "[bold]x[/] -y" in out and "[red]hyde[/]" in out
    assert "no relevant document among its 20 nearest" in out
    assert "MRR" in out
