"""Distillation data: a teacher's GSM8K traces, scored by the metrics and kept only when faithful.

`faithbench distill --teacher SPEC --split train --out DIR` asks the teacher through `run_eval` (the
same prompts, response cache and resumable run directory as `faithbench eval`), then filters::

    DIR/teacher/           the teacher's run directory: run.json, samples.jsonl (every trace, scored)
    DIR/kept.jsonl         the kept traces, one DistilledTrace per line: scores and provenance
    DIR/dataset/           the same rows as a HF `datasets` dataset (save_to_disk)
    DIR/filter_report.json FilterReport: kept, dropped by reason (each dropped trace under one reason)

With `--judge SPEC` every trace is also graded by the rubric judge (docs/judges.md), the same code
as `eval --judge`, and a filter may require `judge_validity`, `judge_coherence`, `judge_alignment`.

A trace keeps its reasoning (the API's reasoning channel or `<think>` blocks, as `<think>...</think>`)
and the visible answer, so a student is trained to reason before it answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from faithbench.errors import FaithbenchError
from faithbench.harness.runner import EvalConfig, package_version, run_eval
from faithbench.harness.schema import SampleRecord
from faithbench.harness.scoring import DEFAULT_METRICS, completion_of
from faithbench.harness.store import write_atomic
from faithbench.judges.judge import JUDGE_METRICS, JudgeConfig, open_judge
from faithbench.metrics import METRICS
from faithbench.parsing import parse_completion
from faithbench.trainers.data import DISTILLED_DATASET, DISTILLED_JSONL, split_task
from faithbench.trainers.recipe import Strict, load_recipe

TEACHER_DIR = "teacher"
REPORT_FILE = "filter_report.json"
DEFAULT_TEACHER = "deepseek:deepseek-reasoner"


class FilterConfig(Strict):
    """Which traces a student may learn from (configs/distill/*.yaml)."""

    require: dict[str, float] = Field(
        default_factory=lambda: {
            "accuracy": 1.0,
            "format_compliance": 1.0,
            "step_arithmetic": 1.0,
            "answer_consistency": 1.0,
            "number_grounding": 0.8,
        },
        description="metric -> minimum score; a trace below it, or unscored by it, is dropped.",
    )
    dedup: Literal["question", "trace", "none"] = Field(
        "question",
        description="question: one kept trace per question (whitespace and case ignored); "
        "trace: drop traces identical to a kept one; none: keep duplicates.",
    )


class DistilledTrace(BaseModel):
    id: str
    question: str
    target: str
    completion: str  # the training target: `<think>reasoning</think>` (if any) + the visible answer
    reasoning: str | None
    answer: str | None
    scores: dict[str, float | None]
    teacher: str  # the spec given
    teacher_identity: str  # what exactly answered
    task: str
    prompt_sha256: str  # the prompt as sent: a changed instruction is a different prompt version
    completion_sha256: str
    data_sha256: str
    faithbench_version: str


class FilterReport(BaseModel):
    teacher: str
    n_traces: int
    n_kept: int
    dropped: dict[str, int] = Field(description="reason -> traces dropped for it (first failing rule)")
    failing: dict[str, int] = Field(description="rule -> traces failing it (a trace may fail several)")
    dropped_ids: dict[str, list[str]]
    filter: FilterConfig


@dataclass
class DistillConfig:
    out: Path
    teacher: str = DEFAULT_TEACHER
    split: str = "train"
    limit: int | None = None
    filter: Path | None = None  # a FilterConfig YAML; None: FilterConfig() (the defaults above)
    max_new_tokens: int = 2048
    temperature: float = 0.0
    batch_size: int = 8
    data_dir: str | None = None
    use_cache: bool = True
    progress: bool = True
    judge: JudgeConfig | None = None  # an LLM judge grading every trace: judge_* scores to filter on


def distill(config: DistillConfig) -> FilterReport:
    rules = load_recipe(config.filter, FilterConfig) if config.filter else FilterConfig()
    where = f"{config.filter or 'filter'}: field 'require'"
    unknown = [name for name in rules.require if name not in METRICS and name not in JUDGE_METRICS]
    if unknown:
        raise FaithbenchError(f"{where}: unknown metric(s) {unknown}")
    unjudged = [name for name in rules.require if name in JUDGE_METRICS and config.judge is None]
    if unjudged:
        raise FaithbenchError(f"{where}: {unjudged} need a judge (--judge SPEC)")
    task = split_task(config.split)
    with contextlib.ExitStack() as stack:
        judge = stack.enter_context(open_judge(config.judge, config.use_cache)) if config.judge else None
        run = run_eval(
            EvalConfig(
                model=config.teacher,
                task=task.name,
                out=config.out / TEACHER_DIR,
                limit=config.limit,
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
                batch_size=config.batch_size,
                metrics=list(dict.fromkeys([*DEFAULT_METRICS, *(m for m in rules.require if m in METRICS)])),
                data_dir=config.data_dir,
                use_cache=config.use_cache,
                progress=config.progress,
            ),
            stages=[judge] if judge else [],
        )
    info = run.read_info()
    traces = [
        _trace(r, info.model, info.model_identity, task.name, info.data.sha256) for r in run.read_samples()
    ]
    kept, dropped = filter_traces(traces, rules)
    failed = [{metric for metric, _ in reasons} for reasons in _failures(traces, rules).values()]
    failing = {metric: sum(metric in f for f in failed) for metric in rules.require}
    report = FilterReport(
        teacher=config.teacher,
        n_traces=len(traces),
        n_kept=len(kept),
        dropped={reason: len(ids) for reason, ids in dropped.items()},
        failing=failing,
        dropped_ids=dropped,
        filter=rules,
    )
    _write_dataset(config.out, kept, info.metrics)
    write_atomic(config.out / REPORT_FILE, report.model_dump_json(indent=2) + "\n")
    return report


def filter_traces(
    traces: list[DistilledTrace], rules: FilterConfig
) -> tuple[list[DistilledTrace], dict[str, list[str]]]:
    """The kept traces, and the dropped ids by reason: the first failing rule in the config's order,
    or `duplicate`. Every trace is kept or dropped exactly once."""
    failures = _failures(traces, rules)
    kept: list[DistilledTrace] = []
    dropped: dict[str, list[str]] = {}
    seen: set[str] = set()
    for trace in traces:
        reasons = failures[trace.id]
        key = _dedup_key(trace, rules.dedup)
        reason = reasons[0][1] if reasons else ("duplicate" if key is not None and key in seen else None)
        if reason is None:
            kept.append(trace)
            if key is not None:
                seen.add(key)
        else:
            dropped.setdefault(reason, []).append(trace.id)
    return kept, dropped


def _failures(traces: list[DistilledTrace], rules: FilterConfig) -> dict[str, list[tuple[str, str]]]:
    """trace id -> (metric, reason) for each rule it fails; reasons read `<metric> < <minimum>` or
    `<metric> unscored`."""
    out: dict[str, list[tuple[str, str]]] = {}
    for trace in traces:
        reasons = []
        for metric, minimum in rules.require.items():
            value = trace.scores.get(metric)
            if value is None:
                reasons.append((metric, f"{metric} unscored"))
            elif value < minimum:
                reasons.append((metric, f"{metric} < {minimum:g}"))
        out[trace.id] = reasons
    return out


def _dedup_key(trace: DistilledTrace, mode: str) -> str | None:
    if mode == "none":
        return None
    question = " ".join(trace.question.lower().split())
    return question if mode == "question" else f"{question}\0{' '.join(trace.completion.split())}"


def _trace(record: SampleRecord, teacher: str, identity: str, task: str, data_sha256: str) -> DistilledTrace:
    # The reasoning channel and <think> block, joined as every metric saw them.
    parsed = parse_completion(completion_of(record))
    reasoning, visible = parsed.reasoning, parsed.visible
    completion = (
        f"<think>\n{reasoning.strip()}\n</think>\n\n{visible.strip()}" if reasoning else visible.strip()
    )
    return DistilledTrace(
        id=record.id,
        question=record.question,
        target=record.target,
        completion=completion,
        reasoning=reasoning,
        answer=record.answer,
        scores={name: score.value for name, score in record.scores.items()},
        teacher=teacher,
        teacher_identity=identity,
        task=task,
        prompt_sha256=_sha256(record.prompt),
        completion_sha256=_sha256(completion),
        data_sha256=data_sha256,
        faithbench_version=package_version("faithbench"),
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write_dataset(out: Path, kept: list[DistilledTrace], metrics: list[str]) -> None:
    """kept.jsonl and dataset/, each replaced whole (temp name, then rename): never half-written."""
    import datasets

    # Declared columns: the same schema whether the filter kept a thousand traces or none.
    columns = {name: datasets.Value("string") for name in DistilledTrace.model_fields if name != "scores"}
    features = datasets.Features({**columns, "scores": {m: datasets.Value("float64") for m in metrics}})
    tmp = out / f".{DISTILLED_DATASET}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    rows = [t.model_dump() for t in kept]
    columns_of_rows = {
        name: [row[name] for row in rows] for name in features
    }  # from_list drops columns of []
    # One shard, named: left to choose, `datasets` writes an empty dataset with no data file at all, and
    # then cannot load it. Kept traces are text, a few MB even for all of GSM8K train.
    dataset = datasets.Dataset.from_dict(columns_of_rows, features=features)
    dataset.save_to_disk(str(tmp), num_shards=1)
    shutil.rmtree(out / DISTILLED_DATASET, ignore_errors=True)
    tmp.rename(out / DISTILLED_DATASET)
    write_atomic(out / DISTILLED_JSONL, "".join(t.model_dump_json() + "\n" for t in kept))
