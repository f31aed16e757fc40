"""The HTML report's page: the document skeleton with its Content-Security-Policy, the style sheet and
script (package data: `static/report.css`, `static/report.js`), escaping and the number formats every
section uses.

Nothing is fetched: no fonts, scripts, styles or images from a network. The CSP meta tag enforces it
and lets only the report's own script run (pinned by its SHA-256), so even a completion that slipped
past escaping could not execute. Every piece of run or model text goes through `esc`: completions are
untrusted.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac",
)  # fmt: skip
NAV = (
    ("summary", "Summary"),
    ("comparisons", "Comparisons"),
    ("matrix", "Significance matrix"),
    ("plots", "Plots"),
    ("failures", "Faithfulness failures"),
    ("diffs", "Per-sample diffs"),
)


@cache
def static(name: str) -> str:
    """A file of the package's `static/` folder (shipped as package data)."""
    return resources.files("faithbench.reports").joinpath("static", name).read_text(encoding="utf-8")


def document(title: str, body: Sequence[str], assets: Sequence[str] = ("report",)) -> str:
    """The whole HTML document around `body`: CSP, inline style sheet and script. `assets` names the
    `static/` style sheets and scripts (NAME.css, NAME.js) the page takes, in order: every page
    starts from `report`, and a page with its own parts adds its own (the run page: `run`)."""
    css = "\n" + "\n".join(static(f"{name}.css") for name in assets)
    script = "\n" + "\n".join(static(f"{name}.js") for name in assets)
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{css}</style>",
            "</head>",
            "<body>",
            *body,
            f"<script>{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def esc(value: object) -> str:
    """Escaped for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


def section(ident: str, title: str, intro: str, content: Iterable[str]) -> str:
    return "\n".join(
        [
            f'<section id="{ident}">',
            f"<h2>{title}</h2>",
            f'<p class="intro">{intro}</p>',
            *content,
            "</section>",
        ]
    )


def nav(items: Sequence[tuple[str, str]] = NAV) -> str:
    """Links to the page's sections: (id, title) pairs."""
    return "<nav>" + " ".join(f'<a href="#{i}">{t}</a>' for i, t in items) + "</nav>"


def swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>'


def bar_table(rows: Sequence[tuple[str, int]], colour: str, kind: str, head: str) -> str:
    """Rows of (label, samples) as a table of horizontal bars scaled to the largest count, `head`
    naming the label column (a histogram: samples per step, per value bin)."""
    top = max((count for _, count in rows), default=0)
    cells = []
    for name, count in rows:
        width = 100 * count / top if top else 0
        cells.append(
            f'<tr><th scope="row">{esc(name)}</th><td class="num">{count}</td>'
            f'<td class="barcell"><span class="bar" style="width:{width:.1f}%;background:{colour}">'
            "</span></td></tr>"
        )
    return (
        f'<table class="hist {kind}"><thead><tr><th>{esc(head)}</th><th class="num">samples</th>'
        f"<th></th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
    )


# ------------------------------------------------------------------------------------------ numbers


def num(value: float | None, digits: int = 3) -> str:
    return "&ndash;" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "&ndash;"
    text = f"{value:+.{digits}f}"
    return "0.000" if text in ("+0.000", "-0.000") else text.replace("-", "&minus;")


def p_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "&ndash;"
    if value >= 0.001 or value == 0:
        return f"{value:.3f}"
    return f"{value:.1e}".replace("-", "&minus;")


def ci(low: float | None, high: float | None, is_signed: bool = False) -> str:
    if low is None or high is None:
        return "&ndash;"
    fmt = signed if is_signed else num
    return f"[{fmt(low)}, {fmt(high)}]"


def number(value: float) -> str:
    """A number as a person writes it: 18 for 18.0."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def pct(part: int, whole: int) -> str:
    share = 100 * part / whole
    return f"{share:.1f}%" if 0 < share < 10 else f"{share:.0f}%"


def sort_key(sample_id: str) -> tuple[str, int, str]:
    """`test-2` before `test-10`."""
    match = re.fullmatch(r"(.*?)(\d+)", sample_id)
    return (match.group(1), int(match.group(2)), "") if match else (sample_id, -1, sample_id)
