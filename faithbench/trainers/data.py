"""Training examples in TRL's conversational formats, built with the same prompts `faithbench eval` sends.

SFT rows are prompt-completion pairs (`prompt`: the task's chat messages, `completion`: one assistant
message), so TRL computes the loss on the completion only. GRPO rows carry the prompt and the
`question` / `target` columns the metric rewards read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from faithbench.errors import DataError
from faithbench.harness.runner import get_task
from faithbench.tasks.base import Item, Prompt
from faithbench.tasks.registry import TASKS, Task
from faithbench.trainers.recipe import DataSettings

# The layout of a `faithbench distill --out` folder (written by trainers.distill).
DISTILLED_DATASET = "dataset"  # datasets.save_to_disk of the kept traces
DISTILLED_JSONL = "kept.jsonl"  # the same rows as JSONL, with scores and provenance

_ANNOTATION_RE = re.compile(r"<<[^<>]*>>")


class DataProvenance(BaseModel):
    """Where training examples came from (goes into the run card)."""

    source: str
    location: str
    sha256: str
    n_examples: int


def split_task(split: str, base: str = "gsm8k") -> Task:
    """The chat task `base` on another GSM8K split: `gsm8k` on `train` is `gsm8k-train`. Registered on
    first use, so run directories made with it (by distill) name a task the registry knows."""
    task = get_task(base)
    if split == task.split:
        return task
    name = f"{base}-{split}"
    if name not in TASKS:
        TASKS.add(
            name,
            dataclasses.replace(
                task, name=name, split=split, description=f"{task.description} ({split} split)"
            ),
        )
    return TASKS.get(name)


def reference_completion(reference: str) -> str:
    """A GSM8K reference solution as a training target: calculator annotations (`<<48/2=24>>`) removed,
    the `#### N` answer line kept last, as the eval prompt asks for."""
    return _ANNOTATION_RE.sub("", reference).strip()


def chat(prompt: Prompt) -> list[dict[str, str]]:
    if prompt.messages is None:
        raise DataError("training needs a chat task (its prompt is chat messages), not a raw-text one")
    return [{"role": role, "content": content} for role, content in prompt.messages]


def sft_rows(data: DataSettings) -> tuple[list[dict[str, Any]], DataProvenance]:
    task = get_task(data.task)
    examples, provenance = _examples(data)
    rows = [
        {
            "id": item.id,
            "prompt": chat(task.prompt(item)),
            "completion": [{"role": "assistant", "content": text}],
        }
        for item, text in examples
    ]
    return rows, provenance


def grpo_rows(data: DataSettings) -> tuple[list[dict[str, Any]], DataProvenance]:
    task = get_task(data.task)
    examples, provenance = _examples(data)
    rows = [
        {"id": item.id, "prompt": chat(task.prompt(item)), "question": item.question, "target": item.target}
        for item, _ in examples
    ]
    return rows, provenance


def _examples(data: DataSettings) -> tuple[list[tuple[Item, str]], DataProvenance]:
    """(item, target text) pairs from the recipe's source."""
    if data.source == "gsm8k":
        items, info = split_task(data.split).load(data.data_dir, data.limit)
        pairs = [(item, reference_completion(item.reference or "")) for item in items]
        return pairs, DataProvenance(
            source=f"gsm8k/{info.split}", location=info.source, sha256=info.sha256, n_examples=len(pairs)
        )
    assert data.path is not None  # DataSettings checks it
    return _distilled(Path(data.path), data.limit)


def _distilled(folder: Path, limit: int | None) -> tuple[list[tuple[Item, str]], DataProvenance]:
    dataset_dir, jsonl = folder / DISTILLED_DATASET, folder / DISTILLED_JSONL
    if not dataset_dir.is_dir() or not jsonl.is_file():
        raise DataError(
            f"{folder}: not a distilled dataset (expected {DISTILLED_DATASET}/ and {DISTILLED_JSONL} "
            "from `faithbench distill --out`)"
        )
    import datasets

    rows = datasets.load_from_disk(str(dataset_dir))
    if len(rows) == 0:
        raise DataError(f"{dataset_dir}: the distilled dataset is empty (the filter kept no trace)")
    pairs = [
        (Item(id=r["id"], question=r["question"], target=r["target"]), r["completion"])
        for r in rows.select(range(min(limit or len(rows), len(rows))))
    ]
    digest = hashlib.sha256(jsonl.read_bytes()).hexdigest()
    return pairs, DataProvenance(
        source="distilled", location=str(folder.resolve()), sha256=digest, n_examples=len(pairs)
    )
