"""Helpers for the lm-eval tasks in this folder (`lm_eval --include_path <this folder>`).

`load_gsm8k` reads GSM8K from local JSONL files ($FAITHBENCH_DATA_DIR, as faithbench does);
`process_results` scores one completion with faithbench's rule metrics; `scored_mean` averages the
scored samples of a metric (a metric that cannot score a sample returns None, which is left out).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load_gsm8k(**kwargs: Any) -> Any:
    """DatasetDict with `train` and `test` from `$FAITHBENCH_DATA_DIR` (or `data_dir` in the task's
    metadata, e.g. `--metadata '{"data_dir": "..."}'`)."""
    import datasets

    folder = kwargs.get("data_dir") or os.environ.get("FAITHBENCH_DATA_DIR")
    if not folder:
        raise ValueError("set FAITHBENCH_DATA_DIR to a folder with GSM8K train.jsonl and test.jsonl")
    root = Path(folder).expanduser()
    files = {split: str(root / f"{split}.jsonl") for split in ("train", "test")}
    return datasets.load_dataset("json", data_files=files)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, float | None]:
    """Every default faithbench metric of the first completion for `doc`."""
    from faithbench.harness.backends.base import Completion
    from faithbench.harness.scoring import DEFAULT_METRICS, resolve_metrics, score_one
    from faithbench.parsing import parse_completion
    from faithbench.parsing.answers import normalize_number
    from faithbench.tasks.base import Item
    from faithbench.tasks.registry import TASKS

    target = normalize_number(doc["answer"].split("####")[-1]) or ""
    item = Item(id="lm-eval", question=doc["question"], target=target, reference=doc["answer"])
    # the lm-eval format of these tasks is faithbench's gsm8k-fewshot: its extractor (flexible-extract)
    parsed = parse_completion(Completion(text=results[0]), TASKS.get("gsm8k-fewshot").answer_extractor)
    return {m.name: score_one(m, item, parsed).value for m in resolve_metrics(DEFAULT_METRICS)}


def scored_mean(values: Sequence[float | None]) -> float:
    """Mean of the scored values; NaN when none is scored."""
    scored = [v for v in values if v is not None]
    return sum(scored) / len(scored) if scored else math.nan
