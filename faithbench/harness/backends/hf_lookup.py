"""What the HF decoding loop reads from a row's tokens: prompt-lookup drafts, guesses of its next
tokens taken from where its last few tokens appeared before in its prompt or reply, and the
incremental stop-string check (`StopCheck`).

Small models copy a lot: numbers from the question, the exemplars' phrasing, and, when they loop, their
own last sentence (SmolLM2 sometimes writes `000...` until the token budget ends). The loop feeds a
row's draft after its next token in one forward pass and keeps the draft's tokens up to the first the
model would not have picked greedily, so a step can yield several tokens at the cost of one weight
read; the tokens are those greedy decoding picks one at a time (the same idea as `transformers`'
`prompt_lookup_num_tokens` and vLLM's n-gram speculator, whose drafts are checked the same way).

A row's sequence is the call's shared prefix (indexed once, `Ngrams`) followed by its own tokens (its
prompt's suffix and its reply, `RowLookup`); n-grams are found by dictionary lookups, not scans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain

import torch

# Longest and shortest n-gram matched against a row's last tokens; longer matches are tried first.
MAX_NGRAM = 3
MIN_NGRAM = 2


class Ngrams:
    """Where each n-gram (MIN_NGRAM..MAX_NGRAM tokens) of a token sequence ends, in order."""

    def __init__(self, tokens: Sequence[int] = (), offset: int = 0) -> None:
        self.tokens: list[int] = []
        self.offset = offset  # position of tokens[0] in the row's whole sequence
        self.ends: dict[tuple[int, ...], list[int]] = {}
        self.extend(tokens, before=())

    def extend(self, tokens: Sequence[int], before: Sequence[int]) -> None:
        """Append `tokens`; `before` are the tokens of the whole sequence just before this index's
        first one (the shared prefix's tail), so n-grams spanning the seam are found too."""
        for token in tokens:
            self.tokens.append(token)
            end = self.offset + len(self.tokens)
            for n in range(MIN_NGRAM, MAX_NGRAM + 1):
                if len(self.tokens) >= n:
                    gram = tuple(self.tokens[-n:])
                elif len(self.tokens) + len(before) >= n:
                    gram = (*before[len(before) - (n - len(self.tokens)) :], *self.tokens)
                else:
                    continue
                self.ends.setdefault(gram, []).append(end)


class RowLookup:
    """One row's sequence: `shared` (the call's indexed prefix, not copied) then its own tokens."""

    def __init__(self, shared: Ngrams, own: Sequence[int]) -> None:
        self.shared = shared
        self.own = Ngrams(offset=len(shared.tokens))
        self.extend(own)

    def extend(self, tokens: Sequence[int]) -> None:
        self.own.extend(tokens, before=self.shared.tokens[-MAX_NGRAM:])

    def __len__(self) -> int:
        return len(self.shared.tokens) + len(self.own.tokens)

    def _slice(self, start: int, count: int) -> list[int]:
        split = len(self.shared.tokens)
        if start >= split:
            return self.own.tokens[start - split : start - split + count]
        head = self.shared.tokens[start : start + count]
        return head + self.own.tokens[: count - len(head)]

    def draft(self, count: int) -> list[int]:
        """Up to `count` tokens that followed the latest earlier occurrence of the row's last
        MAX_NGRAM (else fewer) tokens, preferring the latest occurrence with `count` tokens after it
        (in a loop the very latest is followed by only a token or two); [] when nothing matches."""
        if count <= 0:
            return []
        length = len(self)
        for n in range(MAX_NGRAM, MIN_NGRAM - 1, -1):
            if length <= n:
                continue
            gram = tuple(self._slice(length - n, n))
            best = -1
            # latest first: the row's own tokens, then the shared prefix (no list is copied)
            for end in chain(reversed(self.own.ends.get(gram, ())), reversed(self.shared.ends.get(gram, ()))):
                if end >= length:
                    continue  # the row's own last tokens
                if length - end >= count:
                    best = end
                    break
                if best < 0:
                    best = end
            if best >= 0:
                return self._slice(best, min(count, length - best))
        return []


class StopCheck:
    """Whether a row's new tokens contain a stop string, checked incrementally. A stop string first
    appears in the text at the step whose token holds its last character (or completes a character
    split across tokens), so `may_end`, one flag per vocabulary id kept on the device, says which
    tokens can complete one; only rows that just picked such a token decode their last tokens."""

    def __init__(
        self, stops: Sequence[str], decode: Callable[[list[int]], str], vocab_size: int, device: torch.device
    ) -> None:
        self.stops = [stop for stop in stops if stop]
        self.decode = decode
        # every token but a special one has a character, so the stop string lies within these
        self.window = max((len(stop) for stop in self.stops), default=0) + 8
        self.may_end: torch.Tensor | None = None
        if self.stops:
            last = {stop[-1] for stop in self.stops}
            flags = [
                "\ufffd" in text or any(char in text for char in last)
                for text in (decode([token]) for token in range(vocab_size))
            ]
            self.may_end = torch.tensor(flags, dtype=torch.bool, device=device)

    def __call__(self, tokens: list[int]) -> bool:
        tail = self.decode(tokens[-self.window :])
        return any(stop in tail for stop in self.stops)
