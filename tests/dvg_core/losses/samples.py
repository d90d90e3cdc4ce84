"""What the distance tests share: their kernels, seeded samples and a closed form."""

from __future__ import annotations

import math

import scipy.stats
import torch

from dvg_core.losses.kernels import make_kernel

F64 = torch.float64
KERNELS = {
    "multiquadric": make_kernel("multiquadric", h=10.0),
    "inverse_multiquadric": make_kernel("inverse_multiquadric", h=2.0),
    "rbf": make_kernel("rbf", bandwidths=[0.5, 1.0, 2.0]),
}
MQ100 = make_kernel("multiquadric", h=100.0)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def folded_normal_mean(m: float, v: float) -> float:
    s = math.sqrt(v)
    tail = scipy.stats.norm.cdf(-m / s)
    return s * math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * v)) + m * (1 - 2 * tail)
