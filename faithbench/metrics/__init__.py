"""Metrics: registry, rule-based answer and faithfulness metrics."""

from faithbench.core import Score
from faithbench.metrics import answer, audit, faithfulness  # noqa: F401 - importing registers the built-ins
from faithbench.metrics.base import METRICS, Metric, MetricFn, register_metric

__all__ = ["METRICS", "Metric", "MetricFn", "Score", "register_metric"]
