"""An LLM judge on MR-GSM8K's wrong solutions and their references, next to the rule metrics
(`faithbench judge-check --suite mr-gsm8k`); the pairs and the measures are `validity.mrgsm8k`'s,
the Markdown is `reports.validity.judge_markdown`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, computed_field

from faithbench.core import Completion
from faithbench.harness.schema import JudgeInfo
from faithbench.validity.mrgsm8k import (
    Exclusion,
    RuleCase,
    Verdicts,
    load_suite,
    rule_verdicts,
    score_case,
)

if TYPE_CHECKING:  # the judge machinery loads only when a judge is asked for
    from faithbench.judges.judge import JudgeConfig


# ------------------------------------------------------------------------------------ the judge


class JudgeCase(BaseModel):
    id: str
    label: int
    n_steps: int
    judge_step: int | None  # None: no error named, or unscored
    judge_scored: bool
    judge_reason: str | None  # why unscored
    reference_judge_step: int | None
    reference_judge_scored: bool
    reference_judge_reason: str | None
    rules: RuleCase


class JudgeSuiteReport(BaseModel):
    judge: JudgeInfo
    path: str
    n_rows: int
    excluded: list[Exclusion]
    cases: list[JudgeCase]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n_unscored(self) -> int:
        """Cases (solution or reference) left unscored by the judge: out of every judge figure."""
        return sum(not c.judge_scored for c in self.cases) + sum(
            not c.reference_judge_scored for c in self.cases
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def judge_verdicts(self) -> Verdicts:
        """The judge's figures: wrong solutions it scored; false alarms on references it scored (so
        the two halves of F1 may rest on different counts)."""
        solved = [c for c in self.cases if c.judge_scored]
        return Verdicts(
            flags=[c.judge_step is not None for c in solved],
            steps=[c.judge_step for c in solved],
            labels=[c.label for c in solved],
            reference_flags=[
                c.reference_judge_step is not None for c in self.cases if c.reference_judge_scored
            ],
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rule_verdicts(self) -> Verdicts:
        return rule_verdicts([c.rules for c in self.cases])


def run_judge_suite(
    config: JudgeConfig,
    path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> JudgeSuiteReport:
    """The judge of `config` on the first `limit` MR-GSM8K wrong solutions and their
    references, through the path of `judge-check`: `open_judge` and `RubricJudge.judge_many`."""
    from faithbench.judges.judge import open_judge
    from faithbench.parsing import parse_completion

    suite = load_suite(path, data_dir)
    cases = suite.cases[:limit] if limit is not None else suite.cases
    asked = [(c.item, parse_completion(Completion(text=c.solution))) for c in cases]
    asked += [(c.reference_item, parse_completion(Completion(text=c.reference))) for c in cases]
    with open_judge(config, use_cache) as judge:
        outcomes = judge.judge_many(asked, progress)
        info = judge.info
    results = []
    for case, solution, reference in zip(cases, outcomes[: len(cases)], outcomes[len(cases) :], strict=True):
        results.append(
            JudgeCase(
                id=case.id,
                label=case.label,
                n_steps=case.n_steps,
                judge_step=None if solution.verdict is None else solution.verdict.first_error_step,
                judge_scored=solution.verdict is not None,
                judge_reason=solution.reason if solution.verdict is None else None,
                reference_judge_step=None
                if reference.verdict is None
                else reference.verdict.first_error_step,
                reference_judge_scored=reference.verdict is not None,
                reference_judge_reason=reference.reason if reference.verdict is None else None,
                rules=score_case(case),
            )
        )
    return JudgeSuiteReport(
        judge=info, path=suite.path, n_rows=suite.n_rows, excluded=suite.excluded, cases=results
    )
