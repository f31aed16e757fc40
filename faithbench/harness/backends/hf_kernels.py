"""What the HF backend's decoding loop (`hf_decode`) stands on: a KV cache layer with room reserved
for the tokens to come, whose rows can be rewritten, cut and widened in place, and CPU projections
of a few rows computed the way that is faster on this machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from transformers.cache_utils import DynamicLayer

# Up to this many rows, a CPU projection is computed as W @ x.T (see `skinny_linear`).
SKINNY_ROWS = 4


def skinny_linear(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """`nn.Linear.forward` for decode steps on a CPU where MKL computes `x @ W.T` for 2-4 rows far below
    memory bandwidth: `W @ x.T` streams the weight once (a single row is computed as two). It depends
    on the CPU and the BLAS build, both ways: with torch 2.13 on one AVX-512 machine it made a 16-item
    5-shot run generate in 22.6 s instead of 31.3 s, on another it doubled a 2-row SmolLM2 step
    (37.6 -> 71.8 ms). So `skinny_pays` measures it before it is used. Other shapes (the prefill's
    many rows) take the usual path."""
    flat = x.reshape(-1, x.shape[-1])
    rows = flat.shape[0]
    if rows > SKINNY_ROWS:
        return torch.nn.functional.linear(x, self.weight, self.bias)
    columns = flat.t() if rows > 1 else flat.expand(2, -1).t()
    y = (self.weight @ columns)[:, :rows].t()
    if self.bias is not None:
        y = y + self.bias
    return y.reshape(*x.shape[:-1], y.shape[-1])


def skinny_pays(model: torch.nn.Module, repeats: int = 30) -> bool:
    """Whether `skinny_linear` beats `F.linear` by 10% or more for 2 rows of the model's largest
    projection, here and now (a few milliseconds; weights are read, not copied)."""
    import time

    linears = [m for m in model.modules() if type(m) is torch.nn.Linear]
    if not linears:
        return False
    largest = max(linears, key=lambda m: m.weight.numel() if m.weight.shape[0] < 16384 else 0)
    with torch.inference_mode():
        x = torch.randn(2, largest.weight.shape[1], dtype=largest.weight.dtype)

        def best(work: Callable[[], object]) -> float:
            work()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                work()
                times.append(time.perf_counter() - start)
            return min(times)

        plain = best(lambda: torch.nn.functional.linear(x, largest.weight, largest.bias))
        skinny = best(lambda: skinny_linear(largest, x))
    return skinny < 0.9 * plain


class ReservedLayer(DynamicLayer):
    """A `DynamicLayer` whose keys and values are views into buffers with room for `capacity`
    positions (grown by doubling if ever exceeded)."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.length = 0

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
            batch, heads, _, dim = key_states.shape
            self._keys = key_states.new_empty((batch, heads, self.capacity, dim))
            self._values = value_states.new_empty((batch, heads, self.capacity, dim))
        end = self.length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            capacity = max(end, 2 * self._keys.shape[-2])
            self._keys, self._values = _grown(self._keys, capacity), _grown(self._values, capacity)
        self._keys[:, :, self.length : end] = key_states
        self._values[:, :, self.length : end] = value_states
        self.length = end
        self.keys, self.values = self._keys[:, :, :end], self._values[:, :, :end]
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.length:
            self._keys, self._values = self._keys[indices], self._values[indices]
            self.keys, self.values = self._keys[:, :, : self.length], self._values[:, :, : self.length]

    def batch_repeat_interleave(self, repeats: int) -> None:
        raise NotImplementedError("seed a ReservedLayer with the rows it needs instead")

    def write_rows(self, rows: torch.Tensor, start: int, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Rows `rows` hold zeros from `start` to where `keys` begin, then `keys`/`values`, ending at
        the layer's length (a refilled row; zeros, not stale numbers, sit under the masked columns:
        a masked NaN would still poison the softmax's weighted sum)."""
        end, first = self.length, self.length - keys.shape[-2]
        self._keys[rows, :, start:first] = 0
        self._values[rows, :, start:first] = 0
        self._keys[rows, :, first:end] = keys
        self._values[rows, :, first:end] = values

    def keep_columns(self, start: int, index: torch.Tensor) -> None:
        """Positions [start, length) of each row become the columns `index` names for that row
        (rows, count), in that order: how a row's padding and rejected draft tokens are cut out."""
        count = index.shape[1]
        gather = index[:, None, :, None].expand(-1, self._keys.shape[1], -1, self._keys.shape[3])
        keys = self._keys[:, :, : self.length].gather(2, gather)
        values = self._values[:, :, : self.length].gather(2, gather)
        self._keys[:, :, start : start + count] = keys
        self._values[:, :, start : start + count] = values
        self.length = start + count
        self.keys, self.values = self._keys[:, :, : self.length], self._values[:, :, : self.length]

    def insert_columns(self, start: int, count: int) -> None:
        """Insert `count` zero positions at `start` in every row (room for a longer refill)."""
        end = self.length
        if end + count > self._keys.shape[-2]:
            capacity = max(end + count, 2 * self._keys.shape[-2])
            self._keys, self._values = _grown(self._keys, capacity), _grown(self._values, capacity)
        self._keys[:, :, start + count : end + count] = self._keys[:, :, start:end].clone()
        self._values[:, :, start + count : end + count] = self._values[:, :, start:end].clone()
        self._keys[:, :, start : start + count] = 0
        self._values[:, :, start : start + count] = 0
        self.length = end + count
        self.keys, self.values = self._keys[:, :, : self.length], self._values[:, :, : self.length]


def _grown(buffer: torch.Tensor, capacity: int) -> torch.Tensor:
    grown = buffer.new_empty((*buffer.shape[:2], capacity, buffer.shape[3]))
    grown[:, :, : buffer.shape[2]] = buffer
    return grown


# The name the decoding loop's models are switched to (`use_packed_gqa`).
PACKED_GQA = "faithbench_packed_gqa"


def packed_gqa_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """SDPA attention that never copies the KV cache for grouped-query heads. transformers' `sdpa`
    does so for a single query token (`pack_gqa`), but for several (a prefill, a step with draft
    tokens) under a padding mask it calls `repeat_kv`, which copies every layer's whole cache once per
    head group each call: two thirds of a 14-row 2-token SmolLM2 step on this CPU. Here the queries of
    a group's heads are stacked as extra query rows against their one key/value head, the mask
    repeated to match."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    groups = getattr(module, "num_key_value_groups", 1)
    length = query.shape[2]
    if groups == 1 or length == 1 or attention_mask is None or attention_mask.shape[1] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    batch, heads, _, dim = query.shape
    # head h is key/value head h // groups: (batch, kv heads, groups * queries, dim), group-major
    packed = query.reshape(batch, heads // groups, groups * length, dim)
    mask = attention_mask[:, :, None].expand(-1, -1, groups, -1, -1)
    mask = mask.reshape(attention_mask.shape[0], 1, groups * length, attention_mask.shape[-1])
    out = torch.nn.functional.scaled_dot_product_attention(
        packed, key, value, attn_mask=mask, scale=kwargs.get("scaling")
    )
    return out.reshape(batch, heads, length, dim).transpose(1, 2).contiguous(), None


def use_packed_gqa(model: Any) -> None:
    """Switch `model` (a transformers model on `sdpa`) to `packed_gqa_attention`."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    AttentionInterface.register(PACKED_GQA, packed_gqa_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(PACKED_GQA, sdpa_mask)
    model.set_attn_implementation(PACKED_GQA)
