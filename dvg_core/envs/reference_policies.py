"""Hand-written reference policies of the point-mass toy and their returns.

They put a learned policy's return on a scale (the report draws them as lines):

* `random`: actions uniform in `[-1, 1]²`, what an untrained, exploring agent earns;
* `stay_at_centre`: move to the origin and stay there, the policy that favours no location;
* `go_to_location`: move to location 0 and stay there, the optimal kind of policy while a location
  beats the centre (`width < radius / sqrt(2 ln N)`).

The go-to and stay policies are proportional controllers that land exactly on their target when
it is within one step (`a = clip((target - s) / dt, -1, 1)`) and correct dynamics noise as they go.
Returns are undiscounted episode sums over the spec's horizon, the quantity the training loop's
evaluation reports, estimated by batched rollouts of `point_mass_step`.
"""

from __future__ import annotations

import torch

from dvg_core.envs.point_mass import ACTION_DIM, PointMassDynamics, PointMassSpec
from dvg_core.util.validation import check_choice, check_int_at_least

__all__ = ["REFERENCE_POLICIES", "reference_action", "reference_returns"]

REFERENCE_POLICIES = ("random", "stay_at_centre", "go_to_location")
"""Names of the reference policies, worst to best on a calibrated toy."""


def reference_action(
    policy: str, spec: PointMassSpec, state: torch.Tensor, *, generator: torch.Generator
) -> torch.Tensor:
    """The action `[*, 2]` of reference `policy` at positions `state [*, 2]`."""
    check_choice("policy", policy, REFERENCE_POLICIES)
    if policy == "random":
        uniform = torch.rand(state.shape, generator=generator, dtype=state.dtype)
        return 2 * uniform - 1
    target = torch.zeros(ACTION_DIM, dtype=state.dtype)
    if policy == "go_to_location":
        target = spec.locations(dtype=state.dtype)[0]
    return ((target - state) / spec.dt).clamp(-1.0, 1.0)


@torch.no_grad()
def reference_returns(
    spec: PointMassSpec, *, episodes: int = 1024, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Mean and standard error of each reference policy's undiscounted episode return.

    Args:
      spec: the toy's parameters (horizon, noise, init range, ...).
      episodes: independent episodes per policy (batched; 1024 take well under a second).
      seed: seeds the start states, the policies' and the environment's randomness.

    Returns:
      `{policy: (mean, standard_error)}` for every name in `REFERENCE_POLICIES`.
    """
    check_int_at_least("episodes", episodes, 2)
    dynamics = PointMassDynamics(spec)
    out = {}
    for policy in REFERENCE_POLICIES:
        generator = torch.Generator().manual_seed(seed)
        start = torch.rand((episodes, ACTION_DIM), generator=generator, dtype=torch.float64)
        state = (2 * start - 1) * spec.init_range
        total = torch.zeros(episodes, dtype=torch.float64)
        for _ in range(spec.horizon):  # time is sequential; episodes are batched
            action = reference_action(policy, spec, state, generator=generator)
            noise = dynamics.sample_noise((episodes,), generator=generator, dtype=torch.float64)
            state, reward = dynamics.step(state, action, noise)
            total += reward
        out[policy] = (total.mean().item(), (total.std() / episodes**0.5).item())
    return out
