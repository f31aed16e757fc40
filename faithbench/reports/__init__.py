"""Reports: tables of run summaries, comparison reports as HTML and Markdown (leaderboard and CI gate
verdicts build on them).

The names below load on first use, so that the layers below (compare, leaderboard, judges, validity)
can import `faithbench.reports.table` without loading the HTML report and its imports."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faithbench.reports.html import comparison_html
    from faithbench.reports.markdown import comparison_markdown
    from faithbench.reports.table import summary_table

_HOMES = {
    "comparison_html": "faithbench.reports.html",
    "comparison_markdown": "faithbench.reports.markdown",
    "summary_table": "faithbench.reports.table",
}

__all__ = ["comparison_html", "comparison_markdown", "summary_table"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
