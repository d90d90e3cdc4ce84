"""The Sobolev operator on the point-mass toy, measured on generative critics as random functions.

Source: paper-notes §3 (γκ-contraction, κ from the Jacobians of environment and policy); the
measurement is ours. Two generative critics Z₁, Z₂ (`dvg_core.models.GenerativeCritic`: two random
initialisations, or one and a perturbed copy) are random functions of `(s, a)`. The operator is
applied to each exactly as the agents apply it: `dvg_core.losses.sobolev.sobolev_targets` through the
oracle world model (the toy's own differentiable step) and a fixed actor, `GainPolicy`
`π(s) = tanh(gain · W s)`. With common random numbers (the same model draws and critic noise for
both critics, a coupling), the factor is

    sup over probe pairs (s, a) of d(T Z₁(s, a), T Z₂(s, a))
    --------------------------------------------------------
    sup over next states s' of d(Z₁(s', π(s')), Z₂(s', π(s')))

with d the max-sliced MMD² (also W₁ on its worst slice, and plain MMD²) between joint samples
`(Z, √λ ∇ₐZ)` (`dvg_core.losses.sobolev.joint_samples`). Caveat: `∇ₐ(TZ)` reads `∇ₛZ` at the next
state (`dvg_core.analysis.linear_sobolev_operator`'s derivation), which the agents' joint vector does not
carry, so their factor has no γκ bound; `ContractionEstimate.msmmd2_complete` divides by the
distance between the complete vectors `(Z, √λ ∇ₛZ, √λ ∇ₐZ)` instead, which the theory bounds by
‖L‖ <= γκ (a coordinate subset of a max-sliced distance is at most the whole).
`ContractionEstimate.msmmd2_complete_operator` is the factor of the complete operator itself
(`dsdpg_complete`: complete targets over complete inputs, `joint_samples` and `sobolev_targets`
with λₛ = λ), bounded by ‖L‖ <= γκ.

κ over the probes: `J_env = ∂s'/∂(s, a)` of the toy step (noise fixed) and `J_π = ∂π/∂s'`, by
`torch.func.jacrev` of batch sums (rows are independent, so one reverse pass per output
coordinate gives every row's Jacobian); `κ = max(1, sup ‖J_env‖₂ ‖[I; J_π]‖₂)`, the ‖L‖
prediction `γ max(1, sup ‖[I; J_π] J_env‖₂)`, and `‖L_a‖ = γ max(1, sup ‖[I; J_π] J_a‖₂)` for
the rows the agents' targets keep (`J_a = ∂s'/∂a`): the bound of `msmmd2_complete`. Inside the
box `J_env = [I, dt I]`, so `J_a = dt I` and the agents' view feels κ only through dt · gain.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from dvg_core.analysis.contraction import ContractionEstimate, SliceDistances, slice_distances, sup_ratio
from dvg_core.envs.point_mass import PointMassDynamics, PointMassSpec
from dvg_core.losses.kernels import Kernel, make_kernel
from dvg_core.models import GenerativeCritic
from dvg_core.losses.sobolev import joint_samples, sobolev_targets
from dvg_core.util.validation import check_int_at_least, check_nonnegative, check_range, check_shape
from dvg_core.models.world_models import OracleWorldModel

__all__ = [
    "GainPolicy",
    "jacobian_bounds",
    "random_critics",
    "toy_contraction",
    "toy_jacobians",
]


class GainPolicy(nn.Module):
    """A fixed actor `π(s) = tanh(gain · W s)`, W default `-I` (towards the origin).

    Its Jacobian `gain · diag(1 - tanh²) W` has norm <= gain ‖W‖: the gain sets κ. Buffers
    `center` and `half_range` (0 and 1) make it a valid target actor for TD3 smoothing.

    Shapes: `state [*, d_s] -> action [*, d_a]`.
    """

    def __init__(self, gain: float, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gain = check_nonnegative("gain", gain)
        weight = -torch.eye(2) if weight is None else torch.as_tensor(weight, dtype=torch.float32)
        check_shape("weight", weight, [None, None])
        self.register_buffer("weight", weight)
        self.action_dim, self.state_dim = weight.shape
        self.register_buffer("center", torch.zeros(self.action_dim))
        self.register_buffer("half_range", torch.ones(self.action_dim))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        check_shape("state", state, ["...", self.state_dim])
        return torch.tanh(self.gain * state @ self.weight.T)


def random_critics(
    *, seed: int, perturb: float | None = None, xi_dim: int = 4, hidden: tuple[int, ...] = (64, 64)
) -> tuple[GenerativeCritic, GenerativeCritic]:
    """Two one-member generative critics of the toy: independent initialisations (`perturb` None)
    or the first and a copy with N(0, perturb²) added to every parameter."""
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, global RNG left as it was
        torch.manual_seed(seed)
        first = GenerativeCritic(2, 2, xi_dim=xi_dim, n_members=1, hidden=hidden)
        if perturb is None:
            return first, GenerativeCritic(2, 2, xi_dim=xi_dim, n_members=1, hidden=hidden)
        second = copy.deepcopy(first)
        with torch.no_grad():
            for p in second.parameters():
                p.add_(check_nonnegative("perturb", perturb) * torch.randn_like(p))
    return first, second


def toy_jacobians(
    world_model: OracleWorldModel, policy: nn.Module, state: torch.Tensor, action: torch.Tensor,
    noise: object,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-row Jacobians of the step and of the policy at the next state.

    Args:
      world_model: the oracle model; policy: `[*, d_s] -> [*, d_a]`.
      state: `[P, d_s]`; action: `[P, d_a]`; noise: the model's noise for `(P,)`.

    Returns:
      `(env_jac [P, d_s, d_s + d_a], policy_jac [P, d_a, d_s], next_state [P, d_s])`.
    """
    def step_sum(s, a):  # rows independent: the Jacobian of the sum holds every row's
        return world_model.sample(s, a, noise)[0].sum(0)

    with torch.enable_grad():
        jac_s, jac_a = torch.func.jacrev(step_sum, argnums=(0, 1))(state, action)  # [d_s, P, ·]
        next_state = world_model.sample(state, action, noise)[0].detach()
        jac_pi = torch.func.jacrev(lambda s: policy(s).sum(0))(next_state)  # [d_a, P, d_s]
    env_jac = torch.cat([jac_s, jac_a], dim=-1).permute(1, 0, 2)  # [P, d_s, d_s + d_a]
    return env_jac.detach(), jac_pi.permute(1, 0, 2).detach(), next_state


def jacobian_bounds(
    env_jac: torch.Tensor, policy_jac: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-row Jacobian bounds of the toy's Sobolev operator.

    With `P = [I; J_π]` and `C = P J_env` (the closed-loop Jacobian `∂(s', a')/∂(s, a)`):
    `κ = max(1, ‖J_env‖₂ ‖P‖₂)`, `max(1, ‖C‖₂)` (= ‖L‖/γ, L of the complete vectors) and
    `max(1, ‖P J_a‖₂)` with `J_a = ∂s'/∂a` (= ‖L_a‖/γ, the rows of L that the agents' targets
    `(G, ∇ₐG)` keep).

    Args:
      env_jac: `[P, d_s, d_s + d_a]`; policy_jac: `[P, d_a, d_s]`.

    Returns:
      `(kappa [P], closed_loop [P], action_rows [P])`.
    """
    check_shape("env_jac", env_jac, [None, None, None])
    d_s = env_jac.shape[1]
    check_shape("policy_jac", policy_jac, [env_jac.shape[0], None, d_s])
    eye = torch.eye(d_s, dtype=env_jac.dtype).expand(env_jac.shape[0], -1, -1)
    lift = torch.cat([eye, policy_jac], dim=1)  # P: [P, d_s + d_a, d_s]
    norm = lambda m: torch.linalg.matrix_norm(m, ord=2).clamp_min(1.0)  # noqa: E731
    kappa = (torch.linalg.matrix_norm(env_jac, ord=2) * torch.linalg.matrix_norm(lift, ord=2))
    return kappa.clamp_min(1.0), norm(lift @ env_jac), norm(lift @ env_jac[:, :, d_s:])


def _next_inputs(critics, world_model, policy, state, action, *, lam, n_samples, n_next,
                 kernel, generator) -> tuple[SliceDistances, torch.Tensor]:
    """Distances between the critics at `n_next` next states per probe: the agents' joint
    samples (all metrics) and the complete vectors (max-sliced MMD² only), `[P · n_next]`."""
    lead = (state.shape[0], n_next)
    noise = world_model.sample_noise(lead, generator=generator)
    next_state = world_model.sample(state[:, None].expand(*lead, -1),
                                    action[:, None].expand(*lead, -1), noise)[0]
    next_state = next_state.reshape(-1, state.shape[-1])  # [P · n_next, d_s]
    next_action = policy(next_state).detach()
    xi = critics[0].sample_xi((next_state.shape[0], n_samples), generator=generator)
    agents = [joint_samples(c, next_state, next_action, xi, lam=lam)[0].detach() for c in critics]
    complete = [joint_samples(c, next_state, next_action, xi, lam=lam, lam_state=lam)[0].detach()
                for c in critics]  # [P · n_next, M, 1 + d_s + d_a] each
    eye = torch.eye(agents[0].shape[-1])
    agent_d = slice_distances(*agents, kernel, candidates=eye, generator=generator)
    complete_d = slice_distances(*complete, kernel, candidates=torch.eye(complete[0].shape[-1]),
                                 generator=generator)
    return agent_d, complete_d.msmmd2


def _target_distances(critics, world_model, policy, state, action, *, gamma, n_samples, lam,
                      lam_state, kernel, seed) -> SliceDistances:
    """Distances between the two critics' targets at the probes, with common random numbers
    (`seed`): the agents' `(y, √λ∇ₐy)` (`lam_state` None) or the complete vectors."""
    targets = [sobolev_targets(world_model, policy, c, state, action, gamma=gamma,
                               n_samples=n_samples, lam=lam, lam_state=lam_state,
                               generator=torch.Generator().manual_seed(seed))
               for c in critics]  # [P, M, 1 + (d_s +) d_a] each
    return slice_distances(*targets, kernel, candidates=torch.eye(targets[0].shape[-1]),
                           generator=torch.Generator().manual_seed(seed + 1))


def toy_contraction(
    gammas: Sequence[float], *, gain: float, dt: float, n_probes: int = 32,
    n_samples: int = 16, n_next: int = 1, lam: float = 1.0, n_locations: int = 3,
    dynamics_noise: float = 0.0, perturb: float | None = None, h: float = 100.0, seed: int = 0,
) -> list[ContractionEstimate]:
    """Measured contraction factors of the toy's Sobolev operator on two random critics, per γ.

    Probes `(s, a)` are uniform in `[-1.5, 1.5]² × [-1, 1]²`; the inputs' sup runs over
    `n_next` model draws of the next state per probe (one suffices without dynamics noise) and
    is shared by all γ; targets use `n_samples` model draws per probe, with the same seed for
    both critics (common random numbers) and for every γ (so a γ's value does not depend on the
    other γ of the list).

    Args:
      gammas: discounts in (0, 1); gain: the policy's gain; dt: the toy's time step.
      n_probes: P probe pairs; n_samples: M samples per law; lam: λ of the joint vectors.
      n_locations, dynamics_noise: the toy (`PointMassSpec`); perturb: see `random_critics`.
      h: multiquadric bandwidth; seed: seeds critics, probes and every draw.

    Returns:
      one `ContractionEstimate` per γ (setting `"toy"`).
    """
    gammas = [check_range("gammas", g, 0.0, 1.0, low_closed=False, high_closed=False)
              for g in gammas]
    check_int_at_least("n_probes", n_probes, 1)
    check_int_at_least("n_next", n_next, 1)
    world_model = OracleWorldModel(PointMassDynamics(PointMassSpec(
        n_locations=n_locations, dt=dt, dynamics_noise=dynamics_noise)))
    policy, critics = GainPolicy(gain), random_critics(seed=seed, perturb=perturb)
    generator = torch.Generator().manual_seed(seed)
    state = 3.0 * torch.rand(n_probes, 2, generator=generator) - 1.5
    action = 2.0 * torch.rand(n_probes, 2, generator=generator) - 1.0
    kernel: Kernel = make_kernel("multiquadric", h=h)
    before, before_complete = _next_inputs(
        critics, world_model, policy, state, action, lam=lam, n_samples=n_samples, n_next=n_next,
        kernel=kernel, generator=generator)
    kappa, closed, action_rows = jacobian_bounds(*toy_jacobians(
        world_model, policy, state, action,
        world_model.sample_noise((n_probes,), generator=generator))[:2])
    target_seed = int(torch.randint(2**31, (1,), generator=generator))
    estimates = []
    for gamma in gammas:  # a handful of γ values: each step is batched over probes and samples
        after, after_complete = (_target_distances(
            critics, world_model, policy, state, action, gamma=gamma, n_samples=n_samples,
            lam=lam, lam_state=lam_state, kernel=kernel, seed=target_seed)
            for lam_state in (None, lam))  # the agents' targets, then the complete ones
        estimates.append(ContractionEstimate(
            setting="toy", gamma=gamma, gain=gain, dt=dt, kappa=kappa.max().item(),
            norm_l=gamma * closed.max().item(), norm_l_action=gamma * action_rows.max().item(),
            msmmd2=sup_ratio(before.msmmd2, after.msmmd2), w1=sup_ratio(before.w1, after.w1),
            mmd2=sup_ratio(before.mmd2, after.mmd2),
            msmmd2_complete=sup_ratio(before_complete, after.msmmd2),
            msmmd2_complete_operator=sup_ratio(before_complete, after_complete.msmmd2),
        ))
    return estimates
