"""Reports: tables of run summaries, comparison reports as HTML and Markdown (leaderboard and CI gate
verdicts build on them)."""

from faithbench.reports.html import comparison_html
from faithbench.reports.markdown import comparison_markdown
from faithbench.reports.table import summary_table

__all__ = ["comparison_html", "comparison_markdown", "summary_table"]
