from collections import Counter

from evals.queries import DEFAULT_QUERIES, UNCATEGORISED, category_map, read_queries

CATEGORIES = {
    "technical docs",
    "short and ambiguous",
    "named entities",
    "lowercase entities",
    "personal notes",
    "temporal",
    "comparisons",
    "errors",
    "long complex",
    "quoted phrases",
    "ambiguous (negation-worthy)",
    "non-english",
    "only modes",
}


def test_shipped_query_set_covers_every_category():
    pairs = read_queries(DEFAULT_QUERIES)
    assert len(pairs) >= 90
    counts = Counter(category for category, _ in pairs)
    assert set(counts) == CATEGORIES
    assert min(counts.values()) >= 5
    queries = [q for _, q in pairs]
    assert len(set(queries)) == len(queries), "queries must be unique to match results"


def test_only_mode_queries_carry_a_suffix():
    only = [q for c, q in read_queries(DEFAULT_QUERIES) if c == "only modes"]
    suffixes = {q.rsplit(" ", 1)[1] for q in only}
    assert suffixes == {"/only:lex", "/only:vec", "/only:hyde"}


def test_headers_comments_and_default_category(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(
        "## a comment, not a category\nbefore any header\n\n# first\nalpha\n  beta  \n"
        "#second\ngamma\n# first\nalpha\n",
        encoding="utf-8",
    )
    assert read_queries(path) == [
        (UNCATEGORISED, "before any header"),
        ("first", "alpha"),
        ("first", "beta"),
        ("second", "gamma"),
        ("first", "alpha"),
    ]
    assert category_map(path)["alpha"] == "first"
    assert category_map(None) == {}
