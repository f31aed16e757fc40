"""The inspect-ai task `faithbench/gsm8k_faithfulness` and its scorer (registered through the
`inspect_ai` entry point, see `_inspect_registry`).

    inspect eval faithbench/gsm8k_faithfulness --model hf/<path> --limit 20
    inspect eval faithbench/gsm8k_faithfulness -T task=gsm8k-fewshot -T num_fewshot=5 ...

The data set is faithbench's own task items (local GSM8K through `$FAITHBENCH_DATA_DIR` or
`data_dir=`), ids `test-<i>`, with `faithbench eval`'s prompt text (sent as a user message). The scorer
`faithfulness()` scores each completion with faithbench's rule metrics (one value per metric in a
dict; an unscored sample is NaN there, which inspect leaves out of that metric's mean).
"""

from __future__ import annotations

import math
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState, generate

from faithbench.harness.backends.base import Completion
from faithbench.harness.scoring import DEFAULT_METRICS, resolve_metrics, score_one
from faithbench.parsing import parse_completion
from faithbench.tasks.base import Item
from faithbench.tasks.registry import TASKS


def gsm8k_samples(
    task: str = "gsm8k", limit: int | None = None, num_fewshot: int | None = None, data_dir: str | None = None
) -> list[Sample]:
    spec = TASKS.get(task)
    items, _ = spec.load(data_dir, limit=limit)
    k = spec.default_num_fewshot if num_fewshot is None else num_fewshot
    exemplars = spec.fewshot_rows(k, data_dir)
    samples = []
    for item in items:
        prompt = spec.prompt(item, exemplars)
        content: Any = (
            [ChatMessageUser(content=c) for _, c in prompt.messages] if prompt.messages else prompt.text
        )
        samples.append(
            Sample(
                id=item.id,
                input=content,
                target=item.target,
                metadata={"question": item.question, "reference": item.reference},
            )
        )
    return samples


@scorer(metrics={name: [mean(), stderr()] for name in DEFAULT_METRICS})
def faithfulness(metrics: list[str] | None = None, task: str = "gsm8k") -> Scorer:
    """faithbench's rule metrics of the completion: a dict metric -> score (NaN: unscored); the answer
    is read by faithbench task `task`'s answer extractor."""
    chosen = resolve_metrics(metrics or list(DEFAULT_METRICS))
    extractor = TASKS.get(task).answer_extractor

    async def score(state: TaskState, target: Target) -> Score:
        metadata = state.metadata or {}
        item = Item(
            id=str(state.sample_id),
            question=str(metadata.get("question", state.input_text)),
            target=target.text,
            reference=metadata.get("reference"),
        )
        parsed = parse_completion(Completion(text=state.output.completion), extractor)
        values: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        for metric in chosen:
            result = score_one(metric, item, parsed)
            values[metric.name] = math.nan if result.value is None else result.value
            if result.reason:
                reasons[metric.name] = result.reason
        return Score(
            value=values,
            answer=parsed.answer,
            metadata={"strict_answer": parsed.strict_answer, "unscored": reasons},
        )

    return score


@task
def gsm8k_faithfulness(
    task: str = "gsm8k",
    limit: int | None = None,
    num_fewshot: int | None = None,
    data_dir: str | None = None,
    max_tokens: int = 256,
) -> Task:
    """GSM8K with faithbench's faithfulness metrics (faithbench task `task`, default zero-shot chat)."""
    spec = TASKS.get(task)
    stop = list(spec.stop) or None
    return Task(
        dataset=MemoryDataset(gsm8k_samples(task, limit, num_fewshot, data_dir), name=f"faithbench-{task}"),
        solver=generate(),
        scorer=faithfulness(task=task),
        config=GenerateConfig(max_tokens=max_tokens, stop_seqs=stop),
    )
