"""Directional tests: one damage to a good expansion must lower the judge's score.

Every operator in :mod:`evals.directional` breaks one thing in a good expansion (the ``good``
records of data/examples.jsonl and every record of tests/directional_cases.jsonl); the judge
must score the damaged text strictly lower, for every case. Query-independent templates must
score low and lose to the curated expansion.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evals.directional import (
    OPERATORS,
    TEMPLATES,
    Case,
    Operator,
    is_only_mode,
    words,
)
from qmd_reward import Scorer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "data" / "examples.jsonl"
CASES_FILE = Path(__file__).with_name("directional_cases.jsonl")


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _as_pair(record: dict) -> dict:
    """``{"query", "expansion"}`` from an eval, training (``output``) or chat record."""
    if "messages" in record:
        user = next(m["content"] for m in record["messages"] if m["role"] == "user")
        reply = next(m["content"] for m in record["messages"] if m["role"] == "assistant")
        query = user.split("Expand this search query:", 1)[-1].strip()
        return {"query": query, "expansion": reply}
    if "output" in record:
        text = "\n".join(f"{kind}: {content}" for kind, content in record["output"])
        return {"query": record["query"], "expansion": text}
    return {"query": record["query"], "expansion": record["expansion"]}


def _good_records() -> list[dict]:
    good = [_as_pair(r) for r in _read(EXAMPLES) if r.get("label") == "good"]
    return good + _read(CASES_FILE)


def _build_cases() -> list[Case]:
    """Each good record with an unrelated record's expansion as ``other``."""
    records = _good_records()
    n = len(records)
    cases = []
    for i, record in enumerate(records):
        mine = set(words(record["query"]))
        other = None
        for step in range(n // 2, n // 2 + n):
            candidate = records[(i + step) % n]
            if candidate is record or is_only_mode(candidate["query"]):
                continue
            if not mine & set(words(candidate["query"])):
                other = candidate["expansion"]
                break
        cases.append(Case(record["query"], record["expansion"], other, seed=i))
    return cases


CASES = _build_cases()
FULL_CASES = [c for c in CASES if not is_only_mode(c.query)]
BY_NAME = {op.name: op for op in OPERATORS}


def _fmt(query: str, before: float, after: float) -> str:
    return f"  {query!r}: original {before:.3f}, damaged {after:.3f}"


# -- the data itself -------------------------------------------------------------------------


def test_cases_are_good_full_mode_expansions() -> None:
    records = _read(CASES_FILE)
    assert len(records) >= 40
    for r in records:
        terms = re.sub(r"[^a-z0-9\s]", " ", r["query"].lower()).split()
        lines = r["expansion"].split("\n")
        kinds = [line.split(":", 1)[0] for line in lines]
        assert 1 <= kinds.count("lex") <= 3 and 1 <= kinds.count("vec") <= 3, r["query"]
        assert kinds.count("hyde") == 1, r["query"]
        for line in lines:
            kind, text = line.split(": ", 1)
            assert kind in ("lex", "vec", "hyde"), line
            assert any(t in text.lower() for t in terms), f"no query term: {line!r}"
            if kind == "hyde":
                assert 60 <= len(text) <= 200 and text.endswith("."), line


def test_there_are_enough_operators_and_templates() -> None:
    assert len(OPERATORS) >= 20
    assert len(BY_NAME) == len(OPERATORS), "operator names must be unique"
    assert len(TEMPLATES) >= 6
    for op in OPERATORS:
        assert op.description, f"{op.name} has no description"


# -- directional: the damage must lower the score ---------------------------------------------


@pytest.mark.parametrize("name", [op.name for op in OPERATORS])
def test_damage_lowers_score(name: str, scorer: Scorer) -> None:
    op = BY_NAME[name]
    failures = []
    applicable = 0
    for case in CASES:
        damaged = op.damage(case)
        if damaged is None:
            continue
        applicable += 1
        before = scorer.score(case.query, case.expansion).score
        after = scorer.score(case.query, damaged).score
        if not after < before:
            failures.append(_fmt(case.query, before, after))
    assert applicable, f"{name} applied to no case"
    assert not failures, (
        f"{name}: damaged text not scored strictly lower in {len(failures)}/{applicable} "
        f"cases ({op.description})\n" + "\n".join(failures)
    )


def test_templates_score_low(scorer: Scorer) -> None:
    problems = []
    for template in TEMPLATES:
        ours = []
        below = 0
        for case in FULL_CASES:
            s = scorer.score(case.query, template.expand(case.query)).score
            curated = scorer.score(case.query, case.expansion).score
            ours.append(s)
            below += s < curated
        mean = sum(ours) / len(ours)
        share = below / len(ours)
        if mean >= 0.30 or share < 0.95:
            problems.append(
                f"  {template.name}: mean {mean:.3f} (must be < 0.30), below curated in "
                f"{share:.0%} of {len(ours)} cases (must be >= 95%)"
            )
    assert not problems, "templates that game the judge:\n" + "\n".join(problems)


# -- the operators themselves -----------------------------------------------------------------

NO_HYDE = "lex: ssh key login\nlex: ssh-keygen ed25519\nvec: how do I log in with an ssh key"
NO_LEX = (
    "vec: how do I log in to a server with an ssh key\n"
    "hyde: Run ssh-keygen, then ssh-copy-id user@host to install the ssh key."
)
NO_VEC = (
    "lex: ssh key login\nlex: authorized_keys ssh\n"
    "hyde: Run ssh-keygen, then ssh-copy-id user@host to install the ssh key."
)
SHORT = "lex: ssh key\nvec: ssh key login\nhyde: Use an ssh key."
NO_TERMS = "lex: authorized_keys ed25519\nvec: passwordless login\nhyde: Run the keygen tool first."
QUERY = "ssh key authentication"

# An expansion each operator cannot apply to (besides the /only: and empty cases).
INAPPLICABLE: dict[str, str] = {
    "drop_hyde": NO_HYDE,
    "hyde_query_thrice": NO_HYDE,
    "hyde_cut_mid_sentence": SHORT,
    "hyde_cut_mid_word": NO_HYDE,
    "hyde_is_query": NO_HYDE,
    "hyde_questions": NO_HYDE,
    "hyde_keywords": NO_HYDE,
    "hyde_placeholder": NO_HYDE,
    "hyde_generic_mention": NO_HYDE,
    "hyde_babble": NO_HYDE,
    "hyde_looped": NO_HYDE,
    "hyde_from_other": NO_HYDE,
    "hyde_query_terms_removed": NO_TERMS,
    "lex_filler_lead": NO_LEX,
    "lex_stuffed": NO_LEX,
    "lex_is_query": NO_LEX,
    "lex_invented_and_year": NO_LEX,
    "lex_search_syntax": NO_LEX,
    "lex_negates_query_word": NO_LEX,
    "lex_as_questions": NO_LEX,
    "lex_unclosed_quote": SHORT,
    "lex_merged_overlong": SHORT,
    "lex_query_terms_removed": NO_TERMS,
    "lex_from_other": NO_LEX,
    "drop_lex": NO_LEX,
    "vec_from_other": NO_VEC,
    "vec_is_query": NO_VEC,
    "vec_keywords": NO_VEC,
    "vec_copies_hyde": NO_HYDE,
    "vec_meta": NO_VEC,
    "vec_truncated": SHORT,
    "drop_vec": NO_VEC,
    "lines_identical": SHORT,
    "lex_vec_swapped": NO_VEC,
}


@pytest.mark.parametrize("name", [op.name for op in OPERATORS])
def test_operator_is_deterministic_and_knows_when_it_does_not_apply(name: str) -> None:
    op: Operator = BY_NAME[name]
    applied = 0
    for case in CASES:
        first = op.damage(case)
        again = op.damage(Case(case.query, case.expansion, case.other, case.seed))
        assert first == again, f"{name} is not deterministic on {case.query!r}"
        if first is not None:
            applied += 1
            assert first != case.expansion, f"{name} returned the expansion unchanged"
    assert applied, f"{name} applied to no case"

    other = FULL_CASES[0].expansion
    assert op.damage(Case(QUERY + " /only:lex", "lex: ssh key login", other, 1)) is None
    assert op.damage(Case(QUERY + " /only:hyde", NO_LEX, other, 1)) is None
    assert op.damage(Case(QUERY, "", other, 1)) is None
    assert op.damage(Case(QUERY, "Sure! I can help with that.", other, 1)) is None
    if name in INAPPLICABLE:
        assert op.damage(Case(QUERY, INAPPLICABLE[name], other, 1)) is None
    if name.endswith("_from_other"):
        assert op.damage(Case(QUERY, FULL_CASES[0].expansion, None, 1)) is None
