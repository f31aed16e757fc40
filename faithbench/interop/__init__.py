"""Interoperability with lm-evaluation-harness and inspect-ai.

* `faithbench import lm-eval|inspect`: their per-sample logs become faithbench runs
  (`lm_eval_import`, `inspect_import`, both through `runs.write_imported_run`).
* `lm_eval_task/`: lm-eval task YAMLs (`--include_path`) for local GSM8K and faithbench's metrics.
* `inspect_task`: the inspect-ai task `faithbench/gsm8k_faithfulness` and its scorer.
"""

from __future__ import annotations

from pathlib import Path


def lm_eval_task_dir() -> Path:
    """The folder to pass to lm-eval's `--include_path`."""
    return Path(__file__).resolve().parent / "lm_eval_task"
