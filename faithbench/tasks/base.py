"""What a task hands to the harness: items to ask about and prompts to send."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Item(BaseModel):
    """One question of a task, with its gold answer.

    `id` is `<split>-<0-based row index>` and is stable across runs, so runs pair up by id.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    target: str  # the gold final answer, normalised (see tasks.extract.normalize_number)
    reference: str | None = None  # the gold rationale, when the data set has one


class Prompt(BaseModel):
    """A chat prompt (`messages`) or a raw completion prompt (`text`), exactly one of them.

    `prefill` is the start of the model's reply, written for it: the model continues from there
    and the completion holds only the continuation. Intervention tests use it to hand a model a
    truncated or corrupted chain of thought; judges use it to start a JSON verdict.
    """

    model_config = ConfigDict(frozen=True)

    messages: tuple[tuple[str, str], ...] | None = None  # (role, content) pairs
    text: str | None = None
    prefill: str | None = None

    def model_post_init(self, __context: object) -> None:
        if (self.messages is None) == (self.text is None):
            raise ValueError("a Prompt has exactly one of `messages` and `text`")

    @property
    def display(self) -> str:
        """The prompt as one string, for run files and reports."""
        if self.text is not None:
            return self.text + (self.prefill or "")
        assert self.messages is not None
        shown = "\n\n".join(f"[{role}]\n{content}" for role, content in self.messages)
        return shown if self.prefill is None else f"{shown}\n\n[assistant, prefilled]\n{self.prefill}"
