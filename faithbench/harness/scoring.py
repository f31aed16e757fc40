"""Turn (item, completion) into a scored SampleRecord. One path for `eval` and `score`."""

from __future__ import annotations

from collections.abc import Sequence

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Completion
from faithbench.harness.schema import MetricSummary, SampleRecord
from faithbench.harness.stats import summarize
from faithbench.metrics import METRICS, Metric, Score
from faithbench.parsing import ParsedCompletion, parse_completion
from faithbench.parsing.answers import DEFAULT_EXTRACTOR, numbers_equal
from faithbench.registry import RegistryError
from faithbench.specs import DEFAULT_METRICS, METRIC_SPECS, is_binary
from faithbench.tasks.base import Item

# Parsing is linear, but nobody reasons in a novel: past this, only the answer metrics are computed.
MAX_RATIONALE_CHARS = 100_000
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
    if len(parsed.rationale) > MAX_RATIONALE_CHARS and metric.name not in ANSWER_METRICS:
        return Score.unscored(f"rationale has {len(parsed.rationale):,} characters, over the limit")
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
    """`answer_extractor` (the task's) reads the answer. `answers` (answer, strict), normalised,
    replace faithbench's own extraction: imported runs keep the answers the evaluating tool extracted
    (see faithbench.interop)."""
    parsed = with_answers(parse_completion(completion, answer_extractor), answers)
    record = SampleRecord(
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
    return apply_metrics(record, parsed, metrics)


def with_answers(parsed: ParsedCompletion, answers: tuple[str | None, str | None] | None) -> ParsedCompletion:
    if answers is None:
        return parsed
    return parsed.model_copy(update={"answer": answers[0], "strict_answer": answers[1]})


def apply_metrics(record: SampleRecord, parsed: ParsedCompletion, metrics: Sequence[Metric]) -> SampleRecord:
    """Score `record` with `metrics`, replacing those metrics' old scores and keeping all others."""
    item = item_of(record)
    return record.with_scores({metric.name: score_one(metric, item, parsed) for metric in metrics})


def summarize_records(
    records: Sequence[SampleRecord], metric_names: Sequence[str]
) -> dict[str, MetricSummary]:
    out = {}
    for name in metric_names:
        out[name] = summarize([r.value(name) for r in records], binary=is_binary(name))
    return out
