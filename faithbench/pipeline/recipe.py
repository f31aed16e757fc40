"""The pipeline recipe (configs/pipeline/*.yaml): data -> filter -> SFT -> GRPO -> eval of every stage on
the same items -> paired comparison -> leaderboard -> report and gate verdict.

`sft` and `grpo` are the trainers' own recipes (faithbench.trainers.recipe), less what the pipeline
fills in: the model each trains on (the base; the SFT adapter) and the SFT data (the filtered traces).
Unknown keys are errors; every error names the file and the field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from faithbench.specs import AUDIT_METRICS, DEFAULT_METRICS
from faithbench.trainers.recipe import GRPORecipe, SFTRecipe, Strict


class DataStage(Strict):
    source: Literal["references", "teacher"] = Field(
        "references",
        description="references: GSM8K's reference solutions of `split` as the traces; teacher: ask "
        "`teacher` (any model spec), as `faithbench distill` does.",
    )
    teacher: str | None = Field(None, description="the teacher's model spec, for source teacher.")
    split: str = Field("train", description="GSM8K split the traces answer.")
    limit: int | None = Field(None, ge=1, description="the first N questions of the split.")
    filter: str | None = Field(
        None,
        description="a filter YAML (configs/distill/*.yaml); default: configs/distill/faithful.yaml's rules.",
    )
    max_new_tokens: int = Field(1024, ge=1, description="teacher tokens per trace.")
    batch_size: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _teacher(self) -> DataStage:
        if (self.source == "teacher") != (self.teacher is not None):
            raise ValueError("`teacher` is needed for source 'teacher', and only there")
        return self


class EvalStage(Strict):
    task: str = Field("gsm8k", description="the task every stage is evaluated on (the same items).")
    limit: int | None = Field(300, ge=1, description="the first N items (null: all).")
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(8, ge=1)
    metrics: list[str] = Field(
        default_factory=lambda: [*DEFAULT_METRICS, *AUDIT_METRICS],
        description="rule metrics scored on every stage (default: every default metric and the audit ones).",
    )


class CompareStage(Strict):
    metrics: list[str] | None = Field(None, description="metrics compared (default: every scored one).")
    correction: Literal["holm", "bh"] = "holm"
    alpha: float = Field(0.05, gt=0, lt=1)


class GateStage(Strict):
    improve: list[str] = Field(
        default_factory=lambda: ["answer_consistency"],
        description="the final model must be significantly better than the base on each of these.",
    )
    margin: float = Field(
        0.0, ge=0, description="tolerated worsening on the other compared metrics (see `faithbench gate`)."
    )


class PipelineRecipe(Strict):
    description: str = ""
    base: str = Field("smollm2", description="the model the pipeline starts from: smollm2 or hf:<path>.")
    data: DataStage = DataStage()
    sft: SFTRecipe | None = Field(None, description="LoRA-SFT on the kept traces; null: no SFT stage.")
    grpo: GRPORecipe | None = Field(
        None, description="GRPO from the SFT adapter (or the base without SFT); null: no GRPO stage."
    )
    eval: EvalStage = EvalStage()
    compare: CompareStage = CompareStage()
    gate: GateStage = GateStage()

    @model_validator(mode="after")
    def _filled_by_pipeline(self) -> PipelineRecipe:
        for name, stage in (("sft", self.sft), ("grpo", self.grpo)):
            if stage is not None and "model" in stage.model_fields_set:
                raise ValueError(f"`{name}.model` is set by the pipeline (`base`, then each stage's adapter)")
        if self.sft is not None and "data" in self.sft.model_fields_set:
            raise ValueError("`sft.data` is set by the pipeline: SFT trains on the kept traces of `data`")
        if self.sft is None and self.grpo is None:
            raise ValueError("a pipeline needs an `sft` or a `grpo` stage (or both)")
        gated = [m for m in self.gate.improve if m not in self.eval.metrics]
        if gated:
            raise ValueError(f"gate.improve names {gated}, which eval.metrics does not score")
        return self
