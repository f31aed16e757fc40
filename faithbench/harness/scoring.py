"""Turn (item, completion) into a scored SampleRecord. One path for `eval` and `score`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Protocol

from tqdm import tqdm

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Completion
from faithbench.harness.schema import MetricSummary, SampleRecord
from faithbench.metrics import METRICS, Metric, Score
from faithbench.parsing import ParsedCompletion, parse_completion
from faithbench.parsing.answers import DEFAULT_EXTRACTOR, numbers_equal
from faithbench.registry import RegistryError
from faithbench.specs import DEFAULT_METRICS, METRIC_SPECS, is_binary
from faithbench.stats import summarize
from faithbench.tasks.base import Item

# Past the parsing budget (faithbench.parsing.completion: characters, lines, `=` signs) only the answer
# metrics are computed.
ANSWER_METRICS = frozenset({"accuracy", "strict_accuracy", "format_compliance"})


class NeedsModelError(FaithbenchError):
    """A judge or intervention metric asked of a path that computes rule metrics only."""


_COMPUTED_BY = {
    "judge": "an LLM judge: add --judge SPEC (see docs/judges.md)",
    "intervention": "the model to answer new prompts: compute them with "
    "`faithbench intervene RUN --tests ...` (see docs/interventions.md)",
}


def resolve_metrics(names: Sequence[str] | None) -> list[Metric]:
    """The rule metrics to score with. Judge and intervention metrics are refused here, for every
    caller, with what computes them; an unknown name gets the catalogue's "did you mean"."""
    wanted = list(names or DEFAULT_METRICS)
    try:
        specs = [METRIC_SPECS.get(n) for n in wanted]
    except RegistryError as exc:
        raise FaithbenchError(str(exc)) from None
    for kind, needs in _COMPUTED_BY.items():
        if asked := [s.name for s in specs if s.kind == kind]:
            raise NeedsModelError(f"{', '.join(sorted(asked))}: {kind} metrics need {needs}")
    return [METRICS.get(n) for n in wanted]


def item_of(record: SampleRecord) -> Item:
    return Item(id=record.id, question=record.question, target=record.target)


def completion_of(record: SampleRecord) -> Completion:
    return Completion(
        text=record.completion,
        reasoning=record.reasoning,
        finish_reason=record.finish_reason,
        n_tokens=record.n_tokens,
    )


def score_one(metric: Metric, item: Item, parsed: ParsedCompletion) -> Score:
    if parsed.unparsed is not None and metric.name not in ANSWER_METRICS:
        return Score.unscored(parsed.unparsed)
    try:
        return metric(item, parsed)
    except Exception as exc:  # a broken (plug-in) metric costs its score, visibly, not the run
        return Score.unscored(f"metric raised {type(exc).__name__}: {exc}")


def score_sample(
    item: Item,
    prompt: str,
    completion: Completion,
    metrics: Sequence[Metric],
    answers: tuple[str | None, str | None] | None = None,
    answer_extractor: str = DEFAULT_EXTRACTOR,
) -> SampleRecord:
    """The record of a fresh completion, its answers read by `answer_extractor` (the task's) and
    scored with the rule `metrics`, the completion parsed once. `answers` (answer, strict),
    normalised, replace faithbench's own extraction: imported runs keep the answers the evaluating
    tool extracted (see faithbench.interop)."""
    parsed = with_answers(parse_completion(completion, answer_extractor), answers)
    return apply_metrics(_record(item, prompt, completion, parsed), parsed, metrics)


def _record(item: Item, prompt: str, completion: Completion, parsed: ParsedCompletion) -> SampleRecord:
    return SampleRecord(
        id=item.id,
        question=item.question,
        target=item.target,
        prompt=prompt,
        completion=completion.text,
        reasoning=completion.reasoning,
        finish_reason=completion.finish_reason,
        n_tokens=completion.n_tokens,
        answer=parsed.answer,
        strict_answer=parsed.strict_answer,
        correct=numbers_equal(parsed.answer, item.target),
        strict_correct=numbers_equal(parsed.strict_answer, item.target),
    )


def with_answers(parsed: ParsedCompletion, answers: tuple[str | None, str | None] | None) -> ParsedCompletion:
    if answers is None:
        return parsed
    return parsed.model_copy(update={"answer": answers[0], "strict_answer": answers[1]})


def apply_metrics(record: SampleRecord, parsed: ParsedCompletion, metrics: Sequence[Metric]) -> SampleRecord:
    """Score `record` with `metrics`, replacing those metrics' old scores and keeping all others."""
    item = item_of(record)
    return record.with_scores({metric.name: score_one(metric, item, parsed) for metric in metrics})


class Stage(Protocol):
    """One step of scoring: records in, the same records with more scores out (`with_scores`).
    `run_eval` and `rescore` pass records through rule scoring and then the caller's stages; an LLM
    judge (`faithbench.judges.RubricJudge`) is one."""

    @property
    def metrics(self) -> list[str]:
        """The metrics this stage scores."""
        ...

    def run_info(self) -> dict[str, Any]:
        """The run.json (RunInfo) fields this stage sets, e.g. the judge's `judge`."""
        ...

    def __call__(self, records: list[SampleRecord], progress: bool = False) -> list[SampleRecord]: ...


class RuleScoring:
    """The rule metrics as a stage. Each completion is parsed with the task's answer extractor, and the
    record's stored answers are kept (they are the extractor's for a fresh record, and the imported
    tool's, or an earlier extractor's, for a stored one)."""

    def __init__(self, metrics: Sequence[Metric], answer_extractor: str = DEFAULT_EXTRACTOR) -> None:
        self.rules = list(metrics)
        self.answer_extractor = answer_extractor

    @property
    def metrics(self) -> list[str]:
        return [m.name for m in self.rules]

    def run_info(self) -> dict[str, Any]:
        return {}

    def __call__(self, records: list[SampleRecord], progress: bool = False) -> list[SampleRecord]:
        bar = tqdm(records, desc="scoring", unit="sample", disable=not progress, file=sys.stderr)
        return [apply_metrics(r, self.parse(r), self.rules) for r in bar]

    def score_fresh(self, item: Item, prompt: str, completion: Completion) -> SampleRecord:
        """A fresh completion's record, answers read and rule metrics scored from one parse (what
        `__call__` gives for the same record, without parsing it a second time)."""
        return score_sample(item, prompt, completion, self.rules, answer_extractor=self.answer_extractor)

    def parse(self, record: SampleRecord) -> ParsedCompletion:
        parsed = parse_completion(completion_of(record), self.answer_extractor)
        return with_answers(parsed, (record.answer, record.strict_answer))


def summarize_records(
    records: Sequence[SampleRecord], metric_names: Sequence[str]
) -> dict[str, MetricSummary]:
    out = {}
    for name in metric_names:
        out[name] = summarize([r.value(name) for r in records], binary=is_binary(name))
    return out
