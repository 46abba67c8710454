"""Checks of a line's text alone: babble, truncation, questions, keyword lists, meta talk and
the web-search habits QMD's FTS5 reads literally."""

import pytest

from qmd_reward.textchecks import (
    MAX_LENGTH,
    boilerplate_opening,
    degenerate,
    ends_sentence,
    fillers,
    function_word_share,
    hyphen_chains,
    is_keyword_list,
    is_question,
    meta_talk,
    mojibake,
    repeats,
    search_syntax,
    truncation,
)

KINDS = ("lex", "vec", "hyde")

# --- degenerate text -----------------------------------------------------------------------

BABBLE = {
    "stuttered syllables": "The Anererererer......",
    "stuttered letters": "sourdough starterrrrrrr feeding",
    "sentence punctuation run": "feed the starter!!!!!!",
    "symbol run": "%%%%%%%% starter",
    "one token looped": "a a a a a",
    "a query word looped": "kubernetes kubernetes kubernetes kubernetes pods",
    "one word three times in a row": "the cat cat cat sat",
    "stuttered words": "the the wifi router router is is down",
    "mojibake": "åŒ—äº¬ weather forecast",
    "replacement character": "weather \ufffd forecast",
    "long consonant mash": "xkcdqzrt pod",
    "several consonant mashes": "bcdfg hjklm npqrst",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", BABBLE.values(), ids=BABBLE.keys())
def test_degenerate_text_is_caught_in_every_line_type(text, kind):
    assert degenerate(text, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_a_line_longer_than_its_type_allows_is_babble(kind):
    words = "ssh key login server password " * 200
    text = words[: MAX_LENGTH[kind] + 1]
    assert "long" in degenerate(text, kind)
    assert degenerate(text[: MAX_LENGTH[kind]], kind) is None


@pytest.mark.parametrize("kind", ["vec", "hyde"])
def test_prose_of_mostly_unknown_words_is_babble(kind):
    assert degenerate("Flurbo glimtax wizzle snorfblat quantrix", kind) == (
        "mostly words no dictionary knows"
    )


def test_a_lex_list_of_jargon_is_not_babble():
    assert degenerate("Flurbo glimtax wizzle snorfblat quantrix", "lex") is None
    assert degenerate("pgbouncer kubectl crashloopbackoff", "lex") is None


def test_empty_text_has_no_words():
    assert degenerate("   ", "vec") == "no words at all"
    assert degenerate("... !!", "lex") == "no words at all"


TECHNICAL = [
    "grpc over http/2 with btrfs and pnpm",
    "grpc btrfs pnpm html http https",
    "serve index.html over https with http redirects",
    "set the colour to #ffffff and the mask to 0xdeadbeef",
    "kubectl get pods -n kube-system --all-namespaces",
    "edit nginx.conf then reload nginx",
    "pandas read_csv -> DataFrame",
    "AAAA record for example.com",
    "date format YYYY-MM-DD",
    "git merge conflict <<<<<<< HEAD ======= >>>>>>> branch",
    "## Heading | --- | --- |",
    "Kubectl kubectl get pods",
    "Feed a sourdough starter twice a day at a 1:1:1 ratio.",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", TECHNICAL)
def test_technical_text_is_not_babble(text, kind):
    assert degenerate(text, kind) is None


@pytest.mark.parametrize(
    "text", ["crème brûlée recipe", "Straße in München", "北京天气", "naïve café"]
)
def test_accented_and_cjk_text_is_not_mojibake(text):
    assert not mojibake(text)


# --- truncation ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Keep it at room temperat", "Install the package and then expla"])
def test_cut_mid_word(text):
    assert truncation(text) == "it is cut mid-word"


@pytest.mark.parametrize(
    "text",
    ["Feed it twice a day with", "Configure the firewall to allow the", "Copy the key and"],
)
def test_ends_on_a_function_word(text):
    assert truncation(text) == "it ends on a function word"


@pytest.mark.parametrize(
    "text",
    ["Use ssh-keygen to create a key,", "Run the installer and then;", "Open the settings ("],
)
def test_ends_on_dangling_punctuation(text):
    assert truncation(text) == "it ends on dangling punctuation"


@pytest.mark.parametrize(
    "text",
    [
        "Set the proxy, then back it up",
        "First, set up",
        "Click the avatar and log out",
        "Stop the service and shut down",
        "Turn the device off",
        "Go to settings and turn it on",
    ],
)
def test_a_verb_particle_at_the_end_is_not_a_cut(text):
    found = truncation(text)
    assert found == "it stops without ending its sentence"


def test_an_uppercase_last_word_is_not_a_cut_function_word():
    assert truncation("Point the proxy at IT") == "it stops without ending its sentence"


@pytest.mark.parametrize(
    "text",
    [
        "It works.",
        "Is it done?",
        "Then restart the daemon!",
        'Run "make install".',
        "Wait…",
        "完成了。",
    ],
)
def test_an_ended_sentence_is_not_truncated(text):
    assert ends_sentence(text)
    assert truncation(text) is None


# --- questions, lists, meta talk -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "How do I rotate a TLS certificate? What tools help?",
        "What is a TLS certificate?",
        "Is python 3.12 out yet?",
        "Does it work...?",
        "这是什么？",
    ],
)
def test_is_question(text):
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do you rotate it? Run certbot renew, then reload nginx.",
        "Run it. Then check?",
        "Run certbot renew",
        "Renew the certificate with certbot.",
    ],
)
def test_is_not_question(text):
    assert not is_question(text)


def test_an_abbreviation_inside_a_question_keeps_it_a_question():
    assert is_question("Should I put a reverse proxy, e.g. nginx, in front of it?")


@pytest.mark.parametrize(
    "text",
    [
        "ssh keygen ed25519 authorized_keys permissions 600",
        "tls cert renewal certbot nginx reload",
    ],
)
def test_is_keyword_list(text):
    assert is_keyword_list(text)


@pytest.mark.parametrize(
    "text",
    [
        "ssh keygen ed25519",  # too short to be called a list
        "Copy the public key to the server with ssh-copy-id.",
        "German cases: nominative, accusative, dative, genitive forms",
        "pets (cats dogs fish birds hamsters)",
    ],
)
def test_is_not_keyword_list(text):
    assert not is_keyword_list(text)


def test_function_words_of_the_text_language_count_against_a_list():
    assert function_word_share("ssh keygen ed25519 authorized_keys permissions") == 0.0
    german = "wie installiere ich docker unter ubuntu"
    assert function_word_share(german, "de") > function_word_share(german)


@pytest.mark.parametrize(
    "text",
    [
        "the user is asking about ssh keys",
        "searching for ssh key docs",
        "find information about ssh keys",
        "wants to know how ssh keys work",
    ],
)
def test_meta_talk_is_found(text):
    assert meta_talk(text)


@pytest.mark.parametrize(
    "text", ["how do I log in with an ssh key", "Run ssh-keygen, then copy the key to the server."]
)
def test_text_about_its_subject_is_not_meta_talk(text):
    assert meta_talk(text) == ()


def test_filler_leads_are_found():
    assert "guide to" in fillers("guide to updating")
    assert "understanding" in fillers("understanding how ice")
    assert fillers("glacier ice core carbon") == ()


def test_boilerplate_openings():
    assert boilerplate_opening("This passage explains the topic in detail.") == "this passage"
    assert boilerplate_opening('  "This is a sample passage that answers it."')
    assert boilerplate_opening("Run certbot renew, then reload nginx.") is None


def test_repeats_counts_uses_past_the_allowance():
    assert repeats("kafka kafka kafka kafka consumer") > repeats("kafka kafka consumer") == 0
    assert repeats("kafka kafka kafka consumer", frozenset({"kafka"})) == 0


# --- web-search syntax and hyphen chains ----------------------------------------------------


@pytest.mark.parametrize(
    ("lex", "found"),
    [
        ("docker OR podman site:reddit.com", ("OR", "site:reddit.com")),
        ("docker AND compose NOT swarm", ("AND", "NOT")),
        ("filetype:pdf tax return", ("filetype:pdf",)),
        ("intitle:nginx config", ("intitle:nginx",)),
    ],
)
def test_search_syntax_is_found(lex, found):
    assert search_syntax(lex) == found


@pytest.mark.parametrize("lex", ["docker or podman", "nginx location: block", "docker compose"])
def test_plain_words_are_not_search_syntax(lex):
    assert search_syntax(lex) == ()


def test_hyphen_chains_of_three_content_words():
    assert hyphen_chains("ssh-key-login-setup end-to-end gpt-4") == ("ssh-key-login-setup",)
    assert hyphen_chains('"docker-compose-volume" mount') == ('"docker-compose-volume"',)


@pytest.mark.parametrize("lex", ["state-of-the-art multi-agent", "well-known ports", "gpt-4 api"])
def test_real_hyphenated_phrases_are_not_chains(lex):
    assert hyphen_chains(lex) == ()
