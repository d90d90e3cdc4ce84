"""The running normaliser: exact pooled moments, and frozen statistics."""

from __future__ import annotations


import torch

from dvg_core.models.normalization import RunningNormalizer


def test_running_normalizer_equals_moments_of_all_rows_seen():
    g = torch.Generator().manual_seed(0)
    chunks = [torch.randn(n, 3, generator=g, dtype=torch.float64) * 2 + 1 for n in (5, 1, 17)]
    norm = RunningNormalizer(3).double()
    torch.testing.assert_close(norm.normalize(chunks[0]), chunks[0])  # identity before updates
    for chunk in chunks:
        norm.update(chunk)
    data = torch.cat(chunks)
    torch.testing.assert_close(norm.mean, data.mean(0))
    torch.testing.assert_close(norm.var, data.var(0, unbiased=False))
    assert int(norm.count) == 23
    torch.testing.assert_close(norm.denormalize(norm.normalize(data)), data)
