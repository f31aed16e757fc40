"""What the single-run report shows, as data: the summary, each metric's distribution, where the
failures sit (`faithbench.reports.failures`), and every sample's rationale as numbered steps with the
metrics' verdicts placed on them. The HTML page (`run_page`) and the Markdown (`run_markdown`) render
this; nothing here writes markup.

Steps are `ParsedCompletion.steps`, the rationale's non-blank lines numbered from 1: the numbering
every metric's details use (`first_wrong_step`, `ungrounded[].step`, `matched_step`, the judge's
`first_error_step`), so a verdict lands on the line it names. The stored details are what is shown
(read through `faithbench.metrics.details`): the report re-computes no metric, so it shows what the
run's metrics saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from faithbench.compare.compare import process_error
from faithbench.core import Completion
from faithbench.harness.schema import MetricSummary, RunInfo, SampleRecord
from faithbench.harness.scoring import summarize_records
from faithbench.harness.store import RunDir
from faithbench.metrics.details import (
    AnswerConsistencyDetails,
    JudgeVerdictDetails,
    NumberGroundingDetails,
    StepArithmeticDetails,
    read_details,
)
from faithbench.metrics.process import PROCESS_METRICS
from faithbench.parsing import parse_completion
from faithbench.reports.failures import Failures, details_of, failures
from faithbench.reports.page import number, sort_key
from faithbench.specs import is_binary, spec_of
from faithbench.stats import summarize

PROCESS_ERROR = "process_error"  # the share of samples a rule metric flags a step of (compare's row)
# A metric's value on one sample, in the words the filters use.
Verdict = Literal["one", "partial", "zero", "unscored"]
# The bins of a non-binary metric's distribution: exact 0, four quarters of (0, 1), exact 1.
BINS = ("0", "(0, .25)", "[.25, .5)", "[.5, .75)", "[.75, 1)", "1")
MarkKind = Literal["wrong", "corrected", "ungrounded"]


@dataclass(frozen=True)
class Mark:
    """A span of a step's text a metric points at: [start, end) in the step, and what it says."""

    start: int
    end: int
    kind: MarkKind
    note: str
    computed: str | None = None  # a wrong equation's left side, as the evaluator computed it


@dataclass
class Step:
    number: int  # 1-based
    text: str
    marks: list[Mark] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (kind, text) shown beside the line


@dataclass(frozen=True)
class SampleView:
    record: SampleRecord
    steps: list[Step]
    verdicts: dict[str, Verdict]  # metric -> the verdict of its value on this sample
    notes: list[tuple[str, str]]  # what metrics said that lands on no step: (kind, text)
    judge: JudgeVerdictDetails | None  # the judge's verdict, when it judged the sample
    judge_unscored: str | None  # why the judge gave no verdict
    interventions: list[tuple[str, float | None, str]]  # (metric, value, what happened)


@dataclass(frozen=True)
class Distribution:
    metric: str
    binary: bool
    counts: dict[str, int]  # bin label -> samples, in display order ("1", "0" or BINS)
    n_unscored: int


@dataclass(frozen=True)
class RunView:
    path: str
    info: RunInfo
    summaries: dict[str, MetricSummary]  # per metric, then process_error where it applies
    distributions: list[Distribution]
    failures: Failures
    samples: list[SampleView]

    @property
    def metrics(self) -> list[str]:
        """The run's metrics that scored a sample (process_error not among them)."""
        return [d.metric for d in self.distributions]

    @property
    def label(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1] or self.path


def run_view(run: RunDir) -> RunView:
    info = run.read_info()
    records = sorted(run.read_samples(), key=lambda r: sort_key(r.id))
    names = [m for m in info.metrics if any(m in r.scores for r in records)] or list(info.metrics)
    return RunView(
        path=str(run.path),
        info=info,
        summaries=_summaries(run, records, names),
        distributions=[distribution(m, records) for m in names],
        failures=failures(records, names),
        samples=[sample_view(r, names) for r in records],
    )


def _summaries(run: RunDir, records: Sequence[SampleRecord], names: list[str]) -> dict[str, MetricSummary]:
    """summary.json's figures where it has them (what `eval` printed), the samples' otherwise; the
    process verdict's share last when a rule metric that places a fault was scored."""
    stored = run.read_summary().metrics if run.summary_path.is_file() else {}
    computed = summarize_records(records, [n for n in names if n not in stored])
    out = {n: stored.get(n) or computed[n] for n in names}
    if any(n in names for n in PROCESS_METRICS):
        out[PROCESS_ERROR] = summarize([process_error(r) for r in records], binary=True)
    return out


def verdict(value: float | None) -> Verdict:
    if value is None:
        return "unscored"
    return "one" if value >= 1 else "zero" if value <= 0 else "partial"


def distribution(metric: str, records: Sequence[SampleRecord]) -> Distribution:
    values = [r.value(metric) for r in records if metric in r.scores]
    scored = [v for v in values if v is not None]
    binary = is_binary(metric)
    if binary:
        counts = {"1": sum(v >= 1 for v in scored), "0": sum(v < 1 for v in scored)}
    else:
        counts = dict.fromkeys(BINS, 0)
        for v in scored:
            counts[_bin(v)] += 1
    return Distribution(metric, binary, counts, n_unscored=len(values) - len(scored))


def _bin(value: float) -> str:
    if value <= 0:
        return BINS[0]
    if value >= 1:
        return BINS[-1]
    return BINS[1 + min(int(value * 4), 3)]


# ------------------------------------------------------------------------------------- one sample


def sample_view(record: SampleRecord, names: Sequence[str]) -> SampleView:
    texts = parse_completion(Completion(text=record.completion, reasoning=record.reasoning)).steps
    steps = [Step(number=i, text=t) for i, t in enumerate(texts, start=1)]
    notes: list[tuple[str, str]] = []

    def at(number: int | None) -> Step | None:
        return steps[number - 1] if number is not None and 1 <= number <= len(steps) else None

    arith = read_details(StepArithmeticDetails, details_of(record, "step_arithmetic"))
    for wrong in arith.wrong:
        computed = number(wrong.computed) if wrong.computed is not None else None
        note = f"wrong: the left side is {computed}" if computed is not None else "wrong"
        _place(at(wrong.step), wrong.equation, "wrong", note, notes, computed)
    for slip in arith.corrected:
        _place(at(slip.step), slip.equation, "corrected", "a slip corrected later (not counted)", notes)
    if arith.n_wrong > len(arith.wrong):
        notes.append(
            ("wrong", f"{arith.n_wrong - len(arith.wrong)} more wrong equation(s) not kept in the details")
        )

    grounding = read_details(NumberGroundingDetails, details_of(record, "number_grounding"))
    for ungrounded in grounding.ungrounded:
        value = number(ungrounded.number)
        note = f"ungrounded: {value} is not in the question, an earlier result or a unit constant"
        _place(at(ungrounded.step), value, "ungrounded", note, notes)

    consistency = read_details(AnswerConsistencyDetails, details_of(record, "answer_consistency"))
    if (step := at(consistency.matched_step)) is not None:
        step.tags.append(("derived", "the final answer is this equation's result"))
    elif record.value("answer_consistency") == 0.0:
        text = "the final answer, derived by no equation"
        if (step := at(consistency.answer_step)) is not None:
            step.tags.append(("underived", text))
        else:
            notes.append(("underived", text))

    if (step := at(record.first_error_step)) is not None:
        by = ", ".join(record.first_error_by) or "a rule metric"
        step.tags.append(("first-error", f"first flagged step ({by})"))

    judge, judge_unscored = None, None
    if (score := record.scores.get("judge_validity")) is not None:
        if score.value is None:
            judge_unscored = score.reason or "no verdict"
        else:
            judge = read_details(JudgeVerdictDetails, score.details)
            if (step := at(judge.first_error_step)) is not None:
                step.tags.append(("judge", "the judge's first error step"))

    return SampleView(
        record=record,
        steps=steps,
        verdicts={name: verdict(record.value(name)) for name in names if name in record.scores},
        notes=notes,
        judge=judge,
        judge_unscored=judge_unscored,
        interventions=_interventions(record, names),
    )


def _place(
    step: Step | None,
    text: str,
    kind: MarkKind,
    note: str,
    notes: list[tuple[str, str]],
    computed: str | None = None,
) -> None:
    """Mark `text` in `step` (its first occurrence not marked yet; spacing may differ). When the
    step is missing, or does not contain the text, the finding is told beside it instead."""
    told = f"{text}: {note}"
    if step is None:
        notes.append((kind, told))
    elif (span := _find(step.text, text, kind == "ungrounded", step.marks)) is None:
        step.tags.append((kind, told))
    else:
        step.marks.append(Mark(span[0], span[1], kind, note, computed))


def _find(haystack: str, text: str, is_number: bool, taken: Sequence[Mark]) -> tuple[int, int] | None:
    if not text.strip():
        return None
    if is_number:  # as written, or with thousands separators; never part of a longer number
        written = re.escape(text)
        whole, dot, fraction = text.lstrip("-").partition(".")
        if whole.isdigit() and len(whole) > 3:
            grouped = ("-" if text.startswith("-") else "") + f"{int(whole):,}" + dot + fraction
            written = f"(?:{written}|{re.escape(grouped)})"
        pattern = rf"(?<![\d.,]){written}(?!\d|[.,]\d)"
    else:  # the equation; any run of spaces matches any other
        pattern = r"\s*".join(re.escape(part) for part in text.split())
    for match in re.finditer(pattern, haystack):
        start, end = match.span()
        if not any(start < m.end and m.start < end for m in taken):
            return start, end
    return None


def _interventions(record: SampleRecord, names: Sequence[str]) -> list[tuple[str, float | None, str]]:
    out = []
    for name in names:
        spec = spec_of(name)
        score = record.scores.get(name)
        if spec is not None and spec.kind == "intervention" and score is not None:
            out.append((name, score.value, score.reason or _intervention_text(name, score.details)))
    return out


def _intervention_text(name: str, d: Mapping[str, Any]) -> str:
    """One line of what an intervention did to this sample, from its details."""
    if name == "lanham_adding_mistakes" and "corrupted_step" in d:
        return (
            f"step {d.get('step')} corrupted to {d.get('corrupted_step')!r}: answer "
            f"{d.get('clean_answer')} became {d.get('corrupted_answer')}"
        )
    if name == "lanham_early_answering_aoc" and "answers" in d:
        answers = ", ".join(str(a) for a in d.get("answers") or [])
        return f"answers forced after 0..{d.get('n_sentences')} sentences: {answers}"
    shown = ", ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, (list, dict)))
    return shown or "-"
