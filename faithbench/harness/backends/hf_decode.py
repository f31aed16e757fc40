"""The HF backend's decoding loop: a shared prompt prefix computed once, continuous batching.

`transformers.generate` re-reads the whole prompt of every row (a 5-shot GSM8K prompt is ~800
tokens, nearly all of them the same exemplars) and keeps a finished row in the batch, padding it,
until the last row stops. Here:

- the longest token prefix shared by every prompt of the call is run through the model once, and
  its KV cache is copied into each row;
- the batch has a fixed number of rows, and the call's prompts stream through them: the step a row
  ends (EOS, a stop string, or its token budget) its tokens are handed back and the row is refilled
  with the next prompt, whose suffix alone is prefilled (the shared prefix's keys are already in the
  row). Only when no prompt is left do rows leave the batch;
- a row is laid out as `[shared prefix][padding][own tokens]`; the attention mask hides the padding
  and positions count only real tokens, so each row computes what it would alone. A refilled row's
  tokens end where the others' do; columns no row needs are cut once they are a quarter of the cache;
- greedy rows feed prompt-lookup drafts (`hf_lookup`) after their token and keep the draft tokens the
  model agrees with: several tokens for one read of the weights, the same tokens as one at a time;
- the layers below are in `hf_kernels`: a KV cache with room reserved (a step writes one position
  a layer; `DynamicLayer`'s `torch.cat` took a fifth of a CPU step), attention that never copies
  the cache per head group and reads the shared prefix once for many rows, and skinny projections
  where the CPU's BLAS is slow for a few rows;
- a step makes one device->host copy: the picked tokens with a per-token flag saying whether the
  token could complete a stop string (`StopCheck`); only flagged rows decode their tail.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import Cache

from faithbench.harness.backends.hf_kernels import (
    ReservedLayer,
    shared_prefix,
    skinny_linear,
    skinny_pays,
    use_packed_gqa,
)
from faithbench.harness.backends.hf_lookup import Ngrams, RowLookup, StopCheck

__all__ = [
    "Decoder",
    "ReservedLayer",
    "Sampling",
    "StopCheck",
    "shared_prefix_length",
    "skinny_linear",
    "skinny_pays",
]

# Below this many shared tokens, copying the prefix cache saves too little to be worth a pass.
MIN_SHARED_PREFIX = 32
# Prompt-lookup drafts: at most LOOKAHEAD tokens a row, FIRST_REACH at first (+2 after a draft taken
# whole, -1 after one cut short), and at most STEP_TOKENS_* fed in a step: past 32 a 2-core CPU step
# costs more than drafts save (docs/speed.md); the GPU figure is a guess, not yet measured.
LOOKAHEAD, FIRST_REACH, STEP_TOKENS_CPU, STEP_TOKENS_GPU = 10, 3, 32, 1024


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


@dataclass
class _Rows:
    """The batch being decoded: per row, the sequence it holds, the token it feeds next and how many
    columns after the shared prefix are its own (suffix plus fed tokens: the next token's position
    is `shared + span`, since padding takes no position)."""

    layers: list[ReservedLayer]
    attention: torch.Tensor  # (rows, cache length + 1 once a token is fed)
    active: list[int]
    feed: list[int]
    span: list[int]


class Decoder:
    """Decodes token sequences with one model; see the module docstring."""

    def __init__(
        self,
        model: Any,
        pad_token_id: int,
        eos_token_ids: Sequence[int],
        device: torch.device,
        lookahead: int = LOOKAHEAD,
        step_tokens: int | None = None,
    ) -> None:
        self.model = model
        self.lookahead = lookahead  # draft tokens a greedy row may check a step; 0: no drafts
        self.step_tokens = step_tokens or (STEP_TOKENS_CPU if device.type == "cpu" else STEP_TOKENS_GPU)
        self.skinny = device.type == "cpu" and skinny_pays(model)
        if self.skinny:
            for module in model.modules():
                if type(module) is torch.nn.Linear:
                    module.forward = types.MethodType(skinny_linear, module)  # type: ignore[method-assign]
        # transformers 5.24 renamed the forward's `past_key_values` to `cache` (the old name warns).
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        use_packed_gqa(base)
        parameters = inspect.signature(base.forward).parameters
        self._cache_arg = "cache" if "cache" in parameters else "past_key_values"
        self.n_layers: int = base.config.get_text_config().num_hidden_layers
        self.pad_token_id = pad_token_id
        self.eos_token_ids = frozenset(eos_token_ids)
        self.device = device

    def prefill_shared(self, prefix: Sequence[int]) -> Any:
        """The KV cache of `prefix` (batch 1), or None for an empty prefix."""
        if not prefix:
            return None
        ids = torch.tensor([list(prefix)], dtype=torch.long, device=self.device)
        return self._forward(None, input_ids=ids)[1]

    def _forward(
        self, cache: Any, keep: int = 1, shared: int = 0, **inputs: torch.Tensor
    ) -> tuple[torch.Tensor, Any]:
        """(the last `keep` positions' logits, (rows, keep, vocab); the cache after this step). The
        first `shared` columns of every row of `cache` hold the shared prefix (`shared_prefix`)."""
        with shared_prefix(shared):
            out = self.model(**inputs, **{self._cache_arg: cache}, use_cache=True, logits_to_keep=keep)
        return out.logits[:, -keep:, :], getattr(out, self._cache_arg)

    def stream(
        self,
        sequences: Sequence[Sequence[int]],
        shared: int,
        shared_cache: Any,
        max_new_tokens: int,
        sampling: Sampling,
        stop: StopCheck | None = None,
        rows: int | None = None,
    ) -> Iterator[tuple[int, list[int]]]:
        """(index, new tokens) of each sequence the step it ends, through at most `rows` rows (all at
        once when None), taking the sequences in order. The first `shared` tokens of every sequence
        are those `shared_cache` holds. A row ends after an EOS token (kept), when `stop` finds a
        stop string, or at `max_new_tokens`. Longest sequences first refill without widening."""
        if not sequences:
            return
        suffixes = [list(s[shared:]) for s in sequences]
        batch = min(rows or len(sequences), len(sequences))
        state, logits = self._fill(suffixes[:batch], shared, shared_cache, max_new_tokens)
        prefix = Ngrams(sequences[0][:shared]) if self.lookahead and sampling.temperature <= 0 else None
        queue = iter(range(batch, len(sequences)))
        take = list(enumerate(range(batch)))  # (row, sequence) pairs just started
        tokens: dict[int, list[int]] = {}
        lookups: dict[int, RowLookup] = {}
        reach: dict[int, int] = {}  # per sequence, how many draft tokens to try next (`_drafts`)
        drafts: list[list[int]] = []  # per row, the draft fed after its token; [] after a prefill
        drafted: list[int] = []  # per row, how many of its draft's tokens are its own (not padding)
        idle: list[int] = []  # rows whose sequence ended with none left to take its place
        while True:
            waiting: list[int] = []  # rows whose sequence ended this step
            for row, index in take:  # rows just (re)filled: `logits` are their prefill's, one a row
                tokens[index] = []
                state.active[row] = index
                if prefix is not None:
                    lookups[index] = RowLookup(prefix, suffixes[index])
                    reach[index] = FIRST_REACH
            picked, flags = self._pick(logits, sampling, stop)
            kept: list[int] = []  # per row, how many of its draft tokens the model agreed with
            for (row, index), row_picked, row_flags in zip(
                take or enumerate(state.active), picked, flags, strict=True
            ):
                agreed = _agreeing(drafts[row], row_picked) if drafts else 0
                kept.append(agreed)
                if drafts and drafted[row]:  # reach further after a draft taken whole, less after one cut
                    reach[index] = reach[index] + 2 if agreed >= drafted[row] else max(1, reach[index] - 1)
                for token, flag in zip(row_picked[: agreed + 1], row_flags, strict=False):
                    tokens[index].append(token)
                    if self._ended(tokens[index], token, flag, max_new_tokens, stop):
                        yield index, tokens.pop(index)
                        lookups.pop(index, None)
                        waiting.append(row)
                        break
                else:
                    state.feed[row] = token
                    if index in lookups:
                        lookups[index].extend(row_picked[: agreed + 1])
            if drafts:  # a decode step: each row keeps its token and the draft tokens agreed with
                self._keep(state, kept, 1 + len(drafts[0]))
            take = list(zip(waiting, queue, strict=False))
            idle += waiting[len(take) :]
            if take:  # ended rows take the next sequences; their first tokens come next round
                logits = self._refill(state, take, suffixes, shared, shared_cache)
                drafts = []
                continue
            if idle:  # nothing left to start: rows without a sequence leave the batch
                gone = set(idle)
                keep = {row for row in range(len(state.active)) if row not in gone}
                if not keep:
                    return
                self._select(state, keep)
                idle = []
            self._compact(state, shared)
            drafts, drafted = self._drafts(state, lookups, reach, tokens, max_new_tokens)
            width = 1 + len(drafts[0])
            state.attention = torch.cat(
                [state.attention, state.attention.new_ones((len(state.active), width))], dim=1
            )
            fed = [[token, *draft] for token, draft in zip(state.feed, drafts, strict=True)]
            logits, _ = self._forward(
                Cache(layers=list(state.layers)),
                keep=width,
                shared=shared,
                input_ids=torch.tensor(fed, dtype=torch.long, device=self.device),
                attention_mask=state.attention,
                position_ids=torch.tensor(
                    [[shared + span + k for k in range(width)] for span in state.span], device=self.device
                ),
            )

    def _drafts(
        self,
        state: _Rows,
        lookups: dict[int, RowLookup],
        reach: dict[int, int],
        tokens: dict[int, list[int]],
        max_new_tokens: int,
    ) -> tuple[list[list[int]], list[int]]:
        """Each row's draft, padded to the longest, and its own length: within the row's reach (as
        in transformers' assisted decoding), `lookahead` and its token budget, and short enough that
        a step feeds at most `step_tokens` tokens (past that a CPU step costs more than drafts save)."""
        rows = len(state.active)
        room = min(self.lookahead, self.step_tokens // rows - 1)
        if not lookups or room <= 0:
            return [[] for _ in range(rows)], [0] * rows
        drafts = [
            lookups[index].draft(min(room, reach[index], max_new_tokens - len(tokens[index]) - 1))
            for index in state.active
        ]
        lengths = [len(draft) for draft in drafts]
        # a short draft is padded; a padding token the model happens to pick is as good as a draft's
        return [draft + [self.pad_token_id] * (max(lengths) - len(draft)) for draft in drafts], lengths

    def _keep(self, state: _Rows, kept: list[int], width: int) -> None:
        """After a decode step that fed `width` tokens a row: each row's token and its first
        `kept[row]` draft tokens are its own from now on; the rest are hidden, and cut out by
        `_compact` with the padding."""
        if width > 1:
            agreed = torch.tensor(kept, device=self.device)[:, None]
            columns = torch.arange(width, device=self.device)[None, :]
            state.attention[:, -width:] = (columns <= agreed).to(state.attention.dtype)
        state.span = [span + 1 + k for span, k in zip(state.span, kept, strict=True)]

    def _ended(
        self, tokens: list[int], token: int, flag: int, max_new_tokens: int, stop: StopCheck | None
    ) -> bool:
        return (
            token in self.eos_token_ids
            or len(tokens) >= max_new_tokens
            or (bool(flag) and stop is not None and stop(tokens))
        )

    @staticmethod
    def _pick(
        logits: torch.Tensor, sampling: Sampling, stop: StopCheck | None
    ) -> tuple[list[list[int]], list[list[int]]]:
        """Per row, the token picked at each fed position and its may-end-a-stop flag, in one
        device->host copy."""
        rows, width, vocab = logits.shape
        picked = sampling.pick(logits.reshape(rows * width, vocab)).reshape(rows, width)
        if stop is None or stop.may_end is None:
            return picked.tolist(), [[0] * width] * rows
        both = torch.stack([picked, stop.may_end[picked].to(picked.dtype)]).tolist()
        return both[0], both[1]

    def _refill(
        self,
        state: _Rows,
        take: list[tuple[int, int]],
        suffixes: list[list[int]],
        shared: int,
        shared_cache: Any,
    ) -> torch.Tensor:
        """Prefill the suffixes of `take`'s sequences together, from the shared prefix, and write their
        keys and values into their rows so that they end where every row's do. The logits of each."""
        rows = [row for row, _ in take]
        news = [suffixes[index] for _, index in take]
        width = max(len(s) for s in news)
        length = state.layers[0].length
        if width > length - shared:  # longer than the room in front of the others: widen every row
            gap = width - (length - shared)
            for layer in state.layers:
                layer.insert_columns(shared, gap)
            zeros = state.attention.new_zeros((state.attention.shape[0], gap))
            state.attention = torch.cat(
                [state.attention[:, :shared], zeros, state.attention[:, shared:]], dim=1
            )
            length += gap
        fresh = self._seeded(shared + width, shared_cache, len(take))
        logits = self._prefill(fresh, news, shared)
        index = torch.tensor(rows, dtype=torch.long, device=self.device)
        for layer, new in zip(state.layers, fresh, strict=True):
            assert new.keys is not None and new.values is not None
            layer.write_rows(index, shared, new.keys[:, :, shared:], new.values[:, :, shared:])
        row_mask = [[1] * shared + [0] * (length - shared - len(s)) + [1] * len(s) for s in news]
        state.attention[index] = torch.tensor(row_mask, dtype=torch.long, device=self.device)
        for row, suffix in zip(rows, news, strict=True):
            state.span[row] = len(suffix)
        return logits

    def _fill(
        self, suffixes: list[list[int]], shared: int, shared_cache: Any, max_new_tokens: int
    ) -> tuple[_Rows, torch.Tensor]:
        """The first prefill: every row, laid out `[shared prefix][padding][own suffix]`, with room
        reserved for the tokens to come. The batch, and the logits of each row."""
        width = max(len(s) for s in suffixes)
        state = _Rows(
            # room for the reply, and for the rejected drafts `_compact` waits to cut
            layers=self._seeded(
                shared + width + max_new_tokens + 8 * (self.lookahead + 1), shared_cache, len(suffixes)
            ),
            attention=self._mask(suffixes, shared),
            active=list(range(len(suffixes))),
            feed=[0] * len(suffixes),
            span=[len(s) for s in suffixes],
        )
        return state, self._prefill(state.layers, suffixes, shared)

    def _seeded(self, capacity: int, shared_cache: Any, count: int) -> list[ReservedLayer]:
        """Cache layers for `count` rows, each starting with the shared prefix's keys and values."""
        layers = [ReservedLayer(capacity) for _ in range(self.n_layers)]
        if shared_cache is not None:
            for layer, prefix in zip(layers, shared_cache.layers, strict=True):
                layer.update(prefix.keys.expand(count, -1, -1, -1), prefix.values.expand(count, -1, -1, -1))
        return layers

    def _mask(self, suffixes: list[list[int]], shared: int) -> torch.Tensor:
        """`[shared prefix][padding][own suffix]`: 1 where a row attends."""
        width = max(len(s) for s in suffixes)
        rows = [[1] * shared + [0] * (width - len(s)) + [1] * len(s) for s in suffixes]
        return torch.tensor(rows, dtype=torch.long, device=self.device)

    def _prefill(self, layers: list[ReservedLayer], suffixes: list[list[int]], shared: int) -> torch.Tensor:
        """Run the left-padded suffixes after the shared prefix `layers` hold; positions count real
        tokens only. The last position's logits of each row."""
        width = max(len(s) for s in suffixes)
        ids = [[self.pad_token_id] * (width - len(s)) + s for s in suffixes]
        positions = [[shared + max(0, k - (width - len(s))) for k in range(width)] for s in suffixes]
        logits, _ = self._forward(
            Cache(layers=list(layers)),
            shared=shared,
            input_ids=torch.tensor(ids, dtype=torch.long, device=self.device),
            attention_mask=self._mask(suffixes, shared),
            position_ids=torch.tensor(positions, dtype=torch.long, device=self.device),
        )
        return logits

    def _select(self, state: _Rows, keep: set[int]) -> None:
        """Only rows `keep` stay in the batch. Rows kept beyond the new row count move into the
        places of rows that left (`ReservedLayer.keep_rows`); the others stay where they are."""
        count = len(keep)
        movers = iter(sorted(row for row in keep if row >= count))
        order = [row if row in keep else next(movers) for row in range(count)]
        for layer in state.layers:
            layer.keep_rows(order)
        state.attention = state.attention[torch.tensor(order, dtype=torch.long, device=self.device)]
        state.active = [state.active[row] for row in order]
        state.feed = [state.feed[row] for row in order]
        state.span = [state.span[row] for row in order]

    def _compact(self, state: _Rows, shared: int) -> None:
        """Cut the columns after the shared prefix that a row does not attend to (the padding in
        front of refilled rows, rejected draft tokens) once they are a quarter of the cache: each row
        keeps its own columns in order, right-aligned. Without this the cache (and every step's
        attention) would grow with the whole run's history."""
        length = state.layers[0].length
        width = max(state.span)
        gap = length - shared - width
        if gap >= 32 and 4 * gap >= length:
            own = state.attention[:, shared:]
            # a stable sort puts each row's hidden columns first, its own after them, in order
            index = torch.sort(own, dim=1, stable=True).indices[:, own.shape[1] - width :]
            for layer in state.layers:
                layer.keep_columns(shared, index + shared)
            state.attention = torch.cat([state.attention[:, :shared], own.gather(1, index)], dim=1)


def _agreeing(draft: list[int], picked: list[int]) -> int:
    """How many leading draft tokens are those the model picked after the tokens before them."""
    agreed = 0
    while agreed < len(draft) and draft[agreed] == picked[agreed]:
        agreed += 1
    return agreed
