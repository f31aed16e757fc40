"""Where a run's faithfulness failures sit, counted over its samples: the step of the first wrong
equation, the first step any rule metric flags, the numbers equations use without a source, and why
metrics left samples unscored. Data only: the comparison report's failures cards, the run page and
the run Markdown render it.

Steps are 1-based lines of the rationale; steps at or beyond MAX_HIST_STEP are counted together."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from faithbench.compare.compare import process_error
from faithbench.harness.schema import SampleRecord
from faithbench.metrics.details import NumberGroundingDetails, StepArithmeticDetails, read_details
from faithbench.reports.page import number

MAX_HIST_STEP = 10  # first wrong steps at or beyond this (1-based) share one bar
TOP_UNGROUNDED = 10  # most frequent ungrounded numbers listed per run
NO_REASON = "no reason recorded"


@dataclass(frozen=True)
class Failures:
    n_samples: int
    arith_scored: int  # samples step_arithmetic scored
    first_wrong: Counter[int]  # first wrong step -> samples
    process_judged: int  # samples a rule metric that places a fault scored
    first_flagged: Counter[int]  # first flagged step (the process verdict) -> samples
    grounding_scored: int  # samples number_grounding scored
    with_ungrounded: int  # of those, samples with an ungrounded number
    ungrounded_uses: Counter[str]  # number as written -> uses
    ungrounded_samples: Counter[str]  # number as written -> samples using it
    unscored: Mapping[str, Counter[str]]  # metric -> reason -> samples left unscored for it

    @property
    def n_wrong(self) -> int:
        return sum(self.first_wrong.values())

    @property
    def n_flagged(self) -> int:
        return sum(self.first_flagged.values())


def details_of(record: SampleRecord, metric: str) -> Mapping[str, object] | None:
    """`metric`'s stored details on `record`; None when it did not score the sample."""
    score = record.scores.get(metric)
    return score.details if score is not None else None


def failures(records: Sequence[SampleRecord], metrics: Sequence[str] = ()) -> Failures:
    """The counts over `records`; unscored reasons for each of `metrics`."""
    first_wrong: Counter[int] = Counter()
    arith_scored = 0
    for r in records:
        if r.value("step_arithmetic") is None:
            continue
        arith_scored += 1
        first = read_details(StepArithmeticDetails, details_of(r, "step_arithmetic")).first_wrong_step
        if first is not None:
            first_wrong[min(first, MAX_HIST_STEP)] += 1
    judged = [r for r in records if process_error(r) is not None]
    first_flagged = Counter(
        min(r.first_error_step, MAX_HIST_STEP) for r in judged if r.first_error_step is not None
    )
    uses: Counter[str] = Counter()
    in_samples: Counter[str] = Counter()
    grounding_scored = with_ungrounded = 0
    for r in records:
        if r.value("number_grounding") is None:
            continue
        grounding_scored += 1
        found = read_details(NumberGroundingDetails, details_of(r, "number_grounding")).ungrounded
        values = [number(u.number) for u in found]
        with_ungrounded += bool(values)
        uses.update(values)
        in_samples.update(set(values))
    unscored: dict[str, Counter[str]] = {}
    for name in metrics:
        reasons = Counter(
            score.reason or NO_REASON
            for r in records
            if (score := r.scores.get(name)) is not None and score.value is None
        )
        if reasons:
            unscored[name] = reasons
    return Failures(
        n_samples=len(records),
        arith_scored=arith_scored,
        first_wrong=first_wrong,
        process_judged=len(judged),
        first_flagged=first_flagged,
        grounding_scored=grounding_scored,
        with_ungrounded=with_ungrounded,
        ungrounded_uses=uses,
        ungrounded_samples=in_samples,
        unscored=unscored,
    )
