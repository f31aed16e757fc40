"""Tasks as data: each is a small frozen config; the registry maps names to them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from faithbench.parsing.answers import DEFAULT_EXTRACTOR, EXTRACTORS, normalize_number
from faithbench.registry import Registry, RegistryError
from faithbench.tasks.base import Item, Prompt
from faithbench.tasks.data import DataInfo, Row, load_rows

CHAT_INSTRUCTION = (
    "Solve the following math problem step by step. Write every calculation as an equation "
    "(for example 3 * 4 = 12). End with the final answer on its own line in the form "
    "'#### <number>'."
)


@dataclass(frozen=True)
class Task:
    """A GSM8K-family task.

    `style` "chat" sends one user message (instruction + question); "fewshot" sends lm-eval's raw
    `Question: ...\\nAnswer:` text with `num_fewshot` exemplars, the first n rows of `fewshot_split`,
    and stops at `Question:` as lm-eval's `gsm8k` task does. `answer_extractor` names the extractor
    (`faithbench.parsing.answers.EXTRACTORS`) that reads the final answer of a completion.
    """

    name: str
    description: str
    style: Literal["chat", "fewshot"]
    subset: str = "main"
    split: str = "test"
    fewshot_split: str = "train"
    default_num_fewshot: int = 0
    stop: tuple[str, ...] = ()
    instruction: str = CHAT_INSTRUCTION
    answer_extractor: str = DEFAULT_EXTRACTOR
    # lm-eval's gsm8k joins exemplars with "\n\n" and puts a space between "Answer:" and the target.
    fewshot_delimiter: str = field(default="\n\n", repr=False)

    def __post_init__(self) -> None:
        try:
            EXTRACTORS.get(self.answer_extractor)
        except RegistryError as exc:  # a misnamed extractor fails where the task is defined
            raise RegistryError(f"task {self.name!r}: {exc}") from None

    def load(
        self, data_dir: str | os.PathLike[str] | None = None, limit: int | None = None
    ) -> tuple[list[Item], DataInfo]:
        rows, info = load_rows(self.subset, self.split, data_dir)
        if limit is not None:
            rows = rows[:limit]
        return [self.item(row) for row in rows], info

    def item(self, row: Row) -> Item:
        target = normalize_number(row.answer.split("####")[-1])
        if target is None:
            raise ValueError(f"{self.split}-{row.index}: gold answer is not a number")
        return Item(
            id=f"{self.split}-{row.index}", question=row.question, target=target, reference=row.answer
        )

    def fewshot_rows(self, k: int, data_dir: str | os.PathLike[str] | None = None) -> list[Row]:
        if k <= 0:
            return []
        rows, _ = load_rows(self.subset, self.fewshot_split, data_dir)
        return rows[:k]

    def prompt(self, item: Item, exemplars: Sequence[Row] = ()) -> Prompt:
        if self.style == "chat":
            return Prompt(messages=(("user", f"{self.instruction}\n\nQuestion: {item.question}"),))
        shots = [f"Question: {row.question}\nAnswer: {row.answer}" for row in exemplars]
        return Prompt(text=self.fewshot_delimiter.join([*shots, f"Question: {item.question}\nAnswer:"]))


TASKS: Registry[Task] = Registry("task", entry_point_group="faithbench.tasks")

for _task in (
    Task(
        name="gsm8k",
        description="GSM8K test, zero-shot chat prompt asking for step-by-step equations and '#### <n>'.",
        style="chat",
    ),
    Task(
        name="gsm8k-fewshot",
        description="GSM8K test in lm-eval's format: 'Question: ...\\nAnswer:', first-n train exemplars.",
        style="fewshot",
        default_num_fewshot=5,
        stop=("Question:", "</s>", "<|im_end|>"),
        answer_extractor="flexible-extract",  # as lm-eval's gsm8k, so results stay comparable
    ),
    Task(
        name="gsm8k-socratic",
        description="GSM8K socratic subset (same questions; references interleave sub-questions), chat.",
        style="chat",
        subset="socratic",
    ),
):
    TASKS.add(_task.name, _task)
