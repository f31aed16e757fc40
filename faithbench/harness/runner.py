"""Run a task through a model into a run directory; resume where a previous run stopped.

`run_eval` generates completions and passes each group of new records through its stages (rule
scoring first, then whatever the caller adds, an LLM judge say) before storing it. A backend that
streams (continuous batching) gets every pending request at once, and each answer is stored the
moment it ends; other backends get a batch at a time. `rescore` passes a run's stored records
through the same stages. The library neither prints nor records runs in the results database: the
command line does both (faithbench.cli)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from faithbench.errors import DataError, FaithbenchError, where
from faithbench.harness.backends import (
    Backend,
    Completion,
    GenerationConfig,
    Request,
    Streaming,
    backend_device,
    load_backend,
)
from faithbench.harness.cache import CachedBackend, ResponseCache
from faithbench.harness.lineage import LineageStep, model_lineage
from faithbench.harness.schema import FORMAT_VERSION, JudgeInfo, RunInfo, SampleRecord, Summary
from faithbench.harness.scoring import RuleScoring, Stage, resolve_metrics, summarize_records
from faithbench.harness.store import RunDir, check_run_dir
from faithbench.parsing.answers import DEFAULT_EXTRACTOR
from faithbench.registry import RegistryError
from faithbench.tasks.data import DataInfo
from faithbench.tasks.registry import TASKS, Task


@dataclass
class EvalConfig:
    """Everything `faithbench eval` takes. Defaults are what a bare `faithbench eval` runs."""

    model: str = "smollm2"
    task: str = "gsm8k"
    out: Path | None = None  # default: runs/<task>-<model>-<timestamp>
    limit: int | None = None  # first N items of the split (lm-eval's --limit semantics)
    seed: int = 0
    max_new_tokens: int = 256
    temperature: float = 0.0
    batch_size: int = 8
    tensor_parallel_size: int = 1  # GPUs one vllm: model is split across
    dtype: str | None = None  # local weights: float32 | bfloat16 | float16 | auto; None: by device
    device: str | None = None  # smollm2 and hf: models: cpu | cuda | cuda:N | mps; None: cuda if any
    num_fewshot: int | None = None  # None: the task's default
    metrics: list[str] | None = None  # rule metrics; None: every default rule metric
    data_dir: str | None = None
    use_cache: bool = True
    progress: bool = True


def run_eval(config: EvalConfig, backend: Backend | None = None, stages: Sequence[Stage] = ()) -> RunDir:
    """Generate and score every item not yet in the run at `config.out`. Each batch of new records
    goes through rule scoring of `config.metrics`, then through `stages` in order (an LLM judge,
    say: `faithbench.judges.open_judge`), and is stored before the next batch is generated."""
    task = get_task(config.task)
    rules = RuleScoring(resolve_metrics(config.metrics), task.answer_extractor)
    pipeline: list[Stage] = [rules, *stages]
    num_fewshot = task.default_num_fewshot if config.num_fewshot is None else config.num_fewshot
    if num_fewshot and task.style != "fewshot":
        raise FaithbenchError(f"task {task.name!r} is a zero-shot chat task; use gsm8k-fewshot for exemplars")
    if config.limit is not None and config.limit < 1:
        raise FaithbenchError("--limit must be at least 1")
    backend = backend or load_backend(
        config.model,
        batch_size=config.batch_size,
        tensor_parallel_size=config.tensor_parallel_size,
        dtype=config.dtype,
        device=config.device,
    )

    items, data = task.load(config.data_dir)
    answerable = backend.answerable_ids({i.id for i in items}, task.name)
    if answerable is not None:  # a predictions file: its items only
        items = [i for i in items if i.id in answerable]
    items = items[: config.limit]
    exemplars = task.fewshot_rows(num_fewshot, config.data_dir)

    generation = GenerationConfig(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        seed=config.seed,
        stop=task.stop,
    )
    info = new_run_info(
        task=task.name,
        model=config.model,
        identity=backend.identity,
        device=backend_device(backend),
        generation=generation,
        num_fewshot=num_fewshot,
        limit=config.limit,
        seed=config.seed,
        batch_size=config.batch_size,
        metrics=_metric_names(pipeline),
        data=data,
        n_items=len(items),
        lineage=model_lineage(config.model),
    ).model_copy(update=_stage_info(stages))
    run = RunDir(config.out or _default_out(task.name, config.model))
    check_run_dir(run.path)  # nothing is written to a path that cannot be, or is not, a run
    with run.writing():  # one writer per run directory: a second eval or score is refused
        if run.exists():
            old = run.read_info()
            if diffs := old.same_experiment(info):
                raise FaithbenchError(
                    f"{run.path} holds a run with different {', '.join(diffs)}; "
                    "use another --out (or `faithbench score` to change metrics)"
                )
            info = info.model_copy(update={"created_at": old.created_at})
            if old.format_version < FORMAT_VERSION:  # new lines go after old ones: one format in the file
                run.replace_samples(run.read_samples())
        run.write_info(info)

        done = {r.id for r in run.read_samples()}
        pending = [i for i in items if i.id not in done]
        prompts = {i.id: task.prompt(i, exemplars) for i in pending}
        # Similar lengths in one batch waste less padding; the backend sorts within a call as well.
        pending.sort(key=lambda i: len(prompts[i.id].display))
        cache = ResponseCache() if config.use_cache and backend.cacheable else None
        model: Backend = CachedBackend(backend, cache) if cache else backend
        bar = tqdm(
            total=len(items),
            initial=len(items) - len(pending),
            desc=f"{task.name} {config.model}",
            unit="sample",
            disable=not config.progress,
            file=sys.stderr,
        )
        errors: list[str] = []  # why samples got no completion; they stay pending for a rerun
        requests = [Request(id=i.id, prompt=prompts[i.id]) for i in pending]
        # With stages (a judge), answers are judged a batch at a time; the response cache holds each
        # answer from the moment it ends, so a kill before its group is stored costs no generation.
        group = config.batch_size if stages else 1
        try:
            for done_group in _answered_groups(
                model, backend, requests, generation, config.batch_size, group
            ):
                batch = [pending[index] for index, _ in done_group]
                completions = [completion for _, completion in done_group]
                answered = [(i, c) for i, c in zip(batch, completions, strict=True) if c.error is None]
                errors += [c.error for c in completions if c.error is not None]
                records = [rules.score_fresh(i, prompts[i.id].display, c) for i, c in answered]
                run.append_samples(run_stages(stages, records))  # rule metrics are scored already
                bar.update(len(answered))
        finally:
            bar.close()
            if cache:
                cache.close()
        if errors:
            finish(run, info, status="running")  # not finished: the CLI records only finished runs
            raise IncompleteRunError(run, len(errors), len(items), errors[0])
        finish(run, info, status="finished")
        return run


def _answered_groups(
    model: Backend,
    backend: Backend,
    requests: list[Request],
    generation: GenerationConfig,
    batch_size: int,
    group: int,
) -> Iterator[list[tuple[int, Completion]]]:
    """(request index, completion) pairs in groups of `group` as they end, when `backend` streams
    (it gets every request: its rows are refilled as they end); else one batch per `generate` call."""
    if isinstance(backend, Streaming) and isinstance(model, Streaming):  # model: backend, or its cache
        ready: list[tuple[int, Completion]] = []
        for pair in model.stream(requests, generation):
            ready.append(pair)
            if len(ready) >= group:
                yield ready
                ready = []
        if ready:
            yield ready
        return
    for start in range(0, len(requests), batch_size):
        completions = model.generate(requests[start : start + batch_size], generation)
        yield list(enumerate(completions, start))


def run_stages(
    stages: Sequence[Stage], records: list[SampleRecord], progress: bool = False
) -> list[SampleRecord]:
    for stage in stages:
        records = stage(records, progress=progress)
    return records


def _metric_names(stages: Sequence[Stage]) -> list[str]:
    return list(dict.fromkeys(name for stage in stages for name in stage.metrics))


def _stage_info(stages: Sequence[Stage]) -> dict[str, Any]:
    """The run.json fields the stages set (the judge's JudgeInfo)."""
    return {key: value for stage in stages for key, value in stage.run_info().items()}


class IncompleteRunError(FaithbenchError):
    """Some samples got no completion (a remote model failed them after its retries). The others
    are saved and summarised; the run stays `running`, and the same command asks for the rest."""

    def __init__(self, run: RunDir, n_failed: int, n_items: int, first_reason: str) -> None:
        super().__init__(
            f"{n_failed} of {n_items} samples got no completion (first: {first_reason}); the rest are "
            f"saved in {run.path}; rerun the same command to retry the missing ones"
        )
        self.run = run
        self.n_failed = n_failed


def new_run_info(
    *,
    task: str,
    model: str,
    identity: str,
    generation: GenerationConfig,
    num_fewshot: int,
    limit: int | None,
    seed: int,
    batch_size: int,
    metrics: list[str],
    data: DataInfo,
    n_items: int,
    tool_versions: Sequence[str] = (),
    judge: JudgeInfo | None = None,
    device: str | None = None,
    lineage: list[LineageStep] | None = None,
) -> RunInfo:
    """The run.json of a run starting now: what is run, on what data, with which package versions."""
    now = utc_now()
    packages = ("python", "torch", "transformers", "datasets", "pydantic", *tool_versions)
    return RunInfo(
        format_version=FORMAT_VERSION,
        faithbench_version=package_version("faithbench"),
        created_at=now,
        updated_at=now,
        status="running",
        task=task,
        model=model,
        model_identity=identity,
        device=device,
        generation=generation,
        num_fewshot=num_fewshot,
        limit=limit,
        seed=seed,
        batch_size=batch_size,
        metrics=metrics,
        data=data,
        n_items=n_items,
        versions={p: package_version(p) for p in packages},
        git_hash=git_hash(),
        judge=judge,
        lineage=lineage,
    )


def rescore(
    path: str | Path, metric_names: list[str], stages: Sequence[Stage] = (), progress: bool = True
) -> RunDir:
    """Score a run's stored completions with the rule metrics `metric_names` (every default one when
    empty), then with `stages` (an LLM judge, whose calls go through the response cache, so a rerun
    after a kill asks only for what is missing). Nothing is generated. The stored answers are kept:
    an imported run keeps the answers its tool extracted, and a run scored before its task's
    extractor changed keeps the answers its metrics were scored on."""
    metrics = resolve_metrics(metric_names)  # bad names fail before the run is touched
    run = RunDir(path)
    info = run.read_info()
    with run.writing():
        records = run.read_samples(strict=True)
        check_samples(run, info, records)
        pipeline: list[Stage] = [RuleScoring(metrics, task_extractor(info.task)), *stages]
        rescored = run_stages(pipeline, records, progress=progress)
        run.replace_samples(rescored)
        names = list(dict.fromkeys([*info.metrics, *_metric_names(pipeline)]))
        update = {"metrics": names, **_stage_info(stages)}
        finish(run, info.model_copy(update=update), status=info.status)
    return run


def check_samples(run: RunDir, info: RunInfo, records: Sequence[SampleRecord]) -> None:
    """A run's samples are fit to score: there are some, and each is an item of the run's task and
    data (checked where the task is installed and its data, the same by hash, is in a local folder,
    $FAITHBENCH_DATA_DIR: scoring never downloads); the reader has refused duplicate ids and damaged
    lines already."""
    if not records:
        state = "empty" if run.samples_path.exists() else "missing"
        raise DataError(f"{run.samples_path}: {state}; the run has no samples to score")
    if info.task not in TASKS or not os.environ.get("FAITHBENCH_DATA_DIR"):
        return
    try:
        items, data = TASKS.get(info.task).load(None)
    except FaithbenchError:
        return  # the data is not at hand here: nothing to check the ids against
    if data.sha256 != info.data.sha256:
        return
    known = {i.id for i in items}
    for record in records:
        if record.id not in known:
            line = run.lines.get(record.id)
            raise DataError(
                f"{where(run.samples_path, line, 'id')}: {record.id!r} is not an item of task "
                f"{info.task!r}; the run is damaged"
            )


def finish(run: RunDir, info: RunInfo, status: Literal["running", "finished"]) -> Summary:
    """Write the summary of every stored sample and the run's info with its new status."""
    records = run.read_samples()
    summary = Summary(
        task=info.task,
        model=info.model,
        n_samples=len(records),
        metrics=summarize_records(records, info.metrics),
    )
    run.write_summary(summary)
    # every writer has stored the samples in the current format by now (replace_samples, or the
    # rewrite of an old run's file before `eval` resumes it)
    update = {"status": status, "updated_at": utc_now(), "format_version": FORMAT_VERSION}
    run.write_info(info.model_copy(update=update))
    return summary


def get_task(name: str) -> Task:
    try:
        return TASKS.get(name)
    except RegistryError as exc:
        raise FaithbenchError(str(exc)) from None


def task_extractor(task: str) -> str:
    """The answer extractor of the task a run names in its run.json; the default one for a task that
    is not registered here (a plug-in no longer installed), so that every old run stays readable."""
    return TASKS.get(task).answer_extractor if task in TASKS else DEFAULT_EXTRACTOR


def _default_out(task: str, model: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_")[-60:]
    return Path("runs") / f"{task}-{slug}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def package_version(package: str) -> str:
    if package == "python":
        return sys.version.split()[0]
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def git_hash() -> str | None:
    repo = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None
