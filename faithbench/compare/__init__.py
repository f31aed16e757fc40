"""Paired comparison of runs: significance tests, multiple-comparison control, CI gate."""

from faithbench.compare.compare import compare_runs, load_runs
from faithbench.compare.gate import GateVerdict, gate, verdict_markdown
from faithbench.compare.schema import Comparison, ComparisonReport, PairingNote, RunRef

__all__ = [
    "Comparison",
    "ComparisonReport",
    "GateVerdict",
    "PairingNote",
    "RunRef",
    "compare_runs",
    "gate",
    "load_runs",
    "verdict_markdown",
]
