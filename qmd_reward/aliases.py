"""Other names an entity goes by, and what kind of name it is.

A line that writes ``postgresql`` names the query's ``postgres``; one that writes ``k8s``
names its ``kubernetes``; one that writes ``torvalds`` names its ``linus torvalds``. A matcher
that knows only the query's spelling would count those lines as missing the entity. The
equivalences come from ``data/aliases.txt`` (one group a line, ``a | b | c``); versions
travel with the name (``postgres 16`` -> ``postgresql 16``).

Everything here is a pure function of its argument, over one cached read of the data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from .detectors import MODEL_WORDS, is_person, normalise_entity

__all__ = ["aliases", "is_person", "split_version"]

# A version: 5, 20, 3.12, 24.04, v2, 8.1a; after it, model words ('iphone 15 pro'), and the
# words the detector keeps with a version ('claude 3.5 sonnet'), so the two agree on where
# the name ends.
_NUMBER = re.compile(r"^v?\d+(?:\.\d+)*[a-z]?$")
_MODEL_WORDS = (
    frozenset("pro max mini ultra plus lts beta alpha preview rc se turbo edition".split())
    | MODEL_WORDS
)


@lru_cache(maxsize=1)
def _groups() -> dict[str, tuple[str, ...]]:
    """Each name (normalised) -> every name of its group, as written in the file."""
    text = (resources.files("qmd_reward") / "data" / "aliases.txt").read_text("utf-8")
    index: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        group = tuple(name.strip().lower() for name in line.split(" | ") if name.strip())
        for name in group:
            index.setdefault(normalise_entity(name), group)
    return index


def split_version(entity: str) -> tuple[str, str | None]:
    """The name and the version of an entity, the version None when it has none.

    A version is the trailing words that start with a number ('5', '3.12', 'v2') and go on
    with numbers or model words ('pro', 'lts'). A version glued to the name by a hyphen or
    written into it belongs to the name ('gpt-4', 'python3', 'ec2').

    >>> split_version("svelte 5"), split_version("python 3.12"), split_version("windows 11")
    (('svelte', '5'), ('python', '3.12'), ('windows', '11'))
    >>> split_version("gpt-4"), split_version("iphone 15 pro"), split_version("Node 20")
    (('gpt-4', None), ('iphone', '15 pro'), ('node', '20'))
    >>> split_version("world war ii"), split_version("ubuntu 24.04 lts"), split_version("20")
    (('world war ii', None), ('ubuntu', '24.04 lts'), ('20', None))
    >>> split_version("claude 3.5 sonnet"), split_version("gemini 1.5 flash")
    (('claude', '3.5 sonnet'), ('gemini', '1.5 flash'))
    """
    words = normalise_entity(entity).split()
    for start in range(1, len(words)):
        rest = words[start:]
        if _NUMBER.match(rest[0]) and all(_NUMBER.match(w) or w in _MODEL_WORDS for w in rest):
            return " ".join(words[:start]), " ".join(rest)
    return " ".join(words), None


@lru_cache(maxsize=8192)
def aliases(entity: str) -> tuple[str, ...]:
    """The other names of ``entity`` (case-insensitive), in the order of the data file;
    () when it has none. A versioned entity gets its name's aliases, version kept.

    >>> aliases("Postgres"), aliases("k8s"), aliases("TLS")
    (('postgresql',), ('kubernetes', 'kube'), ('ssl', 'transport layer security'))
    >>> aliases("postgres 16"), aliases("node 20")
    (('postgresql 16',), ('node.js 20', 'nodejs 20', 'node js 20'))
    >>> aliases("gpt-4"), aliases("visual studio code"), aliases("nyc"), aliases("sarah")
    (('gpt4', 'gpt 4'), ('vscode', 'vs code'), ('new york city',), ())
    """
    key = normalise_entity(entity)
    groups = _groups()
    if key in groups:
        return _others(groups[key], key)
    name, version = split_version(key)
    if version is None or name not in groups:
        return ()
    return tuple(f"{other} {version}" for other in _others(groups[name], name))


def _others(group: tuple[str, ...], key: str) -> tuple[str, ...]:
    return tuple(name for name in group if normalise_entity(name) != key)
