"""The HF decoding loop's kernels on small tensors, against plain-torch references: the packed and
cascade attention, and the cache layer's row and column moves."""

from __future__ import annotations

import types

import pytest
import torch

from faithbench.harness.backends.hf_kernels import (
    CASCADE_ROWS,
    ReservedLayer,
    packed_gqa_attention,
    shared_prefix,
)


def _reference(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Softmax attention with each key/value head repeated for its query heads, in float64;
    (batch, queries, heads, dim) like transformers' attention functions."""
    groups = query.shape[1] // key.shape[1]
    key, value = (
        key.repeat_interleave(groups, dim=1).double(),
        value.repeat_interleave(groups, dim=1).double(),
    )
    scores = (query.double() @ key.transpose(-1, -2)) * query.shape[-1] ** -0.5
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return (weights @ value).transpose(1, 2).float()


@pytest.mark.parametrize("rows", [2, CASCADE_ROWS + 1])
@pytest.mark.parametrize("queries", [1, 3])
def test_packed_and_cascade_attention_match_plain_softmax(rows: int, queries: int) -> None:
    """9 query heads on 3 key/value heads; every row shares its first 20 columns; row 0 has padding
    between them and its own columns, and its first query is a padding query that sees none of its
    own columns (as in a left-padded prefill). With or without `shared_prefix`, at every row count,
    the result is the softmax over the columns each query may see."""
    torch.manual_seed(0)
    shared, own = 20, 12
    module = types.SimpleNamespace(num_key_value_groups=3)
    query = torch.randn(rows, 9, queries, 16)
    key, value = torch.randn(rows, 3, shared + own, 16), torch.randn(rows, 3, shared + own, 16)
    key[:, :, :shared], value[:, :, :shared] = key[:1, :, :shared], value[:1, :, :shared]
    mask = torch.ones(rows, 1, queries, shared + own, dtype=torch.bool)
    mask[0, :, :, shared : shared + 5] = False  # padding
    if queries > 1:
        mask[0, :, 0, shared:] = False  # a padding query
    expected = _reference(query, key, value, mask)
    for columns in (0, shared):
        with shared_prefix(columns):
            out, _ = packed_gqa_attention(module, query, key, value, mask, scaling=16**-0.5)
        assert out.shape == (rows, queries, 9, 16)
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)


def test_keep_rows_moves_only_rows_that_change_place() -> None:
    layer = ReservedLayer(capacity=8)
    keys = torch.arange(5 * 2 * 3 * 4, dtype=torch.float32).reshape(5, 2, 3, 4)
    layer.update(keys, -keys)
    layer.keep_rows([0, 4, 2])  # row 1 left, row 4 takes its place, row 3 left
    torch.testing.assert_close(layer.keys, keys[[0, 4, 2]])
    torch.testing.assert_close(layer.values, -keys[[0, 4, 2]])
    layer.update(torch.zeros(3, 2, 1, 4), torch.zeros(3, 2, 1, 4))  # the reserved room is still there
    assert layer.keys.shape == (3, 2, 4, 4)


def test_keep_columns_right_aligns_each_rows_own_columns() -> None:
    layer = ReservedLayer(capacity=10)
    keys = torch.arange(2 * 1 * 6 * 1, dtype=torch.float32).reshape(2, 1, 6, 1)
    layer.update(keys, keys + 100)
    # from column 2 on: row 0 keeps columns 3 and 5, row 1 keeps 2, 4 and 5 (padded to 3 in front)
    layer.keep_columns(2, torch.tensor([[2, 3, 5], [2, 4, 5]]))
    assert layer.length == 5
    assert layer.keys[0, 0, :, 0].tolist() == [0, 1, 2, 3, 5]
    assert layer.keys[1, 0, :, 0].tolist() == [6, 7, 8, 10, 11]
    assert layer.values[1, 0, :, 0].tolist() == [106, 107, 108, 110, 111]
