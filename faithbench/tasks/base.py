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
    """A chat prompt (`messages`) or a raw completion prompt (`text`), exactly one of them."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[tuple[str, str], ...] | None = None  # (role, content) pairs
    text: str | None = None

    def model_post_init(self, __context: object) -> None:
        if (self.messages is None) == (self.text is None):
            raise ValueError("a Prompt has exactly one of `messages` and `text`")

    @property
    def display(self) -> str:
        """The prompt as one string, for run files and reports."""
        if self.text is not None:
            return self.text
        assert self.messages is not None
        return "\n\n".join(f"[{role}]\n{content}" for role, content in self.messages)
