"""`faithbench import inspect`: an inspect-ai log (`.eval` or `.json`) of a GSM8K task -> a faithbench run.

Each sample's completion is `output.completion`. Its item is its id when that is a faithbench id
(`test-<i>`, as `faithbench/gsm8k_faithfulness` writes), checked against `metadata.question` when
present; otherwise the GSM8K test question found in the sample's input. Only epoch 1 is imported.
faithbench extracts the answers itself (inspect scorers have no single answer convention).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from faithbench.errors import DataError
from faithbench.harness.backends.base import Completion, GenerationConfig
from faithbench.harness.store import RunDir
from faithbench.interop.runs import ImportedSample, write_imported_run
from faithbench.tasks.registry import TASKS

OUR_TASK = "gsm8k_faithfulness"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for message in content:
        role = getattr(message, "role", "user")
        parts.append(f"[{role}]\n{getattr(message, 'text', '') or ''}")
    return "\n\n".join(parts)


def _find_question(text: str, questions: list[str]) -> str | None:
    """The question that occurs last in `text` (few-shot exemplars come before it)."""
    flat = " ".join(text.split())
    best, best_at = None, -1
    for q in questions:
        at = flat.rfind(" ".join(q.split()))
        if at > best_at:
            best, best_at = q, at
    return best


def import_inspect(
    path: str | Path,
    out: str | Path,
    *,
    task: str | None = None,
    model: str | None = None,
    metrics: list[str] | None = None,
    data_dir: str | None = None,
) -> RunDir:
    from inspect_ai.log import read_eval_log

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such inspect log")
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # inspect raises many kinds on a bad file
        raise DataError(f"{path}: not a readable inspect log ({type(exc).__name__}: {exc})") from None
    if not log.samples:
        raise DataError(f"{path}: the log has no samples (was it written with --no-log-samples?)")
    task_args = dict(log.eval.task_args or {}) if log.eval.task.endswith(OUR_TASK) else {}
    task_name = task or str(task_args.get("task") or "gsm8k")
    spec = TASKS.get(task_name)
    questions: list[str] | None = None
    samples = []
    for s in log.samples:
        if s.epoch != 1:
            continue
        sid = str(s.id)
        question = (s.metadata or {}).get("question")
        known_id = sid.startswith(f"{spec.split}-") and sid.split("-", 1)[1].isdigit()
        if not isinstance(question, str) and not known_id:
            if questions is None:
                questions = [i.question for i in spec.load(data_dir)[0]]
            question = _find_question(_text(s.input), questions)
        samples.append(
            ImportedSample(
                where=f"{path}: sample {s.id!r}",
                id=sid if known_id else None,
                question=question if isinstance(question, str) else None,
                prompt=_text(s.input),
                completion=Completion(
                    text=s.output.completion if s.output else "",
                    finish_reason=_finish(s.output),
                ),
            )
        )
    plan, given = log.plan.config, log.eval.model_generate_config
    num_fewshot = task_args.get("num_fewshot")
    generation = GenerationConfig(
        max_new_tokens=int(task_args.get("max_tokens") or plan.max_tokens or given.max_tokens or 256),
        temperature=float(plan.temperature or given.temperature or 0.0),
        stop=tuple(plan.stop_seqs or given.stop_seqs or spec.stop),
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return write_imported_run(
        samples,
        out=out,
        task=spec.name,
        model=model or f"inspect:{log.eval.model}",
        identity=f"inspect:{log.eval.model}:{path.resolve()}#{digest}",
        generation=generation,
        num_fewshot=spec.default_num_fewshot if num_fewshot is None else int(num_fewshot),
        metrics=metrics,
        data_dir=data_dir,
        tool_versions=("inspect_ai",),
    )


def _finish(output: Any) -> Any:
    reason = output.stop_reason if output is not None else None
    return {"stop": "stop", "max_tokens": "length", "model_length": "length"}.get(reason or "", "unknown")
