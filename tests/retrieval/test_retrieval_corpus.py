from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmd_reward.retrieval import Corpus, reference_passage


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def beir_folder(root: Path) -> Path:
    write_jsonl(
        root / "corpus.jsonl",
        [
            {"_id": "d1", "title": "SSH", "text": "key login"},
            {"_id": 2, "text": "no title here"},
        ],
    )
    write_jsonl(root / "queries.jsonl", [{"_id": "q1", "text": "ssh login"}])
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    return root


def test_from_beir_folder(tmp_path: Path) -> None:
    corpus = Corpus.from_beir(beir_folder(tmp_path))
    assert [d.doc_id for d in corpus.documents] == ["d1", "2"]
    assert (corpus.documents[0].title, corpus.documents[0].text) == ("SSH", "key login")
    assert (corpus.documents[1].title, corpus.documents[1].text) == ("", "no title here")
    assert corpus.queries == {"q1": "ssh login"}
    assert corpus.qrels == {"q1": {"d1": 2}}


def test_from_beir_file_alone(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "docs.jsonl", [{"_id": "x", "text": "hello"}])
    corpus = Corpus.from_beir(path)
    assert len(corpus.documents) == 1
    assert corpus.qrels == {}


def test_duplicate_ids_and_bad_json_are_errors(tmp_path: Path) -> None:
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"_id": "x", "text": "a"}, {"_id": "x"}])
    with pytest.raises(ValueError, match="duplicate"):
        Corpus.from_beir(dup)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "x"}\n{oops\n')
    with pytest.raises(ValueError, match=":2:"):
        Corpus.from_beir(bad)


def test_reference_passage_prefers_hyde() -> None:
    pairs = [["lex", "a b"], ["vec", "first vec"], ["hyde", "The passage."], ["vec", "second"]]
    assert reference_passage(pairs) == "The passage."
    assert reference_passage([["vec", "first vec"], ["vec", "second"]]) == "first vec second"
    assert reference_passage([["lex", "only lex"], "junk", [1], ["hyde", ""]]) == ""


def test_from_training_files(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {"query": "ssh login", "output": [["lex", "ssh"], ["hyde", "Use ssh-copy-id."]]},
            {"query": "ssh key login", "output": [["hyde", "Use ssh-copy-id."]]},
            {"query": "bread", "output": [["vec", "how to bake bread"]]},
            {"query": "no passage", "output": [["lex", "x"]]},
            {"_meta": True},
        ],
    )
    corpus, relevant = Corpus.from_training_files([path])
    assert [d.text for d in corpus.documents] == ["Use ssh-copy-id.", "how to bake bread"]
    shared = corpus.documents[0].doc_id
    assert relevant == {
        "ssh login": [shared],
        "ssh key login": [shared],
        "bread": [corpus.documents[1].doc_id],
    }
