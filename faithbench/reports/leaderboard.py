"""The leaderboard (`faithbench.leaderboard.rank.build_leaderboard`) as aligned plain text, GitHub
Markdown, JSON or one self-contained HTML page (the reports' page skeleton, style sheet and escaping:
`page.py`, `static/report.css`; nothing is fetched)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faithbench.errors import FaithbenchError
from faithbench.reports.markdown import inline_text
from faithbench.reports.page import document, esc
from faithbench.reports.table import markdown_table, text_table

if TYPE_CHECKING:  # the leaderboard package loads SQLAlchemy; rendering needs only its models
    from faithbench.leaderboard.schema import Leaderboard, LeaderboardEntry

FORMATS = ("table", "md", "html", "json")
HEADERS = ("rank", "group", "run", "model", "mean", "95% CI", "n", "p vs group leader", "paired")
RIGHT = {0, 1, 4, 5, 6, 7}  # right-aligned columns


def format_leaderboard(lb: Leaderboard, fmt: str = "table") -> str:
    """The leaderboard as `table` (aligned plain text), `md` (GitHub Markdown), `json` or `html`
    (one self-contained page: inline CSS, nothing fetched)."""
    if fmt == "json":
        return lb.model_dump_json(indent=2) + "\n"
    if fmt == "table":
        return _text_table(lb)
    if fmt == "md":
        return _markdown(lb)
    if fmt == "html":
        return _html(lb)
    raise FaithbenchError(f"unknown leaderboard format {fmt!r}; use one of {', '.join(FORMATS)}")


def _title(lb: Leaderboard) -> str:
    return f"{lb.task or 'all tasks'} | {lb.metric} | alpha {lb.alpha:g}"


def _legend(lb: Leaderboard) -> str:
    return (
        f"Group 1: not significantly different from the leader (p >= {lb.alpha:g}, unadjusted); group k+1 "
        "starts at the best run significantly different from group k's leader. Paired tests "
        "(McNemar / sign-flip) where both run directories exist; otherwise unpaired z-tests on the "
        "stored summaries."
    )


def entry_cells(e: LeaderboardEntry) -> tuple[str, ...]:
    ci = "-" if e.ci_low is None or e.ci_high is None else f"[{e.ci_low:.3f}, {e.ci_high:.3f}]"
    return (
        str(e.rank),
        str(e.group),
        e.label,
        e.model,
        "-" if e.mean is None else f"{e.mean:.3f}",
        ci,
        str(e.n),
        _fmt_p(e.p_vs_group_leader),
        "-" if e.paired is None else ("yes" if e.paired else "no"),
    )


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "-"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def _text_table(lb: Leaderboard) -> str:
    rows = [HEADERS, *(entry_cells(e) for e in lb.entries)]
    lines = [_title(lb), text_table(rows, right=RIGHT, rule=False)]
    lines.extend(f"note: {n}" for n in lb.notes)
    return "\n".join(lines) + "\n"


def _markdown(lb: Leaderboard) -> str:
    """Labels, model specs, paths and notes come from users and run files: written so that a Markdown
    renderer shows them as text and never as HTML."""
    align = "".join("r" if i in RIGHT else "l" for i in range(len(HEADERS)))
    rows = [tuple(inline_text(c) for c in entry_cells(e)) for e in lb.entries]
    table = markdown_table([HEADERS, *rows], align)
    lines = [f"### Leaderboard: {inline_text(_title(lb))}", "", table, "", _legend(lb)]
    if lb.notes:
        lines += ["", *(f"- {inline_text(n)}" for n in lb.notes)]
    return "\n".join(lines) + "\n"


def _html(lb: Leaderboard) -> str:
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in RIGHT else f"<th>{esc(h)}</th>"
        for i, h in enumerate(HEADERS)
    )
    body = []
    for e in lb.entries:
        tds = []
        for i, c in enumerate(entry_cells(e)):
            if i == 2:
                tds.append(f'<td title="{esc(e.path)}">{esc(c)}</td>')
            else:
                tds.append(f'<td class="num">{esc(c)}</td>' if i in RIGHT else f"<td>{esc(c)}</td>")
        body.append(f'<tr class="{"odd" if e.group % 2 else "even"}">{"".join(tds)}</tr>')
    notes = "".join(f"<li>{esc(n)}</li>" for n in lb.notes)
    title = f"faithbench leaderboard: {_title(lb)}"
    page = [
        "<header>",
        f"<h1>{esc(title)}</h1>",
        "</header>",
        '<main class="leaderboard">',
        "<table>",
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
        *body,
        "</tbody>",
        "</table>",
        f'<p class="legend">{esc(_legend(lb))}</p>',
        *([f'<ul class="notes">{notes}</ul>'] if notes else []),
        "</main>",
    ]
    return document(title, page)
