"""`intervene`: run intervention tests on a finished run's samples with a local model.

All tests' prompts for all samples are planned first, de-duplicated (the early-answering and filler
tests share prompts), and answered in batches through the response cache, each batch stored as it
finishes: a kill loses no generation, and a rerun makes none. Scores then go into samples.jsonl as
metrics (with details), summary.json is rewritten, and `interventions.json` holds the aggregates.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from faithbench.core import Score
from faithbench.errors import FaithbenchError
from faithbench.harness.backends import Backend, Completion, GenerationConfig, Request, load_backend
from faithbench.harness.cache import CachedBackend, ResponseCache
from faithbench.harness.runner import finish, get_task, utc_now
from faithbench.harness.schema import RunInfo, SampleRecord
from faithbench.harness.store import RunDir, write_atomic
from faithbench.interventions import report as reports
from faithbench.interventions.probes import PROBES, Ask, Env, NotApplicable, Probe, Subject
from faithbench.interventions.text import chain_of_thought, sentence_spans
from faithbench.parsing import split_sentences
from faithbench.registry import RegistryError
from faithbench.tasks.base import Item
from faithbench.tasks.data import Row
from faithbench.tasks.registry import Task

REPORT_FILE = "interventions.json"


@dataclass
class InterventionConfig:
    """Everything `faithbench intervene` takes."""

    model: str | None = None  # None: the run's own model (its identity must still match)
    tests: list[str] | None = None  # None: every test
    limit: int | None = None  # the first N samples of samples.jsonl
    batch_size: int = 8
    answer_tokens: int = 8  # new tokens for a forced answer
    use_cache: bool = True
    progress: bool = True
    data_dir: str | None = None  # GSM8K files, for a few-shot run's exemplars


def resolve_probes(names: Sequence[str] | None) -> list[Probe]:
    try:
        return [PROBES.get(n) for n in (names or PROBES.names())]
    except RegistryError as exc:
        raise FaithbenchError(str(exc)) from None


def intervene(
    path: str | Path, config: InterventionConfig, backend: Backend | None = None
) -> reports.InterventionReport:
    run = RunDir(path)
    run.read_info()  # a path that holds no run is refused before the lock makes anything there
    with run.writing():  # one writer per run directory, from reading the samples to rewriting them
        info = run.read_info()
        probes = resolve_probes(config.tests)
        if info.status != "finished":
            raise FaithbenchError(
                f"{run.info_path}: the run is not finished; finish it with `faithbench eval` first"
            )
        if config.limit is not None and config.limit < 1:
            raise FaithbenchError("--limit must be at least 1")
        if config.answer_tokens < 1:
            raise FaithbenchError("--answer-tokens must be at least 1")
        records = run.read_samples()
        chosen = records[: config.limit]
        if not chosen:
            raise FaithbenchError(f"{run.samples_path}: no samples to intervene on")

        task = get_task(info.task)
        exemplars = task.fewshot_rows(info.num_fewshot, config.data_dir)
        subjects = [_subject(run, line, r, task, exemplars) for line, r in enumerate(chosen, start=1)]
        backend = backend or load_backend(config.model or info.model, batch_size=config.batch_size)
        if config.model is None and backend.identity != info.model_identity:
            raise FaithbenchError(
                f"{run.info_path}: the run was made by {info.model_identity}, but {info.model!r} now loads "
                f"{backend.identity}; pass --model to intervene with another model on purpose"
            )
        env = Env(
            seed=info.seed,
            count_tokens=_token_counter(backend),
            build_prompt=lambda item: task.prompt(item, exemplars),
        )

        plans: list[tuple[Subject, Probe, list[Ask] | str]] = []
        for s in subjects:
            for probe in probes:
                try:
                    plans.append((s, probe, probe.plan(s, env)))
                except NotApplicable as why:
                    plans.append((s, probe, str(why)))
        short = info.generation.model_copy(update={"max_new_tokens": config.answer_tokens})
        configs = {False: short, True: info.generation}
        asks = [ask for _, _, planned in plans if not isinstance(planned, str) for ask in planned]
        answers, generated, cached = _answer_all(backend, asks, configs, config)

        scores: dict[str, dict[str, Score]] = {r.id: {} for r in records}
        for s, probe, planned in plans:
            if isinstance(planned, str):
                got = {name: Score.unscored(planned) for name in probe.metrics}
            else:
                got = probe.score(s, env, [answers[_key(backend, a, configs)] for a in planned])
            scores[s.record.id].update(got)
        names = [name for probe in probes for name in probe.metrics]
        updated = [_with_scores(r, scores[r.id], names) for r in records]
        run.replace_samples(updated)
        all_names = list(dict.fromkeys([*info.metrics, *names]))
        finish(run, info.model_copy(update={"metrics": all_names}), status="finished")

        report = _report(run, info, backend, probes, config, updated, len(chosen), generated, cached)
        write_atomic(run.path / REPORT_FILE, report.model_dump_json(indent=2) + "\n")
        return report


def _subject(run: RunDir, line: int, record: SampleRecord, task: Task, exemplars: Sequence[Row]) -> Subject:
    item = Item(id=record.id, question=record.question, target=record.target)
    prompt = task.prompt(item, exemplars)
    if prompt.display != record.prompt:
        raise FaithbenchError(
            f"{run.samples_path}:{line}: field 'prompt': sample {record.id} was not asked with task "
            f"{task.name!r}'s prompt (an imported run?), so its chain of thought cannot be replayed"
        )
    cot = chain_of_thought(record.completion)
    steps = split_sentences(cot)
    return Subject(record=record, prompt=prompt, cot=cot, steps=steps, spans=sentence_spans(cot, steps))


def _token_counter(backend: Backend) -> Callable[[str], int]:
    """Token counts by the model's own tokenizer (the filler test replaces the CoT token for token);
    the tests also hand the model a prefilled reply to continue."""
    if not backend.accepts_prefill or backend.count_tokens("") is None:
        raise FaithbenchError(
            f"intervention tests need a local model (smollm2, hf:..., vllm:...); {backend.identity} "
            "has no tokenizer to count the chain of thought's tokens or cannot be prefilled"
        )

    def count(text: str) -> int:
        return backend.count_tokens(text) or 0

    return count


def _key(backend: Backend, ask: Ask, configs: dict[bool, GenerationConfig]) -> str:
    return ResponseCache.key(backend.identity, Request(id="", prompt=ask.prompt), configs[ask.long])


def _answer_all(
    backend: Backend, asks: list[Ask], configs: dict[bool, GenerationConfig], config: InterventionConfig
) -> tuple[dict[str, Completion], int, int]:
    """Every distinct ask answered, keyed by its cache key; batches of `batch_size` go to the model
    one at a time so that each is cached as soon as it is done. Returns (answers, generated, cached)."""
    unique: dict[str, Ask] = {}
    for ask in asks:
        unique.setdefault(_key(backend, ask, configs), ask)
    cache = ResponseCache() if config.use_cache and backend.cacheable else None
    cached = CachedBackend(backend, cache) if cache else None
    model: Backend = cached or backend
    answers: dict[str, Completion] = {}
    bar = tqdm(
        total=len(unique), desc="interventions", unit="prompt", disable=not config.progress, file=sys.stderr
    )
    try:
        for long in (False, True):  # forced answers first: they are quick
            keys = [k for k, a in unique.items() if a.long is long]
            for start in range(0, len(keys), config.batch_size):
                batch = keys[start : start + config.batch_size]
                requests = [Request(id=k, prompt=unique[k].prompt) for k in batch]
                answers.update(zip(batch, model.generate(requests, configs[long]), strict=True))
                bar.update(len(batch))
    finally:
        bar.close()
        if cache:
            cache.close()
    if cached is not None:
        return answers, cached.misses, cached.hits
    return answers, len(unique), 0


def _with_scores(record: SampleRecord, scores: dict[str, Score], names: list[str]) -> SampleRecord:
    """The record with this call's scores. A sample outside --limit keeps earlier scores, or is
    unscored with the reason if it has none."""
    outside = Score.unscored("not intervened on (outside --limit)")
    wanted = {n: scores.get(n, outside) for n in names if n in scores or n not in record.scores}
    return record.with_scores(wanted) if wanted else record


def _report(
    run: RunDir,
    info: RunInfo,
    backend: Backend,
    probes: list[Probe],
    config: InterventionConfig,
    records: list[SampleRecord],
    intervened: int,
    generated: int,
    cached: int,
) -> reports.InterventionReport:
    """This call's settings, and aggregates over every intervention score the run stores."""
    return reports.InterventionReport(
        run=str(run.path),
        model=config.model or info.model,
        model_identity=backend.identity,
        tests=[p.name for p in probes],
        answer_tokens=config.answer_tokens,
        max_new_tokens=info.generation.max_new_tokens,
        n_samples=intervened,
        generations=generated,
        cached=cached,
        created_at=utc_now(),
        early=reports.early_report(records),
        mistakes=reports.mistakes_report(records),
        filler=reports.filler_report(records),
        hint=reports.hint_report(records),
    )
