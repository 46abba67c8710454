"""Parsing model output exactly as QMD's expandQuery reads it, and QMD's query-term filter."""

import pytest

from qmd_reward.parse import (
    Line,
    Query,
    expansion_from_pairs,
    kept_by_qmd,
    parse_expansion,
    qmd_query_terms,
    split_only_mode,
)

# --- typed lines ---------------------------------------------------------------------------


def test_typed_lines_keep_their_order_type_text_and_line_number():
    parsed = parse_expansion("lex: ssh keys\nvec: log in with a key\nhyde: Run ssh-keygen.")
    assert parsed.lines == (
        Line("lex", "ssh keys", 1),
        Line("vec", "log in with a key", 2),
        Line("hyde", "Run ssh-keygen.", 3),
    )
    assert parsed.invalid == () and not parsed.think and not parsed.leak


def test_of_type_gives_the_texts_of_one_type_in_order():
    parsed = parse_expansion("lex: a b\nvec: c d\nlex: e f")
    assert parsed.of_type("lex") == ("a b", "e f")
    assert parsed.of_type("hyde") == ()


@pytest.mark.parametrize(
    "line", [" lex : ssh keys ", "lex:ssh keys", "lex :ssh keys", "\tlex:  ssh keys"]
)
def test_spaces_around_the_colon_do_not_matter(line):
    assert parse_expansion(line).lines == (Line("lex", "ssh keys", 1),)


@pytest.mark.parametrize(
    "line", ["LEX: ssh keys", "Lex: ssh keys", "VEC: a key", "Hyde: a passage"]
)
def test_type_must_be_written_in_lowercase(line):
    parsed = parse_expansion(line)
    assert parsed.lines == () and parsed.invalid == (line,)


def test_text_after_the_first_colon_keeps_its_own_colons():
    assert parse_expansion("hyde: Note: run it twice").lines[0].text == "Note: run it twice"


def test_blank_lines_are_skipped_but_line_numbers_count_them():
    parsed = parse_expansion("lex: a b\n\n   \nvec: c d\n")
    assert [(line.type, line.number) for line in parsed.lines] == [("lex", 1), ("vec", 4)]
    assert parsed.invalid == ()


@pytest.mark.parametrize(
    "junk",
    ["Sure! Here are some expansions:", "lex", ":", "query: ssh", "- lex: ssh", "lexical: ssh"],
)
def test_invalid_lines_are_kept_as_invalid_and_typed_lines_still_parse(junk):
    parsed = parse_expansion(f"lex: ssh keys\n{junk}\nvec: log in with a key")
    assert parsed.invalid == (junk,)
    assert [line.type for line in parsed.lines] == ["lex", "vec"]


def test_an_empty_typed_line_is_a_line_with_empty_text():
    assert parse_expansion("lex: ").lines == (Line("lex", "", 1),)


# --- think blocks --------------------------------------------------------------------------


def test_think_block_is_removed_and_flagged():
    parsed = parse_expansion("<think>\nthe user wants ssh\n</think>\nlex: ssh keys")
    assert parsed.think
    assert [line.text for line in parsed.lines] == ["ssh keys"]
    assert parsed.invalid == ()


def test_unclosed_think_block_swallows_the_rest():
    parsed = parse_expansion("<think>\nlex: ssh keys")
    assert parsed.think and parsed.lines == () and parsed.invalid == ()


def test_closing_think_tag_alone_drops_what_came_before_it():
    parsed = parse_expansion("reasoning here\n</think>\nlex: ssh keys")
    assert parsed.think and parsed.invalid == ()
    assert [line.text for line in parsed.lines] == ["ssh keys"]


def test_no_think_block_is_not_flagged():
    assert not parse_expansion("lex: ssh keys\nvec: a <b> tag").think


# --- template tokens -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ending", ["<|im_end|>", "\n<|im_end|>", "<|im_end|><|endoftext|>\n", "<|endoftext|>"]
)
def test_one_trailing_end_of_turn_marker_is_how_generation_stops(ending):
    parsed = parse_expansion("lex: ssh keys" + ending)
    assert not parsed.leak
    assert parsed.lines == (Line("lex", "ssh keys", 1),)


@pytest.mark.parametrize(
    "text",
    [
        "lex: ssh<|im_end|>\nvec: log in with a key",
        "lex: ssh <|endoftext|> keys",
        "<|im_start|>assistant\nlex: ssh keys",
    ],
)
def test_template_tokens_mid_output_are_a_leak(text):
    assert parse_expansion(text).leak


@pytest.mark.parametrize("role", ["assistant", "user", "System"])
def test_a_role_line_is_a_leak_and_invalid(role):
    parsed = parse_expansion(f"{role}\nlex: ssh keys")
    assert parsed.leak and parsed.invalid == (role,)
    assert [line.text for line in parsed.lines] == ["ssh keys"]


# --- newlines ------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_newlines_read_as_newlines(newline):
    parsed = parse_expansion(f"lex: ssh keys{newline}vec: log in with a key{newline}")
    assert parsed.lines == (Line("lex", "ssh keys", 1), Line("vec", "log in with a key", 2))
    assert parsed.invalid == ()


def test_expansion_from_pairs_round_trips_through_the_parser():
    pairs = [["lex", "ssh keys"], ["vec", "log in with a key"], ["hyde", "Run ssh-keygen."]]
    parsed = parse_expansion(expansion_from_pairs(pairs))
    assert [[line.type, line.text] for line in parsed.lines] == pairs


# --- /only: requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ssh keys /only:lex", Query("ssh keys", "lex")),
        ("ssh keys /only:vec", Query("ssh keys", "vec")),
        ("ssh keys /only: hyde ", Query("ssh keys", "hyde")),
        ("ssh keys /ONLY:HYDE", Query("ssh keys", "hyde")),
        ("ssh keys only: vec", Query("ssh keys", "vec")),
        ("  ssh keys  ", Query("ssh keys", None)),
        ("ssh keys /only:foo", Query("ssh keys /only:foo", None)),
        ("ssh /only:lex keys", Query("ssh /only:lex keys", None)),
    ],
)
def test_split_only_mode(query, expected):
    assert split_only_mode(query) == expected


# --- QMD's query-term filter ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("auto-fit", ("auto", "fit")),
        ("Auto-fit C++ grid", ("auto", "fit", "c", "grid")),
        ("node.js 20", ("node", "js", "20")),
        ("café crème", ("caf", "cr", "me")),
        ("北京天气", ()),
        ("東京の天気", ()),
        ("", ()),
    ],
)
def test_qmd_query_terms_keep_only_ascii_letters_and_digits(query, terms):
    assert qmd_query_terms(query) == terms


def test_a_line_with_a_query_term_is_kept_as_a_substring():
    assert kept_by_qmd("haircut styles", "hair cut")
    assert kept_by_qmd("fitness plan", "auto-fit")  # 'fit' is a substring of 'fitness'
    assert kept_by_qmd("AUTO layout", "auto-fit")


def test_a_line_without_a_query_term_is_dropped():
    assert not kept_by_qmd("styles", "hair cut")
    assert not kept_by_qmd("css grid", "auto-fit")


def test_an_empty_line_is_never_kept():
    assert not kept_by_qmd("", "ssh keys")
    assert not kept_by_qmd("", "北京天气")


def test_a_query_without_ascii_terms_keeps_every_line():
    for line in ("北京 天气预报", "beijing weather forecast", "zzz"):
        assert kept_by_qmd(line, "北京天气")


def test_the_only_request_is_not_a_query_term():
    assert not kept_by_qmd("only lex lines", "ssh keys /only:lex")
    assert kept_by_qmd("ssh agent", "ssh keys /only:lex")
