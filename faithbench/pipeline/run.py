"""`faithbench pipeline run RECIPE`: every stage of a pipeline recipe, each skipped when its output is
complete and resumed when it was killed (each stage is a command that already resumes: distill,
train sft, train grpo, eval).

OUT holds::

    recipe.yaml        the resolved pipeline recipe; another recipe in the same OUT is refused
    data/              `faithbench distill` output: teacher/, kept.jsonl, dataset/, filter_report.json
    recipes/           the SFT and GRPO recipes as the pipeline filled them in (model, data)
    sft/, grpo/        `faithbench train` outputs (grpo/base-merged: the SFT adapter merged)
    eval/<stage>/      one eval run per stage (base, sft, grpo), on the same items
    leaderboard.sqlite the stages' runs, registered
    pipeline.json      PipelineResult: stages, comparison, leaderboards, gate verdict, audit

The library neither prints nor renders: `on_stage` hears about each stage as it starts, and the
CLI writes the report (faithbench.reports.pipeline).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from faithbench.compare.compare import LoadedRun, compare_loaded, load_runs
from faithbench.compare.gate import is_regression
from faithbench.errors import FaithbenchError
from faithbench.harness.runner import EvalConfig, run_eval
from faithbench.harness.store import RunDir, write_atomic
from faithbench.leaderboard import build_leaderboard, register_run
from faithbench.pipeline.audit import audit, reward_trends, stage_audit
from faithbench.pipeline.recipe import PipelineRecipe
from faithbench.pipeline.schema import GateResult, PipelineResult, StageRecord
from faithbench.trainers.common import CARD_FILE, finished_card, prepare_out
from faithbench.trainers.data import reference_completion, split_task
from faithbench.trainers.distill import REPORT_FILE, TEACHER_DIR, DistillConfig, distill
from faithbench.trainers.recipe import DataSettings, dump_recipe, load_recipe

RESULT_FILE = "pipeline.json"
OnStage = Callable[[str], None]


def default_pipeline_out(recipe_path: Path) -> Path:
    return Path("runs") / "pipeline" / recipe_path.stem


def run_pipeline(
    recipe_path: str | Path,
    out: str | Path | None = None,
    *,
    progress: bool = True,
    on_stage: OnStage | None = None,
) -> PipelineResult:
    recipe_path = Path(recipe_path)
    recipe = load_recipe(recipe_path, PipelineRecipe)
    if "+lora:" in recipe.base:
        raise FaithbenchError(
            f"{recipe_path}: field 'base': start from full weights; merge the adapter first "
            "(faithbench train merge)"
        )
    out = Path(out) if out is not None else default_pipeline_out(recipe_path)
    prepare_out(out, recipe)  # recipe.yaml: a rerun must be the same pipeline
    tell = on_stage or (lambda _: None)
    stages: list[StageRecord] = []
    models: dict[str, str] = {"base": recipe.base}

    data = out / "data"
    _stage(stages, tell, "data", data, _data_done, lambda: _data(recipe, data, progress))
    if recipe.sft is not None:
        sft_recipe = recipe.sft.model_copy(
            update={"model": recipe.base, "data": DataSettings(source="distilled", path=str(data.resolve()))}
        )
        models["sft"] = _train_stage(stages, tell, "sft", sft_recipe, out)
    if recipe.grpo is not None:  # from the SFT adapter (merged: faithbench.trainers.merge), else the base
        start = recipe.base
        if recipe.sft is not None:
            start = f"{recipe.base}+lora:{(out / 'sft' / 'adapter').resolve()}"
        grpo_recipe = recipe.grpo.model_copy(update={"model": start})
        models["grpo"] = _train_stage(stages, tell, "grpo", grpo_recipe, out)

    runs: dict[str, str] = {}
    for label, spec in models.items():
        folder = out / "eval" / label

        def evaluate(spec: str = spec, folder: Path = folder) -> None:
            _eval(recipe, spec, folder, progress)

        _stage(stages, tell, f"eval/{label}", folder, _eval_done, evaluate)
        runs[label] = str(folder)

    return _analyse(recipe, recipe_path, out, stages, runs, models)


def _stage(
    stages: list[StageRecord],
    tell: OnStage,
    name: str,
    path: Path,
    done: Callable[[Path], str | None],
    work: Callable[[], object],
) -> Path:
    """Run `work` unless `done(path)` says (with a note) that the stage's output is complete."""
    started = time.perf_counter()
    note = done(path)
    status: Literal["ran", "skipped"] = "skipped"
    if note is None:
        tell(f"{name}: running")
        work()
        note, status = done(path) or "", "ran"
    else:
        tell(f"{name}: complete, skipped ({note})")
    seconds = round(time.perf_counter() - started, 1)
    stages.append(StageRecord(name=name, status=status, seconds=seconds, path=str(path), note=note))
    return path


def _data_done(folder: Path) -> str | None:
    report, teacher = folder / REPORT_FILE, RunDir(folder / TEACHER_DIR)
    if not report.is_file() or not teacher.exists() or teacher.read_info().status != "finished":
        return None
    counts = json.loads(report.read_text(encoding="utf-8"))
    return f"{counts['n_kept']} of {counts['n_traces']} traces kept"


def _data(recipe: PipelineRecipe, folder: Path, progress: bool) -> None:
    settings = recipe.data
    teacher = settings.teacher
    if settings.source == "references":
        items, _ = split_task(settings.split).load(None, settings.limit)
        folder.mkdir(parents=True, exist_ok=True)
        predictions = folder / "references.jsonl"
        lines = (
            json.dumps({"id": i.id, "completion": reference_completion(i.reference or "")}) for i in items
        )
        write_atomic(predictions, "".join(line + "\n" for line in lines))
        teacher = f"predictions:{predictions.resolve()}"
    assert teacher is not None  # DataStage checks it
    distill(
        DistillConfig(
            out=folder, teacher=teacher, split=settings.split, limit=settings.limit,
            filter=Path(settings.filter) if settings.filter else None,
            max_new_tokens=settings.max_new_tokens, batch_size=settings.batch_size, progress=progress,
        )
    )  # fmt: skip


def _train_stage(
    stages: list[StageRecord], tell: OnStage, kind: str, stage_recipe: BaseModel, out: Path
) -> str:
    """Write the filled-in recipe to OUT/recipes/KIND.yaml and train it into OUT/KIND; the eval spec."""
    recipe_file = out / "recipes" / f"{kind}.yaml"
    recipe_file.parent.mkdir(parents=True, exist_ok=True)
    text = dump_recipe(stage_recipe)
    if not recipe_file.is_file() or recipe_file.read_text(encoding="utf-8") != text:
        write_atomic(recipe_file, text)
    folder = out / kind

    def train() -> None:
        if kind == "sft":
            from faithbench.trainers.sft import train_sft as trainer
        else:
            from faithbench.trainers.grpo import train_grpo as trainer
        trainer(recipe_file, folder)

    _stage(stages, tell, kind, folder, _train_done, train)
    card = finished_card(folder)
    if card is None:  # pragma: no cover - train() returns only after writing it
        raise FaithbenchError(f"{folder / CARD_FILE}: missing after training")
    return card.eval_model_spec


def _train_done(folder: Path) -> str | None:
    card = finished_card(folder)
    return (
        None
        if card is None
        else f"{card.steps} steps, {card.data.n_examples} examples, {card.wall_seconds:.0f} s"
    )


def _eval_done(folder: Path) -> str | None:
    run = RunDir(folder)
    if not run.exists():
        return None
    info = run.read_info()
    return f"{info.n_items} items" if info.status == "finished" else None


def _eval(recipe: PipelineRecipe, spec: str, folder: Path, progress: bool) -> None:
    settings = recipe.eval
    run_eval(
        EvalConfig(
            model=spec, task=settings.task, out=folder, limit=settings.limit,
            max_new_tokens=settings.max_new_tokens, batch_size=settings.batch_size,
            metrics=list(settings.metrics), progress=progress,
        )
    )  # fmt: skip


def _analyse(
    recipe: PipelineRecipe,
    recipe_path: Path,
    out: Path,
    stages: list[StageRecord],
    runs: dict[str, str],
    models: dict[str, str],
) -> PipelineResult:
    loaded = load_runs(list(runs.values()))
    report = compare_loaded(loaded, recipe.compare.metrics, recipe.compare.correction, recipe.compare.alpha)
    db = out / "leaderboard.sqlite"
    for label, path in runs.items():
        register_run(path, db=db, label=label)
    boards = [
        build_leaderboard(db=db, task=recipe.eval.task, metric=m, alpha=recipe.compare.alpha)
        for m in dict.fromkeys(["accuracy", *recipe.gate.improve])
    ]
    labels = list(runs)
    final = labels[-1]
    rows = [c for c in report.comparisons if c.a == "base" and c.b == final]
    improved = [
        c.metric
        for c in rows
        if c.metric in recipe.gate.improve and c.significant and (c.improvement or 0) > 0
    ]
    regressions = [c for c in rows if is_regression(c, recipe.gate.margin)]
    gate = GateResult(
        baseline="base", candidate=final, improve=list(recipe.gate.improve), improved=improved,
        margin=recipe.gate.margin, regressions=regressions,
        passed=set(improved) == set(recipe.gate.improve) and not regressions,
    )  # fmt: skip
    rewarded = list(recipe.grpo.rewards) if recipe.grpo else []
    weights = dict(recipe.grpo.rewards) if recipe.grpo else {}
    result = PipelineResult(
        recipe=str(recipe_path),
        out=str(out),
        description=recipe.description,
        stages=stages,
        runs=runs,
        models=models,
        comparison=report,
        leaderboards=boards,
        gate=gate,
        audit=audit(
            [stage_audit(run.ref.label, list(run.samples.values()), recipe.eval.metrics) for run in loaded],
            reward_trends(out / "grpo" / "log_history.jsonl", weights),
            [m for m, w in weights.items() if w > 0] or rewarded,
        ),
    )
    write_atomic(out / RESULT_FILE, result.model_dump_json(indent=2) + "\n")
    return result


def loaded_runs(result: PipelineResult) -> dict[str, LoadedRun]:
    """The stages' eval runs as the report reads them (labels are the stage names)."""
    return {run.ref.label: run for run in load_runs(list(result.runs.values()))}
