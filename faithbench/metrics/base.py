"""Metric registry: a metric is a pure function (item, parsed completion) -> Score.

The same function serves evaluation and, as a GRPO reward, training (see trainers/). Other installed
packages add metrics through the `faithbench.metrics` entry-point group: importing the entry point's
module runs its `@register_metric` decorators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, model_validator

from faithbench.parsing import ParsedCompletion
from faithbench.registry import Registry
from faithbench.tasks.base import Item


class Score(BaseModel):
    """A score in [0, 1], or unscored (`value` None) with the `reason` why."""

    value: float | None
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Score:
        if self.value is None and not self.reason:
            raise ValueError("an unscored Score needs a reason")
        if self.value is not None and not 0.0 <= self.value <= 1.0:
            raise ValueError(f"score {self.value} is outside [0, 1]")
        return self

    @classmethod
    def unscored(cls, reason: str, **details: Any) -> Score:
        return cls(value=None, reason=reason, details=details)


MetricFn = Callable[[Item, ParsedCompletion], Score]


@dataclass(frozen=True)
class Metric:
    name: str
    fn: MetricFn
    description: str
    binary: bool  # scores are only ever 0 or 1 (decides the CI method and, later, the paired test)

    def __call__(self, item: Item, parsed: ParsedCompletion) -> Score:
        return self.fn(item, parsed)


METRICS: Registry[Metric] = Registry("metric", entry_point_group="faithbench.metrics")


def register_metric(
    name: str | None = None, *, description: str | None = None, binary: bool = False
) -> Callable[[MetricFn], MetricFn]:
    """Register `fn` under `name` (default: the function's name). The description defaults to the
    first line of the docstring; it is what `faithbench metrics list` shows."""

    def decorate(fn: MetricFn) -> MetricFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        text = description or (doc[0] if doc else "")
        if not text:
            raise ValueError(f"metric {fn.__name__!r} needs a description or a docstring")
        METRICS.add(name or fn.__name__, Metric(name or fn.__name__, fn, text, binary))
        return fn

    return decorate
