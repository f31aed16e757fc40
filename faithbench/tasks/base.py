"""What a task hands to the harness: items to ask about and prompts to send (defined in `core`)."""

from faithbench.core import Item, Prompt

__all__ = ["Item", "Prompt"]
