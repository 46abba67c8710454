"""Read an eval query file: one query a line, ``# category`` headers, ``##`` comments."""

from __future__ import annotations

from pathlib import Path

UNCATEGORISED = "uncategorised"

# The query set shipped with the package; `eval report` uses it to categorise results.
DEFAULT_QUERIES = Path(__file__).with_name("queries.txt")


def read_queries(path: str | Path) -> list[tuple[str, str]]:
    """Return ``(category, query)`` pairs in file order.

    A line starting with one ``#`` names the category of the queries after it; ``##`` starts a
    comment, so a file can explain itself without inventing an empty category.
    """
    category = UNCATEGORISED
    pairs: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line.startswith("##"):
                continue
            if line.startswith("#"):
                category = line.lstrip("#").strip() or UNCATEGORISED
                continue
            pairs.append((category, line))
    return pairs


def category_map(path: str | Path | None) -> dict[str, str]:
    """Query -> category; the first header wins when a query is listed twice."""
    if path is None:
        return {}
    mapping: dict[str, str] = {}
    for category, query in read_queries(path):
        mapping.setdefault(query, category)
    return mapping
