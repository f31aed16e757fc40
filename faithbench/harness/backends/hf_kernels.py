"""What the HF backend's decoding loop (`hf_decode`) stands on: a KV cache layer with room reserved
for the tokens to come, whose rows can be rewritten, cut and widened in place, and CPU projections
of a few rows computed the way that is faster on this machine."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
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

    def keep_rows(self, order: list[int]) -> None:
        """Keep `len(order)` rows, row i taking row `order[i]`'s positions, where `order[i]` is i or
        a row at or after `len(order)` (so no row is overwritten before it is read). Only moved rows
        are copied, their used positions only: `batch_select_indices` copies the whole buffer,
        reserved room included (0.7 s of a 16-item 5-shot run as rows left)."""
        for row, source in enumerate(order):
            if source != row:
                self._keys[row, :, : self.length] = self._keys[source, :, : self.length]
                self._values[row, :, : self.length] = self._values[source, :, : self.length]
        self._keys, self._values = self._keys[: len(order)], self._values[: len(order)]
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
# From this many rows a SmolLM2 5-shot step on a 2-core CPU is faster with cascade attention (16 rows:
# 126 -> 98 ms); at 2-4 rows it is 1-2 ms slower.
CASCADE_ROWS = 8
# ... and for decode steps only (a row's token and its drafts): a prefill is bound by arithmetic, not
# by reading the cache, and a 16-row 5-shot prefill took 2.09-2.17 s with cascade, 1.99-2.08 without.
CASCADE_QUERIES = 16
# How many leading cache columns every row of the running forward pass holds alike (`shared_prefix`).
_SHARED: contextvars.ContextVar[int] = contextvars.ContextVar("faithbench_shared_prefix", default=0)


@contextlib.contextmanager
def shared_prefix(columns: int) -> Iterator[None]:
    """Within this block, `packed_gqa_attention` may take the first `columns` cache columns of every
    row to be the same keys and values, attended to by every query (the call's shared prompt prefix)."""
    token = _SHARED.set(columns)
    try:
        yield
    finally:
        _SHARED.reset(token)


def packed_gqa_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """SDPA attention that reads the shared prefix once and never copies the KV cache.

    - transformers' `sdpa` packs grouped-query heads for a single query token (`pack_gqa`), but for
      several (a prefill, a step with draft tokens) under a padding mask it calls `repeat_kv`, which
      copies every layer's whole cache once per head group: two thirds of a 14-row 2-token SmolLM2
      step on this CPU. Here a group's heads are stacked as extra query rows against their one
      key/value head, the mask repeated to match.
    - Every row holds a copy of the shared prefix's keys, and reading all of them was 39% of a
      16-row 5-shot step. Within `shared_prefix`, all rows' queries attend to row 0's copy in one
      call, the rows' own columns in another, and the two are merged by their log-sum-exps (cascade
      attention): the same softmax, summed in another order. On a CPU only, where it was measured
      and whose fused kernel returns the log-sum-exp."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    groups = getattr(module, "num_key_value_groups", 1)
    batch, heads, length, dim = query.shape
    shared = _SHARED.get()
    # measured on a CPU only, whose fused kernel also returns the log-sum-exp
    cascade = (
        shared > 0
        and batch >= CASCADE_ROWS
        and length <= CASCADE_QUERIES
        and key.shape[2] > shared
        and query.device.type == "cpu"
    )
    if attention_mask is None or attention_mask.shape[1] != 1 or not (cascade or (groups > 1 and length > 1)):
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    scale = kwargs.get("scaling")
    # head h is key/value head h // groups: (batch, kv heads, groups * queries, dim), group-major
    packed = query.reshape(batch, heads // groups, groups * length, dim)
    mask = attention_mask[:, :, None].expand(-1, -1, groups, -1, -1)
    mask = mask.reshape(attention_mask.shape[0], 1, groups * length, attention_mask.shape[-1])
    if cascade:
        out = _cascade(packed, key, value, mask, shared, scale)
    else:
        out = torch.nn.functional.scaled_dot_product_attention(
            packed, key, value, attn_mask=mask, scale=scale
        )
    return out.reshape(batch, heads, length, dim).transpose(1, 2).contiguous(), None


def _cascade(
    packed: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor, shared: int, scale: Any
) -> torch.Tensor:
    """Packed queries (batch, kv heads, queries, dim) against the first `shared` columns of row 0 in
    one call and each row's own columns under `mask` in another, merged by log-sum-exp."""
    batch, kv_heads, queries, dim = packed.shape
    flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu  # returns the log-sum-exp too
    rows = packed.transpose(0, 1).reshape(1, kv_heads, batch * queries, dim)
    out_shared, lse_shared = flash(rows, key[:1, :, :shared], value[:1, :, :shared], scale=scale)
    out_shared = out_shared.reshape(kv_heads, batch, queries, dim).transpose(0, 1)
    lse_shared = lse_shared.reshape(kv_heads, batch, queries).transpose(0, 1)
    own = mask[..., shared:]
    if own.dtype == torch.bool:
        alive = own.any(dim=-1)
        own = torch.zeros(own.shape, dtype=packed.dtype, device=packed.device).masked_fill_(
            ~own, float("-inf")
        )
    else:
        alive = (own > float("-inf")).any(dim=-1)
    out_own, lse_own = flash(packed, key[:, :, shared:], value[:, :, shared:], attn_mask=own, scale=scale)
    lse_own = lse_own.masked_fill(~alive, float("-inf"))  # a padding query sees none of its own
    top = torch.maximum(lse_shared, lse_own)
    w_shared, w_own = (lse_shared - top).exp_()[..., None], (lse_own - top).exp_()[..., None]
    return (out_shared * w_shared + out_own * w_own) / (w_shared + w_own)


def use_packed_gqa(model: Any) -> None:
    """Switch `model` (a transformers model on `sdpa`) to `packed_gqa_attention`."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    AttentionInterface.register(PACKED_GQA, packed_gqa_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(PACKED_GQA, sdpa_mask)
    model.set_attn_implementation(PACKED_GQA)
