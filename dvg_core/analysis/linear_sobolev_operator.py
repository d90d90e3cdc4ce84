"""The Sobolev distributional Bellman operator of a linear system: an exact affine push-forward
(the system, its operator `b + L x`, and the backup through autograd that checks it; the measured
contraction factors: `dvg_core.analysis.contraction_linear`).

Source: the contraction claim of paper-notes §3 (Theorem 2 of the paper, whose statement is not
recovered); the derivation below is ours (RECONSTRUCTION of §3's schematic L).

**System.** `s' = A s + B a + σ ε` (`ε ~ N(0, I)`), linear policy `π(s) = K s`, reward
`r(s, a) = q_sᵀ s + q_aᵀ a - (c/2)(‖s‖² + ‖a‖²)` (linear for c = 0), plus an optional reward noise
`σ_r η` on the value. A critic is a random function `Z(s, a)` (its noise ξ held fixed: one sample
path per ξ); its *complete Sobolev vector* is `x_Z(s, a) = (Z, ∇ₛZ, ∇ₐZ) ∈ ℝ^D`,
`D = 1 + d_s + d_a`.

**Derivation.** The backup is `G(s, a) = r(s, a) + σ_r η + γ Z(s', K s')`, reparameterised (ε, η,
ξ fixed). Write `u = (s, a)` and `u' = (s', a') = P s'` with `P = [I; K]` (`[d_s + d_a, d_s]`,
the Jacobian of `s' ↦ (s', π(s'))`), and `s' = J u + σ ε` with `J = [A B]` (`[d_s, d_s + d_a]`,
the environment's Jacobian). So `∂u'/∂u = C := P J = [[A, B], [K A, K B]]`, the closed-loop
Jacobian, and by the chain rule `∇ᵤG = ∇ᵤr + γ Cᵀ ∇ᵤ'Z(u')`, i.e.

    ∇ₛG = ∇ₛr + γ Aᵀ (∇ₛZ + Kᵀ ∇ₐZ),   ∇ₐG = ∇ₐr + γ Bᵀ (∇ₛZ + Kᵀ ∇ₐZ),

where `∇ₛ'V = ∇ₛZ + Kᵀ ∇ₐZ` is the gradient of the next-state value under the policy, all at
`(s', K s')`. Hence the operator maps the next vector to `x_G(u) = b + L x_Z(u')` with

    b = (r + σ_r η, ∇ₛr, ∇ₐr),    L = γ [[1, 0], [0, Cᵀ]]   ([D, D], constant).

**Contraction.** `‖L‖₂ = γ max(1, ‖C‖₂)` and `‖C‖ = ‖P J‖ <= ‖P‖ ‖J‖`, so with the Jacobian bound
`κ := max(1, ‖[A B]‖₂ · ‖[I; K]‖₂)` (environment times policy sensitivity,
`‖[I; K]‖ = √(1 + ‖K‖²)`) we get `‖L‖ <= γκ`. For a unit θ,
`⟨θ, b + L x⟩ = ⟨θ, b⟩ + ‖Lᵀθ‖ ⟨ŵ, x⟩` with `ŵ = Lᵀθ / ‖Lᵀθ‖`: a max-sliced distance built on a
shift-invariant, 1-homogeneous 1-D distance (W₁; the energy distance; MMD² of the multiquadric at
large h) satisfies `d(TZ₁, TZ₂) <= ‖L‖ d(Z₁, Z₂)`, with equality when the two laws differ along
the top right singular vector v₁ of L (e.g. exact shifts along v₁); a common random `b` (coupled
noise) only mixes, which cannot increase a convex distance. For the multiquadric at finite h,
`k_h(c·) = k_{ch}` and `MMD²_h / h` is nondecreasing in h, so for ‖L‖ <= 1 the MMD² factor is
<= ‖L‖ exactly and tends to ‖L‖ as h·scale grows. **Plain MMD** sees all coordinates at once; L
is singular (`a' = K s'`: the directions `(0, -Kᵀw, w)` are killed), so a difference that was
diluted by spread along them gets concentrated, and its factor exceeds ‖L‖, even 1 when γκ < 1.

**Random functions as laws.** If `Z` is stationary in law (the law μ of `x_Z(u')` is the same at
every `u'`, independent of ε, η), then `TZ(u) ~ b + L X`, `X ~ μ`, at every `u`, and the sup
over `(s, a)` of the distance is its value at any one pair. `linear_contraction` therefore pushes
samples of μ₁ and of its perturbed copy μ₂ (μ₁ shifted along a direction) through `b + L x`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dvg_core.util.validation import check_nonnegative, check_positive, check_range, check_shape

__all__ = [
    "closed_loop_jacobian",
    "double_integrator",
    "kappa_bound",
    "linear_sobolev_backup",
    "push_forward",
    "reward_part",
    "sobolev_matrix",
]

CriticFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def double_integrator(
    *, dt: float, gain: float, feedback: tuple[float, float] = (1.0, 0.0),
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A double integrator (position, velocity; a force) under linear state feedback.

    `A = [[1, dt], [0, 1]]`, `B = [[0], [dt]]`, `K = -gain · [k_p, k_d]`: `dt` sets the
    environment's Jacobian and `gain` the policy's, hence κ. The default feedback is
    proportional only (`k_d = 0`); then `‖[I; K]‖ ‖[A B]‖` is visibly above `‖[I; K] [A B]‖`,
    so γκ and ‖L‖ differ (with `(1, 0.5)` they agree within 2%).

    Returns:
      `(A [2, 2], B [2, 1], K [1, 2])`.
    """
    dt, gain = check_positive("dt", dt), check_nonnegative("gain", gain)
    a_mat = torch.tensor([[1.0, dt], [0.0, 1.0]], dtype=dtype)
    b_mat = torch.tensor([[0.0], [dt]], dtype=dtype)
    k_mat = -gain * torch.tensor([list(feedback)], dtype=dtype)
    return a_mat, b_mat, k_mat


def _check_system(a_mat, b_mat, k_mat) -> tuple[int, int]:
    check_shape("a_mat", a_mat, [None, None])
    d_s = a_mat.shape[0]
    check_shape("a_mat", a_mat, [d_s, d_s])
    check_shape("b_mat", b_mat, [d_s, None])
    check_shape("k_mat", k_mat, [b_mat.shape[1], d_s])
    return d_s, b_mat.shape[1]


def closed_loop_jacobian(
    a_mat: torch.Tensor, b_mat: torch.Tensor, k_mat: torch.Tensor
) -> torch.Tensor:
    """`C = ∂(s', π(s'))/∂(s, a) = [I; K] [A B] = [[A, B], [K A, K B]]`, `[d_s+d_a, d_s+d_a]`."""
    d_s, _ = _check_system(a_mat, b_mat, k_mat)
    policy_jac = torch.cat([torch.eye(d_s, dtype=a_mat.dtype), k_mat])  # P [d_s+d_a, d_s]
    return policy_jac @ torch.cat([a_mat, b_mat], dim=1)


def sobolev_matrix(
    a_mat: torch.Tensor, b_mat: torch.Tensor, k_mat: torch.Tensor, *, gamma: float
) -> torch.Tensor:
    """The linear part `L = γ [[1, 0], [0, Cᵀ]]` of the complete Sobolev backup (module doc).

    Args:
      a_mat: `[d_s, d_s]`; b_mat: `[d_s, d_a]`; k_mat: `[d_a, d_s]`.
      gamma: discount in [0, 1].

    Returns:
      `[D, D]`, `D = 1 + d_s + d_a`, acting on `(Z, ∇ₛZ, ∇ₐZ)` column vectors.
    """
    gamma = check_range("gamma", gamma, 0.0, 1.0)
    closed = closed_loop_jacobian(a_mat, b_mat, k_mat)
    dim = 1 + closed.shape[0]
    matrix = torch.zeros(dim, dim, dtype=closed.dtype)
    matrix[0, 0] = 1.0
    matrix[1:, 1:] = closed.T
    return gamma * matrix


def kappa_bound(a_mat: torch.Tensor, b_mat: torch.Tensor, k_mat: torch.Tensor) -> float:
    """`κ = max(1, ‖[A B]‖₂ · ‖[I; K]‖₂)`: environment Jacobian bound × policy sensitivity."""
    d_s, _ = _check_system(a_mat, b_mat, k_mat)
    env = torch.linalg.matrix_norm(torch.cat([a_mat, b_mat], dim=1), ord=2)
    policy = torch.linalg.matrix_norm(torch.cat([torch.eye(d_s, dtype=k_mat.dtype), k_mat]), ord=2)
    return max(1.0, (env * policy).item())


def _reward(state, action, reward_state, reward_action, curvature):
    """`r = q_sᵀ s + q_aᵀ a - (c/2)(‖s‖² + ‖a‖²)`, `[N]`."""
    quadratic = state.square().sum(-1) + action.square().sum(-1)
    return state @ reward_state + action @ reward_action - 0.5 * curvature * quadratic


def reward_part(
    state: torch.Tensor, action: torch.Tensor, *, reward_state: torch.Tensor,
    reward_action: torch.Tensor, curvature: float = 0.0,
) -> torch.Tensor:
    """The offset `b = (r, ∇ₛr, ∇ₐr)` of the push-forward (without reward noise), closed form.

    Args:
      state: `[N, d_s]`; action: `[N, d_a]`.
      reward_state: q_s `[d_s]`; reward_action: q_a `[d_a]`; curvature: c >= 0.

    Returns:
      `[N, D]`.
    """
    curvature = check_nonnegative("curvature", curvature)
    check_shape("reward_state", reward_state, [state.shape[-1]])
    check_shape("reward_action", reward_action, [action.shape[-1]])
    value = _reward(state, action, reward_state, reward_action, curvature)
    grad_s, grad_a = reward_state - curvature * state, reward_action - curvature * action
    return torch.cat([value.unsqueeze(-1), grad_s, grad_a], dim=-1)


def linear_sobolev_backup(
    critic_fn: CriticFn, state: torch.Tensor, action: torch.Tensor, eps: torch.Tensor,
    a_mat: torch.Tensor, b_mat: torch.Tensor, k_mat: torch.Tensor, *, gamma: float,
    sigma: float, reward_state: torch.Tensor, reward_action: torch.Tensor,
    curvature: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The complete Sobolev backup by autograd, and the next-state vectors it reads (reference
    for `sobolev_matrix`: `x_G = reward_part + x_next Lᵀ`).

    Args:
      critic_fn: one sample path per row, `(s [N, d_s], a [N, d_a]) -> Z [N]`, differentiable,
        rows independent.
      state: `[N, d_s]`; action: `[N, d_a]`; eps: dynamics noise `[N, d_s]`.
      a_mat, b_mat, k_mat: the system; gamma: discount; sigma: dynamics noise scale.
      reward_state, reward_action, curvature: the reward (see `reward_part`).

    Returns:
      `(x_G [N, D], x_next [N, D])`: `(G, ∇ₛG, ∇ₐG)` at `(s, a)` and `(Z, ∇ₛZ, ∇ₐZ)` at
      `(s', K s')`, detached.
    """
    _check_system(a_mat, b_mat, k_mat)
    check_shape("eps", eps, list(state.shape))
    with torch.enable_grad():
        s = state.detach().clone().requires_grad_(True)
        a = action.detach().clone().requires_grad_(True)
        next_state = s @ a_mat.T + a @ b_mat.T + sigma * eps  # [N, d_s]
        next_action = next_state @ k_mat.T  # [N, d_a]
        # The next vector: Z's own partials, (s', a') taken as independent inputs.
        s_n = next_state.detach().requires_grad_(True)
        a_n = next_action.detach().requires_grad_(True)
        z_next = critic_fn(s_n, a_n)
        grad_s_next, grad_a_next = torch.autograd.grad(z_next.sum(), (s_n, a_n))
        # The backup: total derivative through dynamics and policy.
        g = _reward(s, a, reward_state, reward_action, curvature)
        g = g + gamma * critic_fn(next_state, next_action)
        grad_s, grad_a = torch.autograd.grad(g.sum(), (s, a))
    x_g = torch.cat([g.detach().unsqueeze(-1), grad_s, grad_a], dim=-1)
    x_next = torch.cat([z_next.detach().unsqueeze(-1), grad_s_next, grad_a_next], dim=-1)
    return x_g, x_next


def push_forward(x: torch.Tensor, matrix: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """`b + L x` on sample sets: `x [B, M, D]`, `matrix` L `[D, D]`, `offset` b broadcasting
    to `[B, M, D]` -> `[B, M, D]`."""
    check_shape("x", x, [None, None, None])
    check_shape("matrix", matrix, [x.shape[-1], x.shape[-1]])
    return offset + x @ matrix.T
