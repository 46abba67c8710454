"""The QMD runner's pure parts, offline: environment, index.yml, process groups, errors,
and the FTS5 expression QMD builds for a lex line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from evals import qmd_runner
from evals.qmd_parity import fts5_match, note_text, write_notes
from evals.qmd_runner import (
    QmdHit,
    QmdInstall,
    QmdTimeout,
    QmdUnavailable,
    child_env,
    default_install_dir,
    ensure_qmd,
    find_npm,
    index_yml,
    parse_search_json,
    run_group,
)
from qmd_reward.retrieval import Corpus, Document


def test_child_env_is_private_without_ci_and_node_first(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin:/bin",
        "CI": "true",
        "HOME": "/home/someone",
        "INDEX_PATH": "/home/someone/index.sqlite",
        "QMD_CONFIG_DIR": "/home/someone/.config/qmd",
        "QMD_EMBED_MODEL": "hf:some/model",
        "LANG": "C.UTF-8",
    }
    env = child_env(tmp_path / "node" / "bin", tmp_path / "home", base)
    assert "CI" not in env and "QMD_EMBED_MODEL" not in env
    assert env["LANG"] == "C.UTF-8"
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "node" / "bin")
    assert env["PATH"].endswith("/usr/bin:/bin")
    for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "QMD_CONFIG_DIR", "INDEX_PATH"):
        assert Path(env[key]).is_relative_to(tmp_path / "home"), key
    assert base["CI"] == "true"  # the caller's mapping is not changed


def test_index_yml_names_local_files_quoted() -> None:
    text = index_yml({"generate": Path("/m/my model: v1.gguf"), "embed": "/m/e.gguf"})
    assert text == 'models:\n  embed: "/m/e.gguf"\n  generate: "/m/my model: v1.gguf"\n'
    with pytest.raises(ValueError, match="unknown model roles"):
        index_yml({"chat": "/m/x.gguf"})


def test_home_writes_absent_local_models_by_default(tmp_path: Path) -> None:
    install = QmdInstall(tmp_path / "install", "22.0.0", "2.8.3")
    home = qmd_runner.QmdHome(install, tmp_path / "home", models={"embed": "/m/e.gguf"})
    text = home.config_file.read_text()
    assert 'embed: "/m/e.gguf"' in text
    assert "hf:" not in text and str(tmp_path / "home" / "no-models" / "rerank.gguf") in text
    home.cleanup()  # a home the caller gave is the caller's: kept
    assert home.config_file.is_file()


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    # The shell starts a background sleep (as bin/qmd starts a second node) and waits.
    script = f"sleep 30 & echo $! > {marker}; wait"
    start = time.monotonic()
    with pytest.raises(QmdTimeout):
        run_group(["sh", "-c", script], timeout=0.5)
    assert time.monotonic() - start < 10
    pid = int(marker.read_text())
    for _ in range(50):  # the kill is sent; give the kernel a moment to reap
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its (killed) parent's reaper.
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "zombie" in status.read_text())


def test_run_group_returns_output_and_exit_code() -> None:
    done = run_group(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_missing_npm_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(QmdUnavailable, match="npm was not found on PATH"):
        find_npm()
    monkeypatch.setattr(qmd_runner.platform, "system", lambda: "Linux")
    monkeypatch.setattr(qmd_runner.platform, "machine", lambda: "x86_64")
    with pytest.raises(QmdUnavailable, match=r"npm was not found.*@tobilu/qmd@2\.8\.3"):
        ensure_qmd(tmp_path / "install")
    assert not (tmp_path / "install").exists()


def test_a_complete_install_is_reused_without_npm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install = QmdInstall(tmp_path, "22.0.0", "2.8.3")
    install.node_bin.mkdir(parents=True)
    install.node.write_text("")
    install.qmd_entry.parent.mkdir(parents=True)
    install.qmd_entry.write_text("")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ensure_qmd(tmp_path, node_version="22.0.0") == install
    assert install.command("search", "x")[1:] == [str(install.qmd_entry), "search", "x"]


def test_install_dir_follows_the_environment(tmp_path: Path) -> None:
    assert default_install_dir(environ={"QMD_REWARD_QMD_DIR": str(tmp_path)}) == tmp_path
    cache = default_install_dir("22.1.0", "2.8.3", environ={"QMD_REWARD_CACHE": str(tmp_path)})
    assert cache == tmp_path / "qmd" / "node-22.1.0-qmd-2.8.3"


def test_search_json_is_parsed() -> None:
    out = '[{"docid": "#abc123", "score": 0.91, "file": "qmd://corpus/d0001.md", "title": "T"}]'
    assert parse_search_json(out) == [QmdHit("qmd://corpus/d0001.md", "#abc123", 0.91, "T")]
    assert parse_search_json(out)[0].path == "d0001.md"
    assert parse_search_json("[]\n") == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ssh key", '"ssh"* AND "key"*'),
        ('"disk space" cleanup', '"disk space" AND "cleanup"*'),
        ("performance -sports", '"performance"* NOT "sports"*'),
        ("multi-agent memory", '"multi agent" AND "memory"*'),
        ("node.js 3.12", '"node"* AND "js"* AND "3"* AND "12"*'),
        ("x -v1.2", '"x"* NOT ("v1"* AND "2"*)'),
        ('"unclosed phrase', '"unclosed phrase"'),
        ("tcp/ip", '"tcpip"*'),
        ("-only -negations", None),
    ],
)
def test_fts5_match_follows_qmds_query_builder(line: str, expected: str | None) -> None:
    assert fts5_match(line) == expected


def test_notes_are_markdown_with_the_title_as_heading(tmp_path: Path) -> None:
    corpus = Corpus((Document("a/1", "Title", "Body."), Document("b", "", "Only text.")))
    assert write_notes(corpus, tmp_path) == {"d0001.md": "a/1", "d0002.md": "b"}
    assert (
        (tmp_path / "d0001.md").read_text() == note_text("Title", "Body.") == "# Title\n\nBody.\n"
    )
    assert write_notes(corpus, tmp_path / "ids", names="ids") == {"a_1.md": "a/1", "b.md": "b"}
