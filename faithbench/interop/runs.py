"""One path for every importer: completions made by another tool -> a scored faithbench run.

Each imported sample is matched to a task item (by id, checked against the question; else by the
question text), scored with `faithbench.harness.scoring.score_sample` exactly as `faithbench eval`
scores, and written with `RunDir` and `runner.finish`, so run.json carries the real data hash and
`compare`, `gate`, `score` and the leaderboard treat the run like a native one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faithbench.errors import DataError, FaithbenchError
from faithbench.harness.backends.base import Completion, GenerationConfig
from faithbench.harness.runner import finish, get_task, new_run_info
from faithbench.harness.scoring import resolve_metrics, score_sample
from faithbench.harness.store import RunDir
from faithbench.tasks.base import Item


@dataclass(frozen=True)
class ImportedSample:
    """One completion from another tool. `where` names it in error messages."""

    where: str
    id: str | None  # the faithbench item id it claims (`test-<i>`), if any
    question: str | None  # the question it answered, to check (or find) the item
    prompt: str
    completion: Completion
    # (flexible, strict) as the source extracted them, normalised; None: faithbench extracts its own
    answers: tuple[str | None, str | None] | None = None


def match_items(samples: Sequence[ImportedSample], items: Sequence[Item], task: str) -> list[Item]:
    """The task item of each sample: by id when the question agrees (or is unknown), else by question."""
    by_id = {i.id: i for i in items}
    by_question = {_key(i.question): i for i in items}
    out: list[Item] = []
    seen: dict[str, str] = {}
    for sample in samples:
        item = by_id.get(sample.id) if sample.id is not None else None
        if item is not None and sample.question is not None and _key(sample.question) != _key(item.question):
            item = None
        if item is None and sample.question is not None:
            item = by_question.get(_key(sample.question))
        if item is None:
            raise DataError(
                f"{sample.where}: no item of task {task!r} has id {sample.id!r} or this question "
                f"({(sample.question or '')[:60]!r}); was it run on the same GSM8K split?"
            )
        if item.id in seen:
            raise DataError(f"{sample.where}: item {item.id} appears twice (first at {seen[item.id]})")
        seen[item.id] = sample.where
        out.append(item)
    return out


def write_imported_run(
    samples: Sequence[ImportedSample],
    *,
    out: str | Path,
    task: str,
    model: str,
    identity: str,
    generation: GenerationConfig,
    num_fewshot: int,
    metrics: Sequence[str] | None = None,
    data_dir: str | None = None,
    tool_versions: Sequence[str] = (),
) -> RunDir:
    if not samples:
        raise DataError("nothing to import: no samples")
    run = RunDir(out)
    with run.writing():  # one writer: the check that the folder is free and the writes under one lock
        if run.exists() or run.samples_path.exists():
            raise FaithbenchError(f"{run.path} already holds a run; import into a new --out")
        spec = get_task(task)
        metric_list = resolve_metrics(metrics)
        items, data = spec.load(data_dir)
        matched = match_items(samples, items, spec.name)
        info = new_run_info(
            task=spec.name,
            model=model,
            identity=identity,
            generation=generation,
            num_fewshot=num_fewshot,
            limit=None,
            seed=0,
            batch_size=1,
            metrics=[m.name for m in metric_list],
            data=data,
            n_items=len(samples),
            tool_versions=tool_versions,
        )
        run.write_info(info)
        run.append_samples(
            score_sample(
                item,
                s.prompt,
                s.completion,
                metric_list,
                answers=s.answers,
                answer_extractor=spec.answer_extractor,
            )
            for item, s in zip(matched, samples, strict=True)
        )
        finish(run, info, status="finished")
        return run


def _key(question: str) -> str:
    return " ".join(question.split())
