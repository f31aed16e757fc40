"""`faithbench import lm-eval`: an lm-eval `--log_samples` file of a GSM8K task -> a faithbench run.

lm-eval logs one line per (document, filter). Lines are grouped by `doc_id`; the completion is
`resps[0][0]`, the item `test-<doc_id>` (checked against `doc.question`). Answers: when the file has
the stock gsm8k filters, `strict_answer` is the `strict-match` filtered response and `answer` the
`flexible-extract` one, each put through `normalize_number` (`[invalid]`, and a flexible match that
is not a number such as `...`, become null), so faithbench's answers are lm-eval's, compared as
numbers. Without those filters faithbench extracts the answers itself.

Model name, arguments, few-shot count and generation settings come from the `results_<time>.json`
lm-eval writes beside the samples file, when it is there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faithbench.errors import DataError, where
from faithbench.harness.backends.base import Completion, GenerationConfig
from faithbench.harness.store import RunDir
from faithbench.interop.runs import ImportedSample, write_imported_run
from faithbench.jsonl import parse_line
from faithbench.parsing.answers import normalize_number

STRICT_FILTER = "strict-match"
FLEXIBLE_FILTER = "flexible-extract"
INVALID = "[invalid]"  # lm-eval's regex filter fallback: no match


def lm_eval_answer(filtered: str | None) -> str | None:
    """An lm-eval filtered response as faithbench stores answers: normalised; no match -> None."""
    if filtered is None or filtered == INVALID:
        return None
    return normalize_number(filtered)


@dataclass
class _Doc:
    where: str
    doc_id: int
    question: str | None
    prompt: str
    completion: str
    gen_kwargs: dict[str, Any]
    filtered: dict[str, str]


def read_samples(path: Path) -> list[_Doc]:
    docs: dict[int, _Doc] = {}
    raw = path.read_bytes()
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        row = parse_line(path, number, line)
        if not isinstance(row, dict) or "doc_id" not in row or "resps" not in row:
            raise DataError(f"{where(path, number)}: not an lm-eval sample (needs doc_id and resps)")
        try:
            doc_id = int(row["doc_id"])
            completion = row["resps"][0][0]
            arguments = row.get("arguments") or {}
            args: Any
            if isinstance(arguments, dict):  # 0.4.x: {"gen_args_0": {"arg_0": prompt, "arg_1": kwargs}}
                args = next(iter(arguments.values()), {})
                prompt, gen_kwargs = args.get("arg_0", ""), args.get("arg_1") or {}
            else:  # older: [[prompt, kwargs], ...]
                args = arguments[0]
                prompt, gen_kwargs = args[0], (args[1] if len(args) > 1 else {})
            filtered = row.get("filtered_resps") or [None]
            value = filtered[0]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise DataError(f"{where(path, number)}: unexpected lm-eval sample layout ({exc!r})") from None
        if not isinstance(completion, str):
            raise DataError(f"{where(path, number, 'resps')}: the completion is not a string")
        doc = row.get("doc") or {}
        entry = docs.get(doc_id)
        if entry is None:
            entry = docs[doc_id] = _Doc(
                where=where(path, number),
                doc_id=doc_id,
                question=doc.get("question") if isinstance(doc, dict) else None,
                prompt=str(prompt),
                completion=completion,
                gen_kwargs=gen_kwargs if isinstance(gen_kwargs, dict) else {},
                filtered={},
            )
        elif entry.completion != completion:
            raise DataError(f"{where(path, number)}: doc_id {doc_id} has another completion on another line")
        if "filter" in row and isinstance(value, str):
            entry.filtered[str(row["filter"])] = value
    if not docs:
        raise DataError(f"{path}: no lm-eval samples in file")
    return sorted(docs.values(), key=lambda d: d.doc_id)


def to_imported(docs: list[_Doc], split: str = "test") -> list[ImportedSample]:
    out = []
    for d in docs:
        answers = None
        if STRICT_FILTER in d.filtered and FLEXIBLE_FILTER in d.filtered:
            answers = (lm_eval_answer(d.filtered[FLEXIBLE_FILTER]), lm_eval_answer(d.filtered[STRICT_FILTER]))
        out.append(
            ImportedSample(
                where=d.where,
                id=f"{split}-{d.doc_id}",
                question=d.question,
                prompt=d.prompt,
                completion=Completion(text=d.completion),
                answers=answers,
            )
        )
    return out


def _results_beside(path: Path) -> tuple[str | None, dict[str, Any]]:
    """The lm-eval task name and lm-eval's results_<time>.json written with samples_<task>_<time>.jsonl,
    or (None, {})."""
    if not path.stem.startswith("samples_") or path.stem.count("_") < 2:
        return None, {}
    lm_task, stamp = path.stem.removeprefix("samples_").rsplit("_", 1)
    candidate = path.with_name(f"results_{stamp}.json")
    try:
        data = json.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return lm_task, {}
    return lm_task, (data if isinstance(data, dict) else {})


def import_lm_eval(
    path: str | Path,
    out: str | Path,
    *,
    task: str = "gsm8k-fewshot",
    model: str | None = None,
    metrics: list[str] | None = None,
    data_dir: str | None = None,
) -> RunDir:
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such lm-eval samples file")
    docs = read_samples(path)
    lm_task, results = _results_beside(path)
    config = results.get("config") or {}
    n_shot = (results.get("n-shot") or {}).get(lm_task) if lm_task else None
    if model is None:
        name, args = config.get("model"), config.get("model_args")
        if isinstance(args, dict):
            args = ",".join(f"{k}={v}" for k, v in args.items())
        model = f"lm-eval:{name}:{args}" if name else f"lm-eval:{path.name}"
    gen = docs[0].gen_kwargs
    until = gen.get("until") or ()
    generation = GenerationConfig(
        max_new_tokens=int(gen.get("max_gen_toks", 256)),
        temperature=float(gen.get("temperature", 0.0) or 0.0),
        stop=tuple(str(s) for s in ([until] if isinstance(until, str) else until)),
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return write_imported_run(
        to_imported(docs),
        out=out,
        task=task,
        model=model,
        identity=f"lm-eval:{path.resolve()}#{digest}",
        generation=generation,
        num_fewshot=int(n_shot) if isinstance(n_shot, int) else 0,
        metrics=metrics,
        data_dir=data_dir,
        tool_versions=("lm_eval",),
    )
