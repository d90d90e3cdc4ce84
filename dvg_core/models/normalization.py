"""Running per-feature normalisation of observations (and of any other feature vectors)."""

from __future__ import annotations

import torch
from torch import nn

from dvg_core.util.validation import check_int_at_least, check_positive, check_shape

__all__ = ["RunningNormalizer"]


class RunningNormalizer(nn.Module):
    """Per-feature mean and variance of every batch merged so far, kept as buffers.

    Source: the exact pooled-moments merge (Chan et al. 1979). Before any update it is the
    identity (mean 0, variance 1). The std is floored at `min_std` so constant features (e.g. a
    reward that is always 0 so far) do not blow up.

    Shapes: `update(x [N, D])`; `normalize`/`denormalize` act on `[*, D]`.
    """

    def __init__(self, dim: int, *, min_std: float = 1e-6) -> None:
        super().__init__()
        check_int_at_least("dim", dim, 1)
        self.min_std = check_positive("min_std", min_std)
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Merge the rows of `x [N, D]` (N >= 1) into the statistics."""
        check_shape("x", x, [None, self.mean.shape[0]])
        if x.shape[0] < 1:
            raise ValueError("x must hold at least one row")
        x = x.to(self.mean.dtype)
        w = (x.shape[0] / (self.count + x.shape[0])).to(self.mean.dtype)  # weight of the batch
        delta = x.mean(0) - self.mean
        self.var.copy_((1 - w) * self.var + w * x.var(0, unbiased=False) + w * (1 - w) * delta**2)
        self.mean.add_(w * delta)
        self.count.add_(x.shape[0])

    @torch.no_grad()
    def update_one(self, x: torch.Tensor, include: torch.Tensor) -> None:
        """Merge one row `x [D]` if `include` (a 0-d 0/1 tensor) is 1; a no-op if 0. `update` of
        one row without a data-dependent branch, so it runs per seed under `torch.func.vmap`."""
        check_shape("x", x, [self.mean.shape[0]])
        include = include.to(self.mean.dtype)
        x = x.to(self.mean.dtype)
        w = include / (self.count + include).clamp_min(1).to(self.mean.dtype)
        delta = x - self.mean
        self.var.copy_((1 - w) * self.var + w * (1 - w) * delta**2)
        self.mean.add_(w * delta)
        self.count.add_(include.to(self.count.dtype))

    @property
    def std(self) -> torch.Tensor:
        """Standard deviation `[D]`, floored at `min_std`."""
        return self.var.sqrt().clamp_min(self.min_std)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """`(x - mean) / std`, `[*, D]`."""
        return (x - self.mean) / self.std

    def denormalize(self, y: torch.Tensor) -> torch.Tensor:
        """`y * std + mean`, `[*, D]`."""
        return y * self.std + self.mean
