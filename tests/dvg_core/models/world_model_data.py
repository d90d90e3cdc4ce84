"""Shared by the world-model tests: the toy's dynamics at N = 3 with noise 0.05, random toy
transitions and the learned models at test sizes."""

from __future__ import annotations

import torch

from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.world_models import CVAEWorldModel, FlowWorldModel, GaussianEnsembleWorldModel

SPEC = PointMassSpec(n_locations=3, dynamics_noise=0.05)
DYN = PointMassDynamics(SPEC)
REGION = 1.5  # states uniform in [-1.5, 1.5]²: the circle of goals (R = 1) plus a margin
SMALL = dict(hidden=(32, 32))  # for the tests that do not need a good fit
LEARNED = ["cvae", "cvae_mix", "ensemble", "flow", "flow_coupling"]


def toy_batch(n: int, g: torch.Generator, dtype: torch.dtype = torch.float32):
    """`n` toy transitions `(s, a, r, s')` from `PointMassDynamics`, random states and actions."""
    state = ((torch.rand(n, 2, generator=g) * 2 - 1) * REGION).to(dtype)
    action = (torch.rand(n, 2, generator=g) * 2 - 1).to(dtype)
    noise = DYN.sample_noise((n,), generator=g, dtype=dtype)
    next_state, reward = DYN.step(state, action, noise)
    return state, action, reward, next_state


def learned_model(kind: str, **kwargs):
    """`cvae` (Gaussian prior), `cvae_mix` (4-component mixture prior), `ensemble`, `flow`
    (two-pass layout) or `flow_coupling`."""
    if kind == "ensemble":
        return GaussianEnsembleWorldModel(2, 2, **{**SMALL, **kwargs})
    if kind in ("flow", "flow_coupling"):
        layout = "coupling" if kind == "flow_coupling" else "two_pass"
        return FlowWorldModel(2, 2, **{**SMALL, "layout": layout, **kwargs})
    mix = dict(prior_components=4) if kind == "cvae_mix" else {}
    return CVAEWorldModel(2, 2, **{**SMALL, **mix, **kwargs})


def fitted_model(kind: str, *, steps: int = 5, dtype=torch.float32, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    model = learned_model(kind, **kwargs).to(dtype)
    g = torch.Generator().manual_seed(seed + 100)
    for _ in range(steps):
        model.fit(*toy_batch(64, g, dtype))
    return model
