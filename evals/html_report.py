"""``eval report --html``: one self-contained HTML file (inline CSS and SVG, no links, no scripts).

Self-contained so the file can be attached to an issue or opened from a CI artefact offline.
Everything taken from the results file is escaped: expansions are model output, and a model
that writes ``<script>`` must not get to run it in the reader's browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from . import svg
from .report import Report

CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; max-width: 520px; }
ul { margin: 0; padding-left: 1.2em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.bar { background: #4c72b0; height: 10px; display: inline-block; }
"""


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """Rows hold HTML already escaped by the caller (cells may carry markup such as <pre>)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def render_html(report: Report, worst: int = 10) -> str:
    s = report.summary
    title = f"qmd-reward eval report: {report.source}"
    overview = [
        ("file", report.source),
        *([("model", report.model)] if report.model else []),
        ("records scored", str(s.scored)),
        ("errors / skipped", f"{s.errors} / {s.skipped}"),
        ("mean score", f"{s.mean:.4f}"),
    ]
    categories = report.categories()
    dims = report.dimensions()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _table([], [(escape(k), escape(v)) for k, v in overview]),
        '<div class="charts">',
        svg.histogram(report.histogram(20), "score distribution"),
        svg.bar_chart(
            [
                (name, 100 * mean / top if top else 0.0, f"{mean:.2f} / {top}")
                for name, mean, top, _ in dims
            ],
            "mean per dimension (% of maximum)",
        ),
        "</div>",
        "<h2>Per category</h2>",
        _table(
            ["category", "n", "mean score", ""],
            [
                (
                    escape(c),
                    str(n),
                    f"{mean:.3f}",
                    f'<span class="bar" style="width:{max(0.0, mean) * 200:.0f}px"></span>',
                )
                for c, n, mean in categories
            ],
            numeric=(1, 2),
        ),
        "<h2>Mean per dimension</h2>",
        _table(
            ["dimension", "mean", "max", "records"],
            [(escape(name), f"{mean:.2f}", str(top), str(n)) for name, mean, top, n in dims],
            numeric=(1, 2, 3),
        ),
        "<h2>Ratings</h2>",
        _table(["rating", "count"], [(escape(r), str(n)) for r, n in report.ratings()], (1,)),
        f"<h2>Worst {min(worst, len(report.rows))} expansions</h2>",
        _table(
            ["score", "where", "category", "query", "expansion", "deductions"],
            [
                (
                    f"{row.card.score:.3f}<br>{escape(row.card.rating)}",
                    escape(row.where),
                    escape(row.category),
                    escape(row.query),
                    f"<pre>{escape(row.expansion)}</pre>",
                    "<ul>"
                    + "".join(f"<li>{escape(d)}</li>" for d in row.card.deductions)
                    + "</ul>",
                )
                for row in report.worst(worst)
            ],
            numeric=(0,),
        ),
    ]
    if report.errors:
        items = "".join(f"<li>{escape(e)}</li>" for e in report.errors)
        parts.append(f"<h2>Records not scored</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
