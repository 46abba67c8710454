"""Build hook: compile the scorer's hot modules with mypyc (the rest is in pyproject.toml).

GRPO scores thousands of completions per second, and the rubric is many small Python checks;
compiled, the same source scores in about two thirds of the time (README, Measured). The
modules stay plain Python: with QMD_REWARD_PURE_PYTHON=1, or where mypyc or the C compiler
fails, they are installed uncompiled and behave the same, only slower (tests/test_compiled.py
tells which one runs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup

# The path of Scorer.score through a completion and its lines; the rest is not worth it.
COMPILED = [
    "qmd_reward/text.py",
    "qmd_reward/checks.py",
    "qmd_reward/entities.py",
    "qmd_reward/expansion.py",
    "qmd_reward/rubric.py",
    "qmd_reward/lexicon.py",
]


def _remove_earlier_builds() -> None:
    """An editable install compiles next to the source, and an extension module shadows the
    .py of the same name: a plain-Python install must not leave one behind."""
    root = Path(__file__).resolve().parent
    for source in COMPILED:
        for built in (root / source).parent.glob(f"{Path(source).stem}.*.so"):
            built.unlink()
    for shared in root.glob("*__mypyc.*.so"):  # the library the compiled modules share
        shared.unlink()


def compiled_modules() -> list:
    if os.environ.get("QMD_REWARD_PURE_PYTHON", "") not in ("", "0"):
        _remove_earlier_builds()
        return []
    if {"egg_info", "dist_info"} & set(sys.argv[1:]):
        return []  # pip only asks for metadata here: type-checking and compiling can wait
    try:
        from mypyc.build import mypycify

        modules = mypycify(COMPILED)
    except (Exception, SystemExit) as error:  # mypyc reports type errors by exiting
        print(
            f"qmd-reward: scorer not compiled ({error!r}); it runs as plain Python.",
            file=sys.stderr,
        )
        _remove_earlier_builds()
        return []
    for module in modules:
        module.optional = True  # a failed C build leaves the plain-Python module in place
    return modules


setup(ext_modules=compiled_modules())
