"""Example texts and small helpers shared by tests."""

GOOD = (
    "lex: ssh key login\n"
    'lex: "authorized_keys" permissions\n'
    "vec: how do I log in to a server with an ssh key instead of a password\n"
    "hyde: Run ssh-keygen -t ed25519, then ssh-copy-id user@host to install the public key."
)


def dims(scorer, query: str, text: str):
    """The points per dimension of one scored expansion."""
    return scorer.score(query, text).dimensions
