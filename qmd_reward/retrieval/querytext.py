"""The search text of a query record: what the user typed, without training directives."""

from __future__ import annotations

import re

# Training queries may end in "/only:lex" (older files: "only: lex") to ask the model for
# one line type. It steers generation; QMD never searches for it.
_ONLY_DIRECTIVE = re.compile(r"\s+/?only:\s*(?:lex|vec|hyde)\s*$", re.IGNORECASE)


def base_query(query: str) -> str:
    """``query`` without a trailing only-directive."""
    return _ONLY_DIRECTIVE.sub("", query)


def normalise_query(query: str) -> str:
    """Key for matching query texts across files: base query, lowercased, spaces collapsed."""
    return " ".join(base_query(query).lower().split())
