"""`faithbench judge-check`: is a judge worth trusting? It grades the planted-error suite
(`planted.py`) and is measured against what was planted, next to the rule-based metrics.

A judge *flags* a case when it names a first error step (not -1 / null). Reported:

    detection        share of erroneous cases flagged (per kind and overall)
    false alarms     share of clean cases flagged
    step accuracy    share of erroneous cases whose first_error_step is exactly the planted step
    ProcessBench F1  harmonic mean of step accuracy and accuracy on clean cases (1 - false alarms)
    kappa            Cohen's kappa between the judge's flags and the rule metrics' flags

The rules flag a case when any of step_arithmetic, answer_consistency, number_grounding scores it
below 1. Judge rates count only the cases the judge scored; the unscored ones are counted apart.
The terminal table is `faithbench.reports.judge_check.check_table`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from faithbench.harness.backends.base import Completion
from faithbench.harness.schema import JudgeInfo
from faithbench.harness.scoring import resolve_metrics, score_one
from faithbench.judges.judge import JudgeConfig, JudgeOutcome, open_judge
from faithbench.judges.planted import ERROR_KINDS, KINDS, Kind, PlantedCase, planted_suite
from faithbench.judges.rubric import RATINGS
from faithbench.parsing import parse_completion
from faithbench.stats import Rate, cohen_kappa, harmonic_mean, rate
from faithbench.tasks.registry import TASKS

RULE_METRICS = ("step_arithmetic", "answer_consistency", "number_grounding")


class CaseResult(BaseModel):
    id: str
    kind: Kind
    error_step: int | None  # planted, numbered from 1
    change: str | None
    judge_flags: bool | None  # the judge named an error step; None when unscored
    judge_step: int | None
    ratings: dict[str, int] | None
    reason: str | None  # why the judge left the case unscored
    rule_flags: bool
    rule_scores: dict[str, float | None]


class JudgeCheckReport(BaseModel):
    judge: JudgeInfo
    seed: int
    n_references: int
    n_cases: int
    n_unscored: int
    detection: dict[str, Rate]  # error kind (and "all") -> judge's detection
    false_alarms: Rate
    step_accuracy: Rate
    processbench_f1: float | None
    rule_detection: dict[str, Rate]
    rule_false_alarms: Rate
    kappa_vs_rules: float | None
    mean_ratings: dict[str, dict[str, float | None]]  # kind -> rating -> mean on the 1-5 scale
    cases: list[CaseResult]


def run_judge_check(
    config: JudgeConfig,
    n_references: int,
    data_dir: str | None = None,
    seed: int = 0,
    use_cache: bool = True,
    progress: bool = True,
) -> JudgeCheckReport:
    items, _ = TASKS.get("gsm8k").load(data_dir)
    suite = planted_suite(items, n_references, seed)
    parsed = [parse_completion(Completion(text=case.rationale)) for case in suite]
    with open_judge(config, use_cache) as judge:
        outcomes = judge.judge_many([(c.item, p) for c, p in zip(suite, parsed, strict=True)], progress)
        info = judge.info
    rules = resolve_metrics(RULE_METRICS)
    results = []
    for case, parse, outcome in zip(suite, parsed, outcomes, strict=True):
        rule_scores = {m.name: score_one(m, case.item, parse).value for m in rules}
        results.append(_result(case, outcome, rule_scores))
    return summarize(info, seed, len(suite) // len(KINDS), results)


def _result(case: PlantedCase, outcome: JudgeOutcome, rule_scores: dict[str, float | None]) -> CaseResult:
    verdict = outcome.verdict
    return CaseResult(
        id=case.id,
        kind=case.kind,
        error_step=case.error_step,
        change=case.change,
        judge_flags=None if verdict is None else verdict.first_error_step is not None,
        judge_step=None if verdict is None else verdict.first_error_step,
        ratings=None if verdict is None else {r: getattr(verdict, r) for r in RATINGS},
        reason=outcome.reason if verdict is None else None,
        rule_flags=any(v is not None and v < 1 for v in rule_scores.values()),
        rule_scores=rule_scores,
    )


def summarize(info: JudgeInfo, seed: int, n_references: int, results: list[CaseResult]) -> JudgeCheckReport:
    scored = [r for r in results if r.judge_flags is not None]
    erroneous = [r for r in scored if r.kind != "clean"]
    clean = [r for r in scored if r.kind == "clean"]
    detection: dict[str, Rate] = {
        kind: rate(r.judge_flags for r in erroneous if r.kind == kind) for kind in ERROR_KINDS
    }
    detection["all"] = rate(r.judge_flags for r in erroneous)
    false_alarms = rate(r.judge_flags for r in clean)
    step_accuracy = rate(r.judge_step == r.error_step for r in erroneous)
    clean_accuracy = None if false_alarms.value is None else 1 - false_alarms.value
    rule_detection: dict[str, Rate] = {
        kind: rate(r.rule_flags for r in results if r.kind == kind) for kind in ERROR_KINDS
    }
    rule_detection["all"] = rate(r.rule_flags for r in results if r.kind != "clean")
    return JudgeCheckReport(
        judge=info,
        seed=seed,
        n_references=n_references,
        n_cases=len(results),
        n_unscored=len(results) - len(scored),
        detection=detection,
        false_alarms=false_alarms,
        step_accuracy=step_accuracy,
        processbench_f1=harmonic_mean(step_accuracy.value, clean_accuracy),
        rule_detection=rule_detection,
        rule_false_alarms=rate(r.rule_flags for r in results if r.kind == "clean"),
        kappa_vs_rules=cohen_kappa([bool(r.judge_flags) for r in scored], [r.rule_flags for r in scored]),
        mean_ratings={kind: _mean_ratings(r for r in scored if r.kind == kind) for kind in KINDS},
        cases=results,
    )


def _mean_ratings(results: Iterable[CaseResult]) -> dict[str, float | None]:
    rated = [r.ratings for r in results if r.ratings is not None]
    return {name: (sum(r[name] for r in rated) / len(rated) if rated else None) for name in RATINGS}
