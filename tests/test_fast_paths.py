"""Each shortcut the scorer takes for speed gives what the plain definition gives.

The definitions are restated here in their simplest form (a regex over the whole text, a loop
over every word) and compared with the fast code on generated text, including the odd cases
(glue characters, non-ASCII letters, runs of symbols, stray whitespace).
"""

import re
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from qmd_reward import checks, entities, expansion, lexicon, rubric
from qmd_reward.text import FUNCTION_WORDS, STOPWORDS, normalise, words

# Letters, glue characters, symbols and whitespace the checks treat specially.
PIECES = [
    "node.js",
    "C++",
    "e-mail",
    "it's",
    "Sarah’s",
    "--previous",
    "x86_64",
    "GPT-4",
    "3.12",
    "the",
    "of",
    "and",
    "guide",
    "overview",
    "tutorial",
    "how to",
    "learn about",
    "React",
    "Straße",
    "İstanbul",
    "東京",
    "ererer",
    "aaaaa",
    "!!!!!",
    "......",
    "$$$$$$",
    "€€€€€€",
    "=======",
    "-",
    "'",
    '"',
    ",",
    ";",
    "(",
    "—",
    "  ",
    "\t",
    "This passage",
    "is",
    "for",
]
texts = st.lists(st.sampled_from(PIECES), max_size=14).map(" ".join) | st.text(max_size=60)
# Plain words with sentence punctuation, the tokeniser's split path.
plain_sentences = st.lists(
    st.tuples(
        st.sampled_from(["Use", "abc", "x1", "42", "HTTP2", "_", "a_b", "", "tea"]),
        st.sampled_from(["", ".", ",", "?!", "...", ";:", "-", "'"]),
    ).map("".join),
    max_size=14,
).map(" ".join)
ascii_texts = (
    st.text(alphabet=st.sampled_from("abcXYZ019 _.+#'-\"!?,;:$%"), max_size=60)
    | st.lists(st.sampled_from([p for p in PIECES if p.isascii()]), max_size=14).map(" ".join)
    | plain_sentences
)


@settings(max_examples=300, deadline=None)
@given(ascii_texts)
def test_ascii_tokeniser_matches_unicode_tokeniser(text):
    pattern = re.compile(r"\w+(?:[.+#'\-]\w+)*[+#]*", re.UNICODE)
    assert words.__wrapped__(text) == tuple(pattern.findall(text.lower()))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_symbol_run_prefilter_matches_regex(text):
    assert checks._symbol_run(text) == (checks._SYMBOL_RUN.search(text) is not None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdeé", min_size=1, max_size=14))
def test_letter_run_prefilter_never_hides_a_run(word):
    if checks._LETTER_RUN.search(word):
        assert len(set(word)) <= len(word) - 4


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["lex", "vec", "hyde"]))
def test_word_shapes_from_the_dict_match_the_definition(text, kind):
    found = words(text)
    assert checks._shapes(found) == [checks._shape(w) for w in found]
    seen = reduce(lambda a, b: a | b, checks._shapes(found), 0)
    assert bool(seen & checks._STUTTERED) == any(checks._shape(w) & 1 for w in found)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_least_length_bounds_the_normalised_length(text):
    assert rubric._least_length(text) <= len(normalise(text))


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["React hooks tutorial", "how to learn C++", "", "e-mail it's"]))
def test_echo_tests_match_their_definitions(line, query):
    ln, qn = normalise(line), normalise(query)
    echo = bool(qn) and (ln == qn or (qn in ln and len(ln) < len(qn) + 10))
    assert rubric.echoes(line, query) is echo
    own = [w for w in words(line) if w not in STOPWORDS]
    asked = {w for w in words(query) if w not in STOPWORDS}
    near = bool(own and asked.issuperset(own)) or (
        bool(query) and fuzz.token_sort_ratio(ln, qn) >= 95
    )
    assert rubric.near_echo(line, query) is near


@settings(max_examples=300, deadline=None)
@given(texts)
def test_boilerplate_opening_matches_full_normalisation(text):
    openers = checks._openers()
    lower = " ".join(text.lower().split())
    expected = next((o for o in openers if lower.startswith(o)), None)
    assert checks.boilerplate_opening(text) == expected


def test_boilerplate_opening_with_wide_spaces_between_words():
    opener = checks._openers()[0]
    spaced = (" " * 90).join(opener.split()) + " and more"
    assert checks.boilerplate_opening(spaced) == opener


@settings(max_examples=300, deadline=None)
@given(texts)
def test_truncation_matches_its_regex(text):
    dangling = re.search(r"[,;:(\-–—]\s*$", text) is not None
    tokens = words(text)
    cut = bool(tokens) and tokens[-1] in FUNCTION_WORDS and not text.split()[-1].isupper()
    assert checks.hyde_truncated(text) is (dangling or cut)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_line_keys_fast_path_matches_token_by_token(line):
    keys = []
    for token in words(line.replace("’", "'")):
        for part in token.split("-"):
            key = entities._key(part)
            if key:
                keys.append(key)
    assert entities._line_keys.__wrapped__(line) == tuple(keys)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_plain_terms_fast_path_matches_token_by_token(lex):
    rest = re.sub(r'-?"[^"]*"', " ", lex)
    expected = sum(1 for t in rest.split() if not t.startswith("-") and words(t))
    assert checks.plain_terms(lex) == expected


@settings(max_examples=300, deadline=None)
@given(texts)
def test_fillers_match_a_search_for_every_filler(text):
    padded = f" {' '.join(words(text))} "
    expected = sorted(f for f in lexicon.word_list("fillers.txt") if f" {f} " in padded)
    assert checks.fillers_in(text) == tuple(expected)


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["en", "de", None]), st.sampled_from(["", "guide react", "the"]))
def test_says_more_than_matches_specific_words(text, lang, asked):
    known = frozenset(words(asked))
    expected = any(w not in known for w in checks.specific_words.__wrapped__(text, lang))
    assert checks.says_more_than(text, lang, known) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))
def test_known_word_matches_zipf(word):
    for lang in ("en", "de"):
        assert lexicon.known_word(word, lang) is (lexicon.zipf.__wrapped__(word, lang) != 0)


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_similarity_length_shortcut_only_rules_out_low_ratios(a, b):
    a, b = normalise(a), normalise(b)
    if 200 * min(len(a), len(b)) < 90 * (len(a) + len(b)):
        assert fuzz.token_sort_ratio(a, b) < 90
    assert rubric._similar(a, b, 90) is (fuzz.token_sort_ratio(a, b) >= 90)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["lex", "LEX", "Vec", "hyde", "hydex", "lex ", "\u00a0", ":", " ", "é"]),
        max_size=6,
    ).map("".join)
    | st.text(max_size=20)
)
def test_typed_line_reading_matches_its_regex(line):
    stripped = line.strip()
    if not stripped or stripped.lower() in {"assistant", "user", "system"}:
        return
    kind, content, _ = expansion._read_line.__wrapped__(stripped)
    match = re.match(r"^(lex|vec|hyde)\s*:\s?(.*)$", stripped, re.IGNORECASE | re.DOTALL)
    if match is None:
        assert (kind, content) == ("", stripped)
    else:
        assert (kind, content) == (match.group(1).lower(), match.group(2).strip())


@settings(max_examples=300, deadline=None)
@given(texts, texts, st.sampled_from([2, 3]))
def test_near_duplicate_matches_its_definition(a, b, min_distance):
    an, bn = normalise(a), normalise(b)
    expected = (
        an == bn
        or an in bn
        or bn in an
        or len(set(an.split()) ^ set(bn.split())) < min_distance
        or fuzz.token_sort_ratio(an, bn) >= 90
    )
    assert rubric.near_duplicate(a, b, min_distance) is expected


@settings(max_examples=300, deadline=None)
@given(texts)
def test_generic_lex_scan_matches_a_search_for_each_phrase(line):
    rest = normalise(line)
    for phrase in rubric.GENERIC_LEX_PHRASES:
        rest = rest.replace(phrase, " ", 1)
    expected = rest != normalise(line) and len(rest.strip()) < 3
    assert rubric.is_generic_lex(line) is expected


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from([frozenset(), frozenset({"react", "guide"})]))
def test_says_more_than_from_kept_verdicts_matches_specific_words(text, asked):
    expected = any(w not in asked for w in checks.specific_words.__wrapped__(text, "en"))
    checks.says_more_than(text, "en", asked)  # judges the words and keeps their verdicts
    assert checks.says_more_than(text, "en", asked) is expected
