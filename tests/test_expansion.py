from qmd_reward.expansion import LineIssue, parse_expansion, qmd_query_terms, split_only_mode


def test_types_in_order_and_whitespace_tolerance():
    exp = parse_expansion("  lex: a b \r\n\r\nvec:how to c\rhyde:   passage here  \n\n")
    assert exp.lex == ("a b",)
    assert exp.vec == ("how to c",)
    assert exp.hyde == ("passage here",)
    assert exp.invalid == ()


def test_invalid_lines_recorded():
    exp = parse_expansion("lex: a\nSure, here you go\nvec: b")
    assert exp.invalid == ("Sure, here you go",)


def test_empty_lex_is_recorded_not_counted():
    exp = parse_expansion("lex:\nvec: how to do it")
    assert exp.lex == ()
    assert exp.lines[0].issues == (LineIssue.EMPTY,)
    assert exp.lines[0].dropped


def test_think_block_removed_and_flagged():
    exp = parse_expansion("<think>\nhmm\n</think>\nlex: auth")
    assert exp.has_think and exp.lex == ("auth",) and exp.invalid == ()
    assert not parse_expansion("lex: auth").has_think


def test_trailing_end_marker_is_not_leakage_but_inner_is():
    assert not parse_expansion("lex: auth setup<|im_end|>").template_leak
    assert parse_expansion("lex: a<|im_end|>\nvec: b").template_leak
    assert parse_expansion("assistant\nlex: a").template_leak


def test_only_mode():
    q = split_only_mode("auth setup /only:lex")
    assert (q.text, q.only) == ("auth setup", "lex")
    assert split_only_mode("auth setup").only is None
    assert split_only_mode("auth only: hyde").only == "hyde"


def test_qmd_query_terms_ascii_like_qmd():
    assert qmd_query_terms("Node.js v20 -- what's new?") == (
        "node",
        "js",
        "v20",
        "what",
        "s",
        "new",
    )
    assert qmd_query_terms("東京 天気") == ()


def test_qmd_validity_issues():
    exp = parse_expansion(
        'lex: "unclosed phrase auth\nlex: -foo -"bar baz"\nvec: auth without -password\n'
        "hyde: something about cooking\nlex: auth -oauth",
        query="auth",
    )
    issues = [line.issues for line in exp.lines]
    assert LineIssue.UNBALANCED_QUOTES in issues[0]
    assert LineIssue.ONLY_NEGATION in issues[1]
    assert LineIssue.NEGATION_IN_EMBEDDING in issues[2]
    assert LineIssue.NO_QUERY_TERM in issues[3]
    assert issues[4] == ()


def test_no_query_term_filter_off_when_query_has_no_ascii_terms():
    exp = parse_expansion("lex: 东京 天气预报", query="东京天气")
    assert exp.lines[0].issues == ()


def test_hyphenated_and_numeric_dash_is_not_negation():
    exp = parse_expansion("vec: multi-agent systems at -5 degrees", query="agent")
    assert exp.lines[0].issues == ()
