"""The facts of one line against one query: its residue (what it adds), how FTS5 reads a lex
line, and whether a vec or hyde reads as what its type asks for."""

import pytest

from qmd_reward.facts import line_facts


@pytest.fixture
def facts(scorer):
    def measure(query: str, kind: str, text: str):
        return line_facts(scorer.analyse(query), kind, text)

    return measure


def residue(f) -> tuple[str, ...]:
    return (*f.specific, *f.common, *f.unknown, *f.numbers, *f.generic)


# --- the residue ---------------------------------------------------------------------------


def test_query_words_leave_the_residue_stem_aware(facts):
    f = facts("ssh key authentication", "lex", "SSH keys authenticating")
    assert residue(f) == ()
    assert set(f.terms) == {"ssh", "key", "authentication"}


def test_new_words_stay_in_the_residue(facts):
    f = facts("docker compose volumes", "lex", "docker compose volume mounts")
    assert residue(f) == ("mounts",)


def test_a_compound_of_query_words_is_the_query_words(facts):
    f = facts("hair cut styles", "lex", "haircut styles")
    assert residue(f) == ()
    assert {"hair", "cut"} <= set(f.terms)


def test_a_compound_says_its_parts_but_not_the_other_terms(facts):
    f = facts("hair cut styles", "lex", "haircut bob fringe")
    assert set(f.terms) == {"hair", "cut"}
    assert set(residue(f)) == {"bob", "fringe"}


def test_an_alias_of_the_entity_is_counted_and_leaves_the_residue(facts):
    f = facts("postgres connection pool exhausted", "lex", "postgresql max_connections pgbouncer")
    assert f.aliases == 1
    assert "postgresql" not in residue(f)
    assert f.entities == ("postgres",)


def test_the_query_spelling_of_the_entity_is_not_an_alias(facts):
    assert facts("postgres index tuning", "lex", "postgres btree index").aliases == 0


def test_function_words_are_ignored(facts):
    assert (
        residue(facts("docker compose volumes", "lex", "the docker and compose of volumes")) == ()
    )


def test_padding_words_are_generic(facts):
    f = facts("ssh key authentication", "lex", "ssh key authentication guide details")
    assert set(f.generic) == {"guide", "details"}
    assert f.specific == () and f.common == ()


def test_a_cut_off_last_word_of_a_passage_says_nothing(facts):
    cut = facts(
        "sourdough starter feeding schedule", "hyde", "Feed the sourdough starter at room temperat"
    )
    assert cut.truncation == "it is cut mid-word"
    assert "temperat" not in residue(cut)


# --- lex lines as FTS5 reads them ----------------------------------------------------------


def test_a_line_without_a_query_term_is_not_kept(facts):
    assert not facts("sourdough starter feeding schedule", "lex", "bread flour hydration").kept
    assert facts("sourdough starter feeding schedule", "lex", "starter hydration").kept


def test_negated_lex_terms_are_not_mentions(facts):
    f = facts("python asyncio event loop", "lex", '"event loop" asyncio -python')
    assert "python" not in f.terms and "python" not in f.entities
    assert f.negated == ("python",)


def test_a_negated_phrase_of_query_words_is_recorded(facts):
    f = facts("python asyncio event loop", "lex", '"event loop" asyncio -"python asyncio"')
    assert f.negated == ("python asyncio",)


def test_negating_another_word_or_a_hyphenated_token_is_not_negating_the_query(facts):
    assert facts("python asyncio event loop", "lex", "python asyncio -javascript").negated == ()
    assert facts("python asyncio event loop", "lex", "asyncio event-loop").negated == ()


def test_only_negated_terms_leave_nothing_positive(facts):
    f = facts("python asyncio event loop", "lex", "-python -asyncio")
    assert f.no_positive and f.terms == ()


GLACIER = "glacier ice core carbon dating"


def test_keeping_the_rarest_term_with_fewer_required_terms_relaxes(facts):
    assert facts(GLACIER, "lex", "glacier carbon dating").relaxes > 0


def test_relaxing_keeps_more_when_more_terms_are_kept(facts):
    assert (
        facts(GLACIER, "lex", "glacier carbon dating").relaxes
        > facts(GLACIER, "lex", "glacier dating").relaxes
        > 0
    )


@pytest.mark.parametrize(
    "line",
    [
        "ice core carbon dating",
        "glacier ice core carbon dating",
        "glacier ice core carbon dating isotopes",
    ],
)
def test_dropping_the_rarest_term_or_none_is_no_relaxation(facts, line):
    assert facts(GLACIER, "lex", line).relaxes == 0


def test_relaxing_a_long_natural_query(facts):
    query = "meeting notes with Priya about the Q3 budget"
    assert (
        facts(query, "lex", "Priya Q3 budget").relaxes
        > facts(query, "lex", "Priya budget").relaxes
        > 0
    )
    assert facts(query, "lex", "meeting notes budget").relaxes == 0


def test_a_new_quoted_phrase_is_phrase_credit(facts):
    assert facts(GLACIER, "lex", '"ice core" glacier').phrase
    assert facts("ssh key", "lex", '"ssh key" ed25519').phrase
    assert facts("ssh key", "lex", '"authorized_keys" permissions').phrase


def test_a_reordering_of_the_query_words_is_flagged_and_gets_no_phrase_credit(facts):
    f = facts("ssh key", "lex", '"key ssh" ed25519')
    assert f.reordered == ("key ssh",) and not f.phrase


def test_the_whole_query_quoted_gets_no_phrase_credit(facts):
    f = facts(GLACIER, "lex", f'"{GLACIER}"')
    assert not f.phrase and f.reordered == ()


def test_a_single_quoted_word_is_no_phrase(facts):
    assert not facts(GLACIER, "lex", '"glacier" isotopes').phrase


def test_unbalanced_quotes(facts):
    assert facts(GLACIER, "lex", '"ice core glacier').unbalanced
    assert not facts(GLACIER, "lex", '"ice core" glacier').unbalanced


def test_a_term_said_twice_is_stuffed(facts):
    assert facts("python asyncio event loop", "lex", "asyncio asyncio event loop").stuffed == (
        "asyncio",
    )
    assert facts("python asyncio event loop", "lex", "asyncio event loop").stuffed == ()


def test_a_term_the_query_itself_repeats_may_be_repeated(facts):
    assert facts("bora bora hotels", "lex", "bora bora resorts").stuffed == ()
    assert facts("bora bora hotels", "lex", "bora bora bora resorts").stuffed == ("bora",)


@pytest.mark.parametrize(
    "line", ["how does the asyncio event loop work", "asyncio event loop?", "what is an event loop"]
)
def test_a_lex_line_in_question_form(facts, line):
    assert facts("python asyncio event loop", "lex", line).question


def test_a_lex_keyword_line_is_no_question(facts):
    assert not facts("python asyncio event loop", "lex", "asyncio event loop scheduling").question


def test_required_terms_are_counted(facts):
    assert facts(GLACIER, "lex", "glacier carbon dating").and_terms == 3
    assert facts(GLACIER, "lex", '"ice core" glacier -moraine').and_terms == 2


# --- vec and hyde lines --------------------------------------------------------------------


def test_a_sentence_is_natural_and_a_list_is_not(facts):
    q = "python asyncio event loop"
    assert facts(q, "vec", "how does the asyncio event loop schedule coroutines").natural
    assert not facts(q, "vec", "asyncio event loop coroutine scheduling tasks").natural


def test_a_chinese_sentence_is_natural(facts):
    assert facts("北京天气", "vec", "北京明天的天气怎么样").natural
    assert not facts("北京天气", "vec", "北京 天气").natural


@pytest.mark.parametrize(
    "line",
    ["python asyncio event loop", "Python asyncio event loop?", "the python asyncio event loop"],
)
def test_restating_the_query(facts, line):
    assert facts("python asyncio event loop", "vec", line).restates


@pytest.mark.parametrize(
    "line",
    [
        "python asyncio event loop explained in detail",
        "how does the asyncio event loop schedule tasks",
    ],
)
def test_adding_to_the_query_is_not_restating_it(facts, line):
    assert not facts("python asyncio event loop", "vec", line).restates


def test_lex_lines_never_restate_or_read_as_prose(facts):
    f = facts("python asyncio event loop", "lex", "python asyncio event loop")
    assert not f.restates and not f.natural and not f.keyword_list


def test_truncation_is_a_fact_of_passages_only(facts):
    q = "sourdough starter feeding schedule"
    assert facts(q, "hyde", "Feed the sourdough starter with").truncation
    assert facts(q, "hyde", "Feed the sourdough starter twice a day.").truncation is None
    assert facts(q, "lex", "sourdough starter with").truncation is None


def test_meta_talk_the_query_itself_uses_is_not_meta_talk(facts):
    assert facts("ssh keys", "vec", "the user is asking about ssh keys").meta
    assert (
        facts(
            "what the user wants from ux research", "vec", "what the user wants in ux research"
        ).meta
        == ()
    )


def test_drift_is_recorded_for_a_german_query(facts):
    assert facts("wie installiere ich docker", "vec", "how do I install docker on ubuntu").drift
    assert not facts(
        "wie installiere ich docker", "vec", "wie installiere ich docker unter ubuntu"
    ).drift
