"""One test per rubric rule: an example that fires it and one that does not."""

import pytest

from samples import GOOD, dims

# --- hard fails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        GOOD + "\n<|im_start|>user",
        "assistant\n" + GOOD,
        GOOD.replace("lex: ssh key login", "ssh key login"),
        "",
        "lex:\nvec:",
    ],
)
def test_hard_fail_to_zero(s, text):
    card = s.score("ssh key authentication", text)
    assert card.score == 0 and card.rating == "Failed" and card.deductions


def test_good_expansion_is_not_hard_failed(s):
    assert s.score("ssh key authentication", GOOD).score > 0.8


# --- format -------------------------------------------------------------------------------


def test_format_needs_lex_and_vec(s):
    q = "ssh key authentication"
    assert dims(s, q, "lex: ssh keys\nvec: how to use ssh keys for login")["format"] == 30
    assert dims(s, q, "vec: how to use ssh keys for login")["format"] == 20
    assert dims(s, q, "lex: ssh keys")["format"] == 20


# --- diversity ----------------------------------------------------------------------------


def test_diversity_rewards_both_types(s):
    q = "ssh key authentication"
    both = dims(s, q, "lex: ssh keys\nvec: how to use ssh keys for login")["diversity"]
    one = dims(s, q, "lex: ssh keys\nlex: openssh public key")["diversity"]
    assert both > one


def test_diversity_near_duplicate_lex_pairs(s):
    q = "ssh key authentication"
    distinct = "lex: ssh keygen\nlex: authorized_keys permissions\nvec: how to log in with keys"
    dup = "lex: ssh keygen\nlex: ssh keygen tool\nvec: how to log in with keys"
    assert dims(s, q, distinct)["diversity"] > dims(s, q, dup)["diversity"]


def test_diversity_vec_echo_costs(s):
    q = "how to rotate a tls certificate"
    fresh = "lex: tls certificate renewal\nvec: steps to renew and replace an expiring tls cert"
    echo = "lex: tls certificate renewal\nvec: how to rotate a tls certificate"
    assert dims(s, q, fresh)["diversity"] > dims(s, q, echo)["diversity"]


def test_lex_echo_caps_score(s):
    q = "ssh key authentication"
    card = s.score(q, GOOD + "\nlex: ssh key authentication")
    assert card.score <= 0.5 and "capped" in card.deductions[0]
    assert s.score(q, GOOD).score > 0.5


# --- hyde ---------------------------------------------------------------------------------


def test_hyde_only_counts_when_present(s):
    q = "ssh key authentication"
    without = s.score(q, "lex: ssh keygen\nvec: how to log in to a server with a key")
    assert "hyde" not in without.dimensions and without.max_points == 120
    assert s.score(q, GOOD).max_points == 140


def test_hyde_length_rule(s):
    q = "ssh key authentication"
    base = "lex: ssh keygen\nvec: how to log in with an ssh key\nhyde: "
    ideal = dims(s, q, base + "Use ssh-keygen to make an ssh key pair and copy it over.")["hyde"]
    short = dims(s, q, base + "Use ssh keys.")["hyde"]
    long = dims(s, q, base + "Use an ssh key pair for login. " * 10)["hyde"]
    assert ideal > short > long or ideal > long


def test_hyde_single_passage(s):
    q = "ssh key authentication"
    one = "lex: ssh keygen\nvec: how to log in with an ssh key\nhyde: Generate an ssh key pair."
    two = one + "\nhyde: Copy the ssh public key to the server."
    assert dims(s, q, one)["hyde"] > dims(s, q, two)["hyde"]


def test_hyde_on_topic(s):
    base = "lex: TDS racing\nvec: who runs TDS motorsports\nhyde: "
    q = "who is TDS motorsports"
    named = dims(s, q, base + "TDS Motorsports is an endurance racing team based in France.")
    vague = dims(s, q, base + "This company is an endurance racing team based in France.")
    assert named["hyde"] >= vague["hyde"] + 5


def test_hyde_repetition(s):
    q = "ssh key authentication"
    base = "lex: ssh keygen\nvec: how to log in with an ssh key\nhyde: "
    plain = dims(s, q, base + "Generate an ssh key pair, then copy the public half to the host.")
    rep = dims(
        s, q, base + "Create a keypair, copy the keypair to the server, then test the keypair."
    )
    assert plain["hyde"] > rep["hyde"]


# --- quality ------------------------------------------------------------------------------


def test_quality_lex_shorter_than_vec(s):
    q = "ssh key authentication"
    short = "lex: ssh keygen\nvec: how do I log in to a server with an ssh key"
    long = "lex: ssh keygen ed25519 authorized_keys passwordless login setup\nvec: ssh key login"
    assert dims(s, q, short)["quality"] > dims(s, q, long)["quality"]


def test_quality_vec_natural_language(s):
    q = "ssh key authentication"
    natural = "lex: ssh keygen\nvec: how do I log in to a server with an ssh key"
    terse = "lex: ssh keygen\nvec: sshkeys"
    assert dims(s, q, natural)["quality"] > dims(s, q, terse)["quality"]


def test_quality_lex_keeps_key_terms(s):
    q = "glacier ice core carbon dating"
    kept = "lex: glacier ice core dating\nvec: how are glacier ice cores dated with carbon"
    lost = "lex: understanding how\nvec: how are glacier ice cores dated with carbon"
    assert dims(s, q, kept)["quality"] > dims(s, q, lost)["quality"]


def test_quality_filler_absent_from_query(s):
    q = "kubernetes pod restarts"
    plain = (
        "lex: kubernetes pod restarts crashloop\nvec: why does my kubernetes pod keep restarting"
    )
    filler = "lex: kubernetes pod overview basics\nvec: why does my kubernetes pod keep restarting"
    assert dims(s, q, plain)["quality"] > dims(s, q, filler)["quality"]
    # the same word is fine when the user asked for it
    q2 = "kubernetes overview"
    vec = "\nvec: a high level tour of how kubernetes is built"
    asked = dims(s, q2, "lex: kubernetes overview architecture" + vec)["quality"]
    assert asked >= dims(s, q2, "lex: kubernetes architecture" + vec)["quality"]


def test_quality_quoted_phrase_bonus_for_multiword_query(s):
    q = "python memory leak debugging"
    quoted = 'lex: "memory leak" python\nvec: how to find memory leaks in python\nlex: tracemalloc'
    plain = "lex: memory leak python\nvec: how to find memory leaks in python\nlex: tracemalloc"
    assert dims(s, q, quoted)["quality"] >= dims(s, q, plain)["quality"]


# --- entity -------------------------------------------------------------------------------


def test_entity_all_lex_lines_keep_entity(s):
    q = "who is TDS motorsports"
    good = "lex: TDS motorsports history\nlex: TDS racing team\nvec: who runs TDS motorsports"
    some = "lex: TDS motorsports history\nlex: racing team founders\nvec: who runs TDS motorsports"
    none = "lex: motorsports history\nlex: racing team founders\nvec: who runs the team"
    assert dims(s, q, good)["entity"] > dims(s, q, some)["entity"] > dims(s, q, none)["entity"]
    assert dims(s, q, none)["entity"] < 0


def test_entity_generic_lex_phrase(s):
    q = "who is TDS motorsports"
    generic = "lex: TDS motorsports\nlex: find information about\nvec: who runs TDS motorsports"
    plain = "lex: TDS motorsports\nlex: TDS racing history\nvec: who runs TDS motorsports"
    assert dims(s, q, plain)["entity"] - dims(s, q, generic)["entity"] >= 15


def test_entity_vec_bonus(s):
    q = "who is TDS motorsports"
    named = "lex: TDS motorsports\nvec: who runs TDS motorsports"
    unnamed = "lex: TDS motorsports\nvec: who runs the racing team"
    assert dims(s, q, named)["entity"] > dims(s, q, unnamed)["entity"]


def test_no_entities_gives_flat_ten(s):
    assert dims(s, "how to bake bread", "lex: bake bread\nvec: how do I bake bread")["entity"] == 10


# --- think --------------------------------------------------------------------------------


def test_think_block(s):
    q = "ssh key authentication"
    assert dims(s, q, GOOD)["think"] == 20
    assert dims(s, q, "<think>plan</think>\n" + GOOD)["think"] == 0


# --- only mode ----------------------------------------------------------------------------


def test_only_mode_penalises_other_types(s):
    q = "auth /only:lex"
    pure = s.score(q, "lex: auth setup\nlex: authentication config\nlex: auth login credentials")
    mixed = s.score(q, "lex: auth setup\nlex: authentication config\nvec: how to log in")
    assert pure.only_mode == "lex"
    assert pure.dimensions["format"] == 30 > mixed.dimensions["format"]


def test_only_mode_missing_type_fails(s):
    card = s.score("auth /only:hyde", "lex: auth setup")
    assert card.score == 0 and card.rating == "Failed"


def test_only_hyde_single_passage_can_be_excellent(s):
    card = s.score(
        "how does photosynthesis work /only:hyde",
        "hyde: Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    )
    assert card.rating == "Excellent"


# --- ratings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        (0.95, "Excellent"),
        (0.8, "Excellent"),
        (0.7, "Good"),
        (0.45, "Acceptable"),
        (0.2, "Poor"),
        (0.19, "Failed"),
    ],
)
def test_ratings(score, rating):
    from qmd_reward import rating_for

    assert rating_for(score) == rating
