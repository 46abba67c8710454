"""Whether a line mentions a query's term or entity the way QMD's FTS5 index would see it:
through tokens, stems, joined spellings, aliases, versions and surnames."""

import subprocess
import sys

import pytest

from qmd_reward.aliases import aliases, split_version
from qmd_reward.entities import line_form, mentions, target
from qmd_reward.facts import line_facts


def says(line: str, name: str, *spellings: str) -> bool:
    return mentions(line_form(line), target(name, *spellings))


# --- tokens and stems ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("pandas read_csv options", "csv"),
        ("pandas read_csv options", "read"),
        ("edit nginx.conf", "nginx"),
        ("edit nginx.conf", "conf"),
        ("Read_CSV in Node.js", "node"),
    ],
)
def test_fts5_splits_on_underscores_and_dots(line, name):
    assert says(line, name)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("send an e-mail", "email"),
        ("email filters", "e-mail"),
        ("install nodejs", "node.js"),
        ("node.js streams", "nodejs"),
    ],
)
def test_the_same_letters_spelled_with_or_without_glue_match(line, name):
    assert says(line, name)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("calibrate the monitor", "calibration"),
        ("monitor calibration", "calibrate"),
        ("street photographers", "photography"),
        ("photography tips", "photographers"),
        ("ssh keys", "key"),
    ],
)
def test_stems_of_one_word_family_match(line, name):
    assert says(line, name)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("a reactive form", "react"),
        ("preact signals", "react"),
        ("gmail filters", "mail"),
        ("javascript closures", "java"),
    ],
)
def test_only_whole_tokens_match(line, name):
    assert not says(line, name)


def test_multi_word_names_match_in_order_only():
    assert says("tacos in San Diego", "san diego")
    assert not says("diego san", "san diego")


def test_unsegmented_scripts_match_as_substrings():
    assert says("北京天气预报", "北京")
    assert not says("上海天气预报", "北京")


def test_a_target_matches_under_any_of_its_spellings():
    assert says("tune PostgreSQL", "postgres", "postgresql")
    assert says("tune postgres", "postgres", "postgresql")


# --- aliases and versions ------------------------------------------------------------------


def test_alias_groups_from_the_data():
    assert "postgresql" in aliases("Postgres")
    assert "kubernetes" in aliases("k8s")
    assert "ssl" in aliases("tls")
    assert aliases("sarah") == ()


def test_a_versioned_name_gets_its_aliases_with_the_version():
    assert "postgresql 16" in aliases("postgres 16")


@pytest.mark.parametrize(
    ("entity", "split"),
    [
        ("svelte 5", ("svelte", "5")),
        ("python 3.12", ("python", "3.12")),
        ("iphone 15 pro", ("iphone", "15 pro")),
        ("gpt-4", ("gpt-4", None)),
        ("python3", ("python3", None)),
        ("world war ii", ("world war ii", None)),
    ],
)
def test_split_version(entity, split):
    assert split_version(entity) == split


def facts(scorer, query: str, kind: str, text: str):
    return line_facts(scorer.analyse(query), kind, text)


@pytest.mark.parametrize(
    ("query", "entity", "line"),
    [
        ("postgres index tuning", "postgres", "postgresql btree index"),
        ("k8s pod restart loop", "k8s", "kubernetes crashloopbackoff"),
        ("kubernetes pod restart loop", "kubernetes", "why does my k8s pod keep restarting"),
        ("ssl certificate renewal", "ssl", "tls cert renew certbot"),
    ],
)
def test_an_alias_names_the_query_entity(scorer, query, entity, line):
    found = facts(scorer, query, "lex", line)
    assert entity in found.entities
    assert found.aliases == 1


def test_another_name_is_not_the_entity(scorer):
    assert facts(scorer, "postgres index tuning", "lex", "mysql btree index").entities == ()


def test_a_versioned_entity_is_named_without_its_version_but_the_version_is_not_kept(scorer):
    q = scorer.analyse("svelte 5 runes")
    assert [e.name for e in q.entities] == ["svelte 5"]
    without = line_facts(q, "lex", "svelte runes $state")
    assert without.entities == ("svelte 5",) and without.versions == ()
    with_version = line_facts(q, "vec", "how do runes work in Svelte 5")
    assert with_version.entities == ("svelte 5",) and with_version.versions == ("svelte 5",)


def test_the_version_of_another_release_is_not_kept(scorer):
    found = facts(scorer, "python 3.12 release notes", "lex", "python 3.11 changelog")
    assert found.entities == ("python 3.12",) and found.versions == ()


def test_the_surname_alone_names_a_person(scorer):
    passage = "Torvalds wrote the first version of git in 2005 after the BitKeeper license ended."
    assert "linus torvalds" in facts(scorer, "linus torvalds git history", "hyde", passage).entities


def test_the_first_name_alone_does_not_name_a_person(scorer):
    found = facts(scorer, "linus torvalds git history", "lex", "linus git history")
    assert "linus torvalds" not in found.entities


@pytest.mark.parametrize(
    ("query", "line"),
    [
        ("Priya's meeting notes", "Priya 1:1 agenda"),
        ("Priya's meeting notes", "Priya's 1:1 agenda"),
        ("meeting notes with Priya about the Q3 budget", "priya's budget"),
    ],
)
def test_possessives_name_the_person(scorer, query, line):
    assert "priya" in facts(scorer, query, "lex", line).entities


# --- import weight -------------------------------------------------------------------------


def test_importing_entities_loads_neither_numpy_nor_the_retrieval_package():
    code = (
        "import sys, qmd_reward.entities; "
        "print(sorted(m for m in ('numpy', 'qmd_reward.retrieval') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
