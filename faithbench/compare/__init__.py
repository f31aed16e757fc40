"""Paired comparison of runs: significance tests, multiple-comparison control, CI gate."""

from faithbench.compare.compare import LoadedRun, compare_loaded, compare_runs, load_runs
from faithbench.compare.gate import GateVerdict, gate
from faithbench.compare.schema import Comparison, ComparisonReport, PairingNote, RunRef

__all__ = [
    "Comparison",
    "ComparisonReport",
    "GateVerdict",
    "LoadedRun",
    "PairingNote",
    "RunRef",
    "compare_loaded",
    "compare_runs",
    "gate",
    "load_runs",
]
