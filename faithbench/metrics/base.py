"""Rule metrics: a metric is a pure function (item, parsed completion) -> Score.

The same function serves evaluation and, as a GRPO reward, training (see trainers/). Each function
registers against its `MetricSpec` in the catalogue (`faithbench.specs`), which says whether it is
binary and describes it. Other installed packages add metrics through the `faithbench.metrics`
entry-point group: importing the entry point's module runs its `@register_metric` decorators, which
declare the plug-in's spec as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faithbench.core import MetricSpec, Score
from faithbench.parsing import ParsedCompletion
from faithbench.registry import Registry
from faithbench.specs import METRIC_SPECS, declare
from faithbench.tasks.base import Item

MetricFn = Callable[[Item, ParsedCompletion], Score]


@dataclass(frozen=True)
class Metric:
    spec: MetricSpec
    fn: MetricFn

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def binary(self) -> bool:
        return self.spec.binary

    def __call__(self, item: Item, parsed: ParsedCompletion) -> Score:
        return self.fn(item, parsed)


# The rule metrics' functions, by name; every one of them has a spec in faithbench.specs.
METRICS: Registry[Metric] = Registry("rule metric", entry_point_group="faithbench.metrics")


def register_metric(
    name: str | None = None, *, description: str | None = None, binary: bool | None = None
) -> Callable[[MetricFn], MetricFn]:
    """Register `fn` as the rule metric `name` (default: the function's name). A built-in name has
    its spec in faithbench.specs already; any other name is declared here, with `description`
    (default: the first line of the docstring, which `faithbench metrics list` shows) and `binary`
    (default False)."""

    def decorate(fn: MetricFn) -> MetricFn:
        metric_name = name or fn.__name__
        spec = METRIC_SPECS.peek(metric_name)
        if spec is None or description is not None or binary is not None:
            doc = (fn.__doc__ or "").strip().splitlines()
            text = description or (spec.description if spec else doc[0] if doc else "")
            if not text:
                raise ValueError(f"metric {metric_name!r} needs a description or a docstring")
            is_binary = binary if binary is not None else (spec.binary if spec else False)
            spec = declare(MetricSpec(name=metric_name, description=text, binary=is_binary, kind="rule"))
        if spec.kind != "rule":
            raise ValueError(f"metric {metric_name!r} is a {spec.kind} metric, not a rule metric")
        METRICS.add(metric_name, Metric(spec, fn))
        return fn

    return decorate
