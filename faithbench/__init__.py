"""faithbench: does a language model reason faithfully? Public face; the work is in the subpackages."""

from faithbench.core import MetricSpec, Score
from faithbench.errors import DataError, FaithbenchError
from faithbench.harness.runner import EvalConfig, rescore, run_eval
from faithbench.harness.schema import MetricSummary, RunInfo, SampleRecord, Summary
from faithbench.harness.store import RunDir
from faithbench.metrics import METRICS, Metric, register_metric
from faithbench.parsing import Equation, ParsedCompletion, parse_completion
from faithbench.specs import METRIC_SPECS
from faithbench.tasks.base import Item, Prompt
from faithbench.tasks.registry import TASKS, Task

__version__ = "0.1.0"

__all__ = [
    "METRICS",
    "METRIC_SPECS",
    "TASKS",
    "DataError",
    "Equation",
    "EvalConfig",
    "FaithbenchError",
    "Item",
    "Metric",
    "MetricSpec",
    "MetricSummary",
    "ParsedCompletion",
    "Prompt",
    "RunDir",
    "RunInfo",
    "SampleRecord",
    "Score",
    "Summary",
    "Task",
    "parse_completion",
    "register_metric",
    "rescore",
    "run_eval",
]
