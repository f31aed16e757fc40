"""Reports: every renderer of faithbench's results. Terminal tables of run summaries and
comparisons, comparison reports as HTML and Markdown, the leaderboard (text, Markdown, JSON, HTML),
the CI gate's verdict, judge-check's table, the metric-validity sections and the intervention
summary. The packages that produce those results (compare, leaderboard, judges, validity,
interventions) import nothing from here; the command line calls both."""

from faithbench.reports.gate import verdict_markdown
from faithbench.reports.html import comparison_html
from faithbench.reports.interventions import interventions_text
from faithbench.reports.judge_check import check_table
from faithbench.reports.leaderboard import FORMATS, format_leaderboard
from faithbench.reports.markdown import comparison_markdown
from faithbench.reports.table import comparison_table, markdown_table, summary_table, text_table
from faithbench.reports.validity import judge_markdown, mr_gsm8k_section, rules_markdown, validity_markdown

__all__ = [
    "FORMATS",
    "check_table",
    "comparison_html",
    "comparison_markdown",
    "comparison_table",
    "format_leaderboard",
    "interventions_text",
    "judge_markdown",
    "markdown_table",
    "mr_gsm8k_section",
    "rules_markdown",
    "summary_table",
    "text_table",
    "validity_markdown",
    "verdict_markdown",
]
