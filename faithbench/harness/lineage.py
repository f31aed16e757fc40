"""Where a model came from: the base weights, each training run's adapter, each merge.

Trainers write the lineage of what they make next to it (`run_card.json` beside a trained
`adapter/`, `lineage.json` inside a merged checkpoint), and `faithbench eval` reads it back from the
model spec into `run.json`, so a run says which recipe, data and parent model produced the weights
it scored. Reading never loads a model: only those two small files and the base's fingerprint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from faithbench.errors import FaithbenchError

LINEAGE_FILE = "lineage.json"  # inside a merged checkpoint (`faithbench train merge`)
CARD_FILE = "run_card.json"  # beside a trained adapter: OUT/run_card.json for OUT/adapter
LORA_SEPARATOR = "+lora:"


class LineageStep(BaseModel):
    """One link: `base` weights, an `sft` or `grpo` adapter trained on its predecessor, or a `merge`
    of the predecessor's adapter into full weights."""

    kind: Literal["base", "sft", "grpo", "merge"]
    path: str  # the weights, adapter or merged checkpoint this step made (or the base's spec)
    fingerprint: str | None = None  # faithbench.harness.backends.hf.fingerprint_dir of `path`
    recipe: str | None = None  # the training recipe file, as given
    recipe_sha256: str | None = None  # of the resolved recipe (every default filled in)
    data: str | None = None  # training data source (gsm8k/train, distilled, ...)
    data_sha256: str | None = None


class Lineage(BaseModel):
    steps: list[LineageStep]


def model_lineage(spec: str) -> list[LineageStep] | None:
    """The lineage of a local model spec (`smollm2`, `hf:PATH`, either `+lora:DIR`), base first; None
    for specs with no local weights (APIs, predictions, vllm:)."""
    base, _, adapter = spec.strip().partition(LORA_SEPARATOR)
    if base == "smollm2":
        steps = [LineageStep(kind="base", path="smollm2")]
    elif base.startswith("hf:"):
        steps = checkpoint_lineage(Path(base[3:]).expanduser())
    else:
        return None
    if adapter:
        card = Path(adapter).expanduser().parent / CARD_FILE
        trained = _read_steps(card, "lineage") if card.is_file() else None
        # A trained adapter's card holds its whole lineage; a foreign adapter is one more step.
        steps = trained or [*steps, LineageStep(kind="sft", path=str(Path(adapter).expanduser()))]
    return steps


def checkpoint_lineage(path: Path) -> list[LineageStep]:
    file = path / LINEAGE_FILE
    if file.is_file():
        steps = _read_steps(file, "steps")
        if steps:
            return steps
    return [LineageStep(kind="base", path=f"hf:{path}")]


def _read_steps(file: Path, field: str) -> list[LineageStep] | None:
    try:
        raw = json.loads(file.read_text(encoding="utf-8")).get(field)
        return None if raw is None else [LineageStep.model_validate(s) for s in raw]
    except (OSError, ValueError, AttributeError, ValidationError) as exc:
        raise FaithbenchError(f"{file}: field {field!r}: not a readable lineage ({exc})") from None


def write_lineage(checkpoint: Path, steps: list[LineageStep]) -> None:
    (checkpoint / LINEAGE_FILE).write_text(
        Lineage(steps=steps).model_dump_json(indent=2) + "\n", encoding="utf-8"
    )
