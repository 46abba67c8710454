"""QMD's query-term filter: expansion lines sharing no term with the query are dropped.

QMD checks this before searching, with a plain substring test, so a line survives when
any query term appears anywhere in it ("to" survives inside "tomato"). That leniency is
QMD's, and copying it keeps the reward honest about which lines QMD really runs.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^a-z0-9\s]")


@lru_cache(maxsize=16384)
def query_terms(query: str) -> tuple[str, ...]:
    """The query's terms as QMD computes them: lowercase, ASCII alphanumerics only."""
    return tuple(_NON_ALNUM.sub(" ", query.lower()).split())


def line_survives(line: str, query: str) -> bool:
    """True when QMD keeps ``line`` for ``query``; a query with no terms keeps every line."""
    terms = query_terms(query)
    if not terms:
        return True
    text = line.lower()
    return any(term in text for term in terms)
