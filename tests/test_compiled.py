"""The install compiles the scorer's hot modules with mypyc (setup.py); check that the tests
run that compiled code, and that it was built from the source as it now is."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPILED = re.findall(r'"qmd_reward/(\w+)\.py"', (ROOT / "setup.py").read_text())
PURE = os.environ.get("QMD_REWARD_PURE_PYTHON", "") not in ("", "0")


def _module_file(name: str) -> Path:
    return Path(importlib.import_module(f"qmd_reward.{name}").__file__ or "")


def test_setup_names_the_hot_modules():
    assert {"rubric", "checks", "expansion", "entities", "text"} <= set(COMPILED)


@pytest.mark.skipif(PURE, reason="QMD_REWARD_PURE_PYTHON is set: the install compiled nothing")
@pytest.mark.parametrize("name", COMPILED)
def test_the_hot_module_is_compiled(name):
    path = _module_file(name)
    assert path.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), (
        f"qmd_reward.{name} runs as plain Python ({path}): the install did not compile it. "
        "`pip install -v -e .` shows why (a type error mypyc refuses, or no C compiler); "
        "set QMD_REWARD_PURE_PYTHON=1 to install without compiling on purpose."
    )


@pytest.mark.parametrize("name", COMPILED)
def test_a_compiled_module_is_not_older_than_its_source(name):
    path = _module_file(name)
    source = path.with_name(f"{name}.py")
    if path.suffix == ".py" or not source.exists():
        pytest.skip("not compiled")
    # The module's code lives in the library the compiled modules share; the module itself
    # is a small stub that loads it.
    shared = [Path(m.__file__) for n, m in sys.modules.items() if n.endswith("__mypyc")]
    built = max(p.stat().st_mtime for p in [path, *shared])
    assert built >= source.stat().st_mtime, (
        f"{source} changed after it was compiled, and the compiled module shadows it: "
        "run `pip install -e .` again"
    )
