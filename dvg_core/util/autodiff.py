"""`value_and_grad_of_sum`: a function's value and the gradient of its sum in one input, by the
fastest path that is valid where it is called.

The per-sample action-gradients of this codebase (`∇ₐZ` of every critic sample, `∇ₐy` of every
target sample, the max-slicing ascent direction) are gradients of a sum, because the samples do
not interact. In eager code the fastest way is `torch.autograd.grad` on a private leaf; inside a
`torch.func` transform (the seed-vectorised `vmap` of `dvg_core.agents.seed_stack`) a leaf cannot be made,
so the same product comes from `torch.func.vjp`. `value_and_input_grad` is the one way a
function of `(s, a)` is differentiated: in `a` alone (the agents' `∇ₐ`), or in `(s, a)` together
(the complete vectors' `(∇ₛ, ∇ₐ)`, `dsdpg_complete`). Measured (`python -m workbench bench`, mujoco
dsdpg_mmd, batch 256): vjp everywhere made the eager update 1.2-1.6x slower, hence the switch.

Under `torch.compile` neither backward pass can stay in the graph: dynamo breaks the graph at
`torch.autograd.grad`, and aot_autograd cannot differentiate a `create_graph` gradient again
("does not currently support double backward"). There the gradient of a sum comes from
`torch.func.vjp` (a traced transform), and a gradient that must stay trainable
(`create_graph=True`) from forward mode (`forward_grad_of_sum`: one `jvp` per input coordinate,
vmapped), which aot_autograd traces as ordinary ops and differentiates once.

`once_per_pair` evaluates a function of `(s, a)` alone once per pair and lets each of the pair's
draws read it through its tangent plane (exact values and per-draw gradients): the cVAE's prior
and mean path in the targets (`dvg_core.losses.backup.pair_features_once`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = [
    "EAGER_JACOBIAN_MIN_WORK", "forward_grad_of_sum", "inside_functorch", "once_per_pair",
    "once_per_pair_pays", "value_and_grad_of_sum", "value_and_input_grad",
]


def inside_functorch() -> bool:
    """Whether the caller runs inside a `torch.func` transform (vmap, grad, vjp, ...)."""
    return torch._C._functorch.maybe_current_level() is not None


def forward_grad_of_sum(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(fn(x), ∇ₓ Σ fn(x))` by forward mode, both differentiable in the parameters `fn` closes
    over by ordinary (first-order) backprop; for a vector function, each row's Jacobian.

    Rows do not interact, so the directional derivative along the k-th coordinate of every row at
    once, `jvp(fn, x, e_k)`, is each row's `∂fn/∂x_k`: `d` jvps (vmapped) give the gradient.
    Costs about `d` forward passes, so it pays only where `d` is small (the action: 2 on the toy,
    at most 17 on MuJoCo) and a double backward is not available (`torch.compile`).

    Args:
      fn: a function of `x [*, d] -> [*]` (or `[*, C]`), rows independent; deterministic (it
        runs under `vmap`, whose default randomness is an error).
      x: `[*, d]`, a constant input (its own graph, if any, is cut).

    Returns:
      `(fn(x) [*], grad [*, d])`, or `(fn(x) [*, C], jacobian [*, C, d])`.
    """
    x = x.detach().contiguous()  # a dual tensor cannot be an expanded view
    dim = x.shape[-1]
    basis = torch.eye(dim, dtype=x.dtype, device=x.device)  # [d, d]
    tangents = basis.reshape(dim, *([1] * (x.dim() - 1)), dim).expand(dim, *x.shape)
    tangents = tangents.contiguous()  # [d, *, d]: the k-th holds e_k in every row
    # out_dims 0 for the value too: inside an outer transform (the seed stack's vmap) the value
    # comes back batched over the tangents, though it does not depend on them
    y, dy = torch.func.vmap(lambda t: torch.func.jvp(fn, (x,), (t,)))(tangents)
    return y[0], dy.movedim(0, -1)  # [*], [*, d] (or [*, C], [*, C, d])


def value_and_grad_of_sum(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, create_graph: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(fn(x), ∇ₓ Σ fn(x))`, `x` treated as a constant input.

    Args:
      fn: a function of `x` (it may draw random numbers: it is called exactly once).
      x: the input; not modified, its own graph (if any) is cut.
      create_graph: keep both results differentiable in the parameters `fn` closes over (to
        train a loss on the gradient); otherwise both come back detached.
    """
    compiling = torch.compiler.is_compiling()
    if create_graph and compiling:
        return forward_grad_of_sum(fn, x)
    if not inside_functorch() and not compiling:
        with torch.enable_grad():
            leaf = x.detach().clone().requires_grad_(True)
            y = fn(leaf)
            (grad,) = torch.autograd.grad(y.sum(), leaf, create_graph=create_graph)
        return (y, grad) if create_graph else (y.detach(), grad)
    # no_grad unless a graph is wanted: the vjp still differentiates (it is a transform), but
    # autograd does not also record it for the parameters `fn` closes over.
    with torch.enable_grad() if create_graph else torch.no_grad():
        y, pullback = torch.func.vjp(fn, x.detach())
        (grad,) = pullback(torch.ones_like(y))
    return (y, grad) if create_graph else (y.detach(), grad.detach())


def value_and_input_grad(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    state: torch.Tensor,
    action: torch.Tensor,
    *,
    wrt_state: bool,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(fn(s, a), ∇ Σ fn(s, a))` in the action, or in state and action together.

    The gradient of the sum is each row's gradient when rows do not interact (per-sample
    gradients in one pass, as `value_and_grad_of_sum`).

    Args:
      fn: a function of `(state [*, d_s], action [*, d_a])` (called exactly once).
      state: `[*, d_s]`, a constant input unless `wrt_state`.
      action: `[*, d_a]`.
      wrt_state: also differentiate in the state: the gradient is `[∇ₛ, ∇ₐ]`, state first.
      create_graph: see `value_and_grad_of_sum`.

    Returns:
      `(fn(s, a) [*], grad [*, d_a])`, or `grad [*, d_s + d_a]` if `wrt_state`.
    """
    if not wrt_state:
        return value_and_grad_of_sum(lambda a: fn(state, a), action, create_graph=create_graph)
    d_s = state.shape[-1]
    inputs = torch.cat([state.detach(), action.detach()], dim=-1)  # [*, d_s + d_a]
    return value_and_grad_of_sum(lambda x: fn(x[..., :d_s], x[..., d_s:]), inputs,
                                 create_graph=create_graph)


EAGER_JACOBIAN_MIN_WORK = 20 * 64 * 128**2
"""Rows × network width² below which an eager update evaluates a per-pair function on every
draw when it is differentiated (`once_per_pair_pays`): the Jacobian's vmapped `jvp` has a fixed
cost of about 2 ms on a CPU, which only pays when it saves that much. Measured (one thread, the
cVAE's prior and mean path, fwd+bwd per draw against value and Jacobian per pair, 20 draws per
pair): 1.27 against 2.25 ms at batch 64 and width 64, break-even (2.95 against 2.70 ms) at batch
64 and width 128, 38.0 against 9.6 ms at batch 256 and width 256. Compiled, the Jacobian is a
handful of fused kernels and always pays."""


def once_per_pair_pays(n_rows: int, width: int) -> bool:
    """Whether `once_per_pair` (with a Jacobian) is cheaper than evaluating per draw: when
    compiling, or eagerly from `EAGER_JACOBIAN_MIN_WORK` (`n_rows` the draws' rows, `width` the
    per-pair network's widest layer)."""
    return torch.compiler.is_compiling() or n_rows * width**2 >= EAGER_JACOBIAN_MIN_WORK


def once_per_pair(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    state: torch.Tensor,
    action: torch.Tensor,
    differentiated: str | None,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A function of `(s, a)` alone evaluated once per pair and read by each of the pair's draws.

    Where the caller differentiates in the draws' inputs, each draw reads it through its tangent
    plane at the pair, `f(x̄) + J(x̄)(x - sg(x))`: the same value, and the same first derivative in
    that draw's own `x` (`J` by forward mode, one tangent per differentiated coordinate), so a
    per-draw gradient is exactly what evaluating `f` on every draw gives. Source: ours (issue 17).

    Value and Jacobian are constants (no graph to the parameters `fn` closes over): this serves
    targets. For the online critic, whose loss trains on the draws' gradients, the same trick with
    a trainable Jacobian was measured *slower* than per-draw autodiff (docs/lab/speed.md, "Fewer
    FLOPs per target"), so it is not offered.

    Args:
      fn: `(state [*, d_s], action [*, d_a]) -> [..., *, C]`, rows independent, deterministic
        (leading dims before `*`, such as critic members, are allowed).
      state: `[B, 1, d_s]`; action: `[B, 1, d_a]` (one row per pair, broadcasting to the draws);
        constant inputs.
      differentiated: None (no gradient in the inputs), `"action"`, or `"state_action"`.

    Returns:
      `(state_in, action_in) -> [..., *, C]` for the draws' inputs `[*, d]`.
    """
    with torch.no_grad():
        if differentiated is None:
            value = fn(state, action)
            return lambda state_in, action_in: value
        if differentiated == "action":
            value, jacobian = forward_grad_of_sum(lambda a: fn(state, a), action)
        else:
            d_s = state.shape[-1]
            value, jacobian = forward_grad_of_sum(
                lambda x: fn(x[..., :d_s], x[..., d_s:]), torch.cat([state, action], -1))
    # value [..., B, 1, C], jacobian [..., B, 1, C, d]

    def read(state_in: torch.Tensor, action_in: torch.Tensor) -> torch.Tensor:
        x = action_in if differentiated == "action" else torch.cat([state_in, action_in], -1)
        shift = (x - x.detach()).unsqueeze(-1)  # zero, with the identity as its derivative
        return value + (jacobian @ shift).squeeze(-1)

    return read
