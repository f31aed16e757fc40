"""The HF backend's decoding loop: a shared prompt prefix computed once, finished rows dropped at once.

`transformers.generate` re-reads the whole prompt of every row (a 5-shot GSM8K prompt is ~800
tokens, nearly all of them the same exemplars) and keeps a finished row in the batch, padding it,
until the last row stops. Here:

- the longest token prefix shared by every prompt of the call is run through the model once, and
  its KV cache is copied into each batch;
- a batch is laid out as `[shared prefix][padding][own suffix]`; the attention mask hides the
  padding and positions count only real tokens, so each row computes what it would alone;
- a row leaves the batch (its cache rows are dropped) the step it ends: EOS, a stop string, or its
  token budget. The loop ends when the last row does.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

# Below this many shared tokens, copying the prefix cache saves too little to be worth a pass.
MIN_SHARED_PREFIX = 32


@dataclass(frozen=True)
class Sampling:
    """Greedy when `temperature` is 0; otherwise nucleus sampling from `generator`."""

    temperature: float = 0.0
    top_p: float = 1.0
    generator: torch.Generator | None = None

    def pick(self, logits: torch.Tensor) -> torch.Tensor:
        if self.temperature <= 0:
            return logits.argmax(dim=-1)
        probs = torch.softmax(logits.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sorted_probs, order = probs.sort(dim=-1, descending=True)
            outside = sorted_probs.cumsum(dim=-1) - sorted_probs > self.top_p  # keeps the top token
            sorted_probs = sorted_probs.masked_fill(outside, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        return torch.multinomial(probs, 1, generator=self.generator).squeeze(-1)


def shared_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every sequence shares, leaving each at least one token of its own
    (its last prompt token's logits start the reply); 0 when fewer than `MIN_SHARED_PREFIX`."""
    if len(sequences) < 2:
        return 0
    first = sequences[0]
    limit = min(len(s) for s in sequences) - 1
    n = 0
    while n < limit and all(s[n] == first[n] for s in sequences):
        n += 1
    return n if n >= MIN_SHARED_PREFIX else 0


class Decoder:
    """Decodes batches of token sequences with one model; see the module docstring."""

    def __init__(
        self, model: Any, pad_token_id: int, eos_token_ids: Sequence[int], device: torch.device
    ) -> None:
        self.model = model
        # transformers 5.24 renamed the forward's `past_key_values` to `cache` (the old name warns).
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        parameters = inspect.signature(base.forward).parameters
        self._cache_arg = "cache" if "cache" in parameters else "past_key_values"
        self.pad_token_id = pad_token_id
        self.eos_token_ids = frozenset(eos_token_ids)
        self.device = device

    def prefill_shared(self, prefix: Sequence[int]) -> Any:
        """The KV cache of `prefix` (batch 1), or None for an empty prefix."""
        if not prefix:
            return None
        ids = torch.tensor([list(prefix)], dtype=torch.long, device=self.device)
        return self._forward(None, input_ids=ids)[1]

    def _forward(self, cache: Any, **inputs: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """(last-position logits, the cache after this step)."""
        out = self.model(**inputs, **{self._cache_arg: cache}, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :], getattr(out, self._cache_arg)

    def decode(
        self,
        sequences: Sequence[Sequence[int]],
        shared: int,
        shared_cache: Any,
        max_new_tokens: int,
        sampling: Sampling,
        stopped: Callable[[list[int]], bool],
    ) -> list[list[int]]:
        """New tokens for each sequence, whose first `shared` tokens are those `shared_cache` holds.
        A row ends after an EOS token (kept), when `stopped(tokens)` says so, or at
        `max_new_tokens`."""
        rows = len(sequences)
        suffixes = [list(s[shared:]) for s in sequences]
        width = max(len(s) for s in suffixes)
        ids = [[self.pad_token_id] * (width - len(s)) + s for s in suffixes]
        mask = [[1] * shared + [0] * (width - len(s)) + [1] * len(s) for s in suffixes]
        positions = [[shared + max(0, k - (width - len(s))) for k in range(width)] for s in suffixes]

        cache = None
        if shared_cache is not None:
            cache = copy.deepcopy(shared_cache)
            cache.batch_repeat_interleave(rows)
        attention = torch.tensor(mask, dtype=torch.long, device=self.device)
        logits, cache = self._forward(
            cache,
            input_ids=torch.tensor(ids, dtype=torch.long, device=self.device),
            attention_mask=attention,
            position_ids=torch.tensor(positions, dtype=torch.long, device=self.device),
        )
        next_position = torch.tensor([shared + len(s) for s in suffixes], device=self.device)
        tokens: list[list[int]] = [[] for _ in range(rows)]
        active = list(range(rows))  # which sequence each batch row is
        while True:
            picked = sampling.pick(logits).tolist()
            keep: list[int] = []
            for row, (index, token) in enumerate(zip(active, picked, strict=True)):
                tokens[index].append(token)
                done = (
                    token in self.eos_token_ids
                    or len(tokens[index]) >= max_new_tokens
                    or stopped(tokens[index])
                )
                if not done:
                    keep.append(row)
            if not keep:
                return tokens
            if len(keep) < len(active):
                selected = torch.tensor(keep, dtype=torch.long, device=self.device)
                cache.batch_select_indices(selected)
                attention = attention[selected]
                next_position = next_position[selected]
                picked = [picked[row] for row in keep]
                active = [active[row] for row in keep]
            attention = torch.cat([attention, attention.new_ones((len(active), 1))], dim=1)
            logits, cache = self._forward(
                cache,
                input_ids=torch.tensor(picked, dtype=torch.long, device=self.device)[:, None],
                attention_mask=attention,
                position_ids=next_position[:, None],
            )
            next_position = next_position + 1
