"""The seed's pipeline as one command: data -> filter -> SFT -> GRPO -> eval of every stage -> paired
comparison -> leaderboard -> report, gate verdict and reward-hacking audit (docs/training.md)."""

from faithbench.pipeline.recipe import PipelineRecipe
from faithbench.pipeline.run import RESULT_FILE, loaded_runs, run_pipeline
from faithbench.pipeline.schema import Audit, GateResult, PipelineResult, StageRecord

__all__ = [
    "RESULT_FILE",
    "Audit",
    "GateResult",
    "PipelineRecipe",
    "PipelineResult",
    "StageRecord",
    "loaded_runs",
    "run_pipeline",
]
