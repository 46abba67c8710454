from qmd_reward.ftsquery import (
    ERROR_EMPTY,
    ERROR_MULTILINE,
    ERROR_ONLY_NEGATION,
    ERROR_UNBALANCED,
    Token,
    Unit,
    parse_lex_line,
)


def units(line: str) -> tuple[Unit, ...]:
    return parse_lex_line(line).units


def test_plain_terms_are_stemmed_prefix_terms() -> None:
    assert units("SSH Keys") == (
        Unit((Token("ssh", prefix=True),)),
        Unit((Token("kei", prefix=True),), term=1),
    )


def test_quoted_phrase_is_exact_and_adjacent() -> None:
    assert units('"public key" login') == (
        Unit((Token("public"), Token("kei"))),
        Unit((Token("login", prefix=True),), term=1),
    )


def test_negated_term_and_phrase() -> None:
    parsed = parse_lex_line('python -snake -"monty python"')
    assert [u.negated for u in parsed.units] == [False, True, True]
    assert parsed.negatives[1].tokens == (Token("monti"), Token("python"))


def test_a_negated_dotted_term_is_one_negation() -> None:
    # QMD: NOT ("node"* AND "js"*): a note is excluded only when it holds every part.
    parsed = parse_lex_line("runtime -node.js -deno")
    assert [[u.tokens[0].stem for u in term] for term in parsed.negated_terms] == [
        ["node", "js"],
        ["deno"],
    ]


def test_hyphenated_token_is_a_phrase() -> None:
    assert units("multi-agent") == (Unit((Token("multi"), Token("agent"))),)
    assert units("gpt-4") == (Unit((Token("gpt"), Token("4"))),)


def test_dotted_token_splits_into_anded_parts() -> None:
    assert units("node.js") == (
        Unit((Token("node", prefix=True),)),
        Unit((Token("js", prefix=True),)),
    )


def test_punctuation_is_dropped_inside_a_term() -> None:
    # QMD keeps letters, numbers, ' and _ of a term: "tcp/ip" searches "tcpip".
    assert units("tcp/ip") == (Unit((Token("tcpip", prefix=True),)),)


def test_underscore_term_is_a_phrase_with_a_prefix_tail() -> None:
    assert units("authorized_keys") == (Unit((Token("author"), Token("kei", prefix=True))),)


def test_only_negations_match_nothing() -> None:
    parsed = parse_lex_line("-foo -bar")
    assert parsed.error == ERROR_ONLY_NEGATION
    assert not parsed.searchable


def test_odd_quotes_rejected() -> None:
    assert parse_lex_line('"ssh key login').error == ERROR_UNBALANCED


def test_line_break_rejected() -> None:
    assert parse_lex_line("ssh\nkey").error == ERROR_MULTILINE


def test_empty_and_punctuation_only() -> None:
    assert parse_lex_line("").error == ERROR_EMPTY
    assert parse_lex_line(" - * ").error == ERROR_EMPTY


def test_raw_query_is_not_validated() -> None:
    # The user's own query is not a typed lex line: an open quote runs to the end.
    parsed = parse_lex_line('"ssh key login', strict=False)
    assert parsed.searchable
    assert parsed.units == (Unit((Token("ssh"), Token("kei"), Token("login"))),)


def test_hyphen_inside_quotes_is_dropped_like_qmd() -> None:
    # QMD sanitises each quoted word, so "multi-agent" inside quotes becomes "multiagent".
    assert units('"multi-agent system"') == (Unit((Token("multiag"), Token("system"))),)
