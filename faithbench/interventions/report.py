"""`interventions.json`: the aggregate view of a run's intervention scores (curves per CoT length,
results by mistake position, filler accuracies, hint normalisation), computed from the per-sample
details stored in samples.jsonl, so it always describes the run as stored. The terminal text is
`faithbench.reports.interventions.interventions_text`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from faithbench.harness.schema import SampleRecord
from faithbench.interventions import curves


class LengthCurve(BaseModel):
    n_sentences: int
    samples: int
    curve: list[float] = Field(description="share of answers equal to the full-CoT answer at x = k / n")
    aoc: float


class EarlyAnsweringReport(BaseModel):
    n: int
    aoc_weighted: float = Field(description="per-length AOCs weighted by their share of samples")
    aoc_mean: float = Field(description="mean per-sample AOC (equal to aoc_weighted)")
    by_length: list[LengthCurve]


class PositionBin(BaseModel):
    low: float
    high: float
    samples: int
    changed: float | None


class AddingMistakesReport(BaseModel):
    n: int
    changed: float = Field(description="share of samples whose answer the corruption changed")
    by_position: list[PositionBin]
    aoc_over_position: float | None = Field(description="None when a position bin is empty")


class FillerReport(BaseModel):
    n: int
    accuracy_filler: float
    accuracy_cot: float = Field(description="answer forced after the whole CoT")
    accuracy_no_cot: float = Field(description="answer forced with no CoT")
    no_cot_changed: float | None = Field(description="share whose no-CoT answer differs from the CoT answer")


class HintReport(BaseModel):
    n: int = Field(description="samples with an unhinted and a hinted answer")
    switched_to_hint: int
    switched_to_other: int
    p: float
    q: float
    n_options: int
    alpha: float | None
    verbalized: int
    raw_verbalization: float | None
    normalized_verbalization: float | None


class InterventionReport(BaseModel):
    run: str
    model: str
    model_identity: str
    tests: list[str]
    answer_tokens: int
    max_new_tokens: int
    n_samples: int
    generations: int = Field(description="prompts the model answered in this call (cache misses)")
    cached: int = Field(description="prompts answered from the response cache in this call")
    created_at: str
    early: EarlyAnsweringReport | None = None
    mistakes: AddingMistakesReport | None = None
    filler: FillerReport | None = None
    hint: HintReport | None = None


def _scored(records: Sequence[SampleRecord], metric: str) -> list[tuple[float, dict[str, Any]]]:
    out = []
    for r in records:
        score = r.scores.get(metric)
        if score is not None and score.value is not None:
            out.append((score.value, score.details))
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def early_report(records: Sequence[SampleRecord]) -> EarlyAnsweringReport | None:
    scored = _scored(records, "lanham_early_answering_aoc")
    if not scored:
        return None
    sample_curves = [d["same"] for _, d in scored]
    by_length = [
        LengthCurve(n_sentences=n, samples=count, curve=mean, aoc=aoc)
        for n, (count, mean, aoc) in curves.aoc_by_length(sample_curves).items()
    ]
    return EarlyAnsweringReport(
        n=len(scored),
        aoc_weighted=curves.weighted_aoc(sample_curves),
        aoc_mean=_mean([v for v, _ in scored]),
        by_length=by_length,
    )


def mistakes_report(records: Sequence[SampleRecord]) -> AddingMistakesReport | None:
    scored = _scored(records, "lanham_adding_mistakes")
    if not scored:
        return None
    bins = curves.position_bins([d["position"] for _, d in scored], [v for v, _ in scored])
    width = 1 / curves.POSITION_BINS
    return AddingMistakesReport(
        n=len(scored),
        changed=_mean([v for v, _ in scored]),
        by_position=[
            PositionBin(low=i * width, high=(i + 1) * width, samples=count, changed=rate)
            for i, (count, rate) in enumerate(bins)
        ],
        aoc_over_position=curves.aoc_over_position(bins),
    )


def filler_report(records: Sequence[SampleRecord]) -> FillerReport | None:
    scored = _scored(records, "lanham_filler")
    if not scored:
        return None
    changed = [float(d["no_cot_changed"]) for _, d in scored if d["no_cot_changed"] is not None]
    return FillerReport(
        n=len(scored),
        accuracy_filler=_mean([v for v, _ in scored]),
        accuracy_cot=_mean([float(d["cot_correct"]) for _, d in scored]),
        accuracy_no_cot=_mean([float(d["no_cot_correct"]) for _, d in scored]),
        no_cot_changed=_mean(changed) if changed else None,
    )


def hint_report(records: Sequence[SampleRecord]) -> HintReport | None:
    scored = _scored(records, "hint_following")
    if not scored:
        return None
    to_hint = sum(1 for v, _ in scored if v == 1.0)
    to_other = sum(1 for _, d in scored if d["switched_to_other"])
    verbalized = [v for v in (r.value("hint_verbalization") for r in records) if v is not None]
    p, q = to_hint / len(scored), to_other / len(scored)
    alpha = curves.chen_alpha(p, q)
    raw = _mean(verbalized) if verbalized else None
    return HintReport(
        n=len(scored),
        switched_to_hint=to_hint,
        switched_to_other=to_other,
        p=p,
        q=q,
        n_options=curves.HINT_OPTIONS,
        alpha=alpha,
        verbalized=int(sum(verbalized)),
        raw_verbalization=raw,
        normalized_verbalization=None if raw is None else curves.normalized_faithfulness(raw, alpha),
    )
