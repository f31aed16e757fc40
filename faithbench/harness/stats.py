"""Interim adapter: the statistics live in `faithbench.stats`. It stays only while
`harness/schema.py` defines its own `MetricSummary`; once that module re-exports
`faithbench.stats.MetricSummary`, `harness/scoring.py` imports `summarize` from `faithbench.stats`
and this file goes."""

from __future__ import annotations

from collections.abc import Sequence

from faithbench import stats
from faithbench.harness.schema import MetricSummary


def summarize(values: Sequence[float | None], binary: bool) -> MetricSummary:
    return MetricSummary.model_validate(stats.summarize(values, binary).model_dump())
