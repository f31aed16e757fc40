"""Kept for imports written before `faithbench.stats` held every statistic; import from there."""

from faithbench.stats import MetricSummary, summarize

__all__ = ["MetricSummary", "summarize"]
