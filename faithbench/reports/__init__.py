"""Reports: tables of run summaries (comparison reports, leaderboard and CI gate verdicts build on it)."""

from faithbench.reports.table import summary_table

__all__ = ["summary_table"]
