"""One-step stochastic world models `(s, a, noise) -> (s', r, done)`, reparameterised in `(s, a)`.

Every model follows the `WorldModel` protocol: `noise = model.sample_noise(shape, generator=g)`,
then `next_state, reward, done = model.sample(state, action, noise)` is a differentiable function
of `state` and `action` with the noise held fixed (the pathwise gradients the Sobolev targets need,
paper-notes §2.4), and `model.fit(s, a, r, s')` takes one gradient step on a replay batch.

* `OracleWorldModel`: a differentiable simulator (e.g. `PointMassDynamics`) used as the model, to
  isolate the critic from model error.
* `CVAEWorldModel`: the paper's conditional VAE with a learned prior (paper-notes §2.7).
* `GaussianEnsembleWorldModel`: MAGE/PETS-style probabilistic ensemble (paper-notes §5.1).
* `FlowWorldModel`: a conditional neural spline flow, the paper's ablation of the cVAE.

Learned models work in normalised units: inputs `(s, a)` and targets `(Δs = s' - s, r)` are
standardised with `RunningNormalizer` buffers (saved in `state_dict`). GUESS (the paper gives no
normalisation): by default `fit` merges each batch it sees into the statistics (exact pooled mean
and variance of everything seen, so they settle as data accumulates); `update_normalizer` can
also be fed the whole replay, with `update_normalizer_in_fit=False` to keep the statistics fixed.
Checkpoints: `model.state_dict()` plus `model.optimizer.state_dict()` (the optimiser is exposed,
not folded into the module's state dict; the oracle has none, `optimizer is None`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch

from dvg_core.util.validation import check_shape



TerminatedFn = Callable[[torch.Tensor], torch.Tensor]


def never_terminates(next_state: torch.Tensor) -> torch.Tensor:
    """Default termination function: boolean zeros `[*]` for `next_state [*, d_s]`."""
    return torch.zeros(next_state.shape[:-1], dtype=torch.bool, device=next_state.device)


class WorldModel(Protocol):
    """The interface the agents rely on (see the module docstring).

    `sample(state [*, d_s], action [*, d_a], noise) -> (next_state [*, d_s], reward [*],
    done [*])`, `done` a float 0/1; `fit(state [B, d_s], action [B, d_a], reward [B],
    next_state [B, d_s]) -> dict` of detached scalar metrics after one gradient step.
    """

    state_dim: int
    action_dim: int

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any: ...

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]: ...


def check_state_action(
    state: torch.Tensor, action: torch.Tensor, state_dim: int, action_dim: int
) -> torch.Size:
    """Check `state [*, d_s]`, `action [*, d_a]` with equal leading dims; return `*`."""
    check_shape("state", state, ["...", state_dim])
    check_shape("action", action, ["...", action_dim])
    if action.shape[:-1] != state.shape[:-1]:
        raise ValueError(f"action must have the leading dims of state {list(state.shape[:-1])}, "
                         f"got {list(action.shape)}")
    return state.shape[:-1]


def check_transitions(
    state: torch.Tensor,
    action: torch.Tensor,
    reward: torch.Tensor,
    next_state: torch.Tensor,
    state_dim: int,
    action_dim: int,
) -> None:
    """Check a replay batch: `state [B, d_s]`, `action [B, d_a]`, `reward [B]`,
    `next_state [B, d_s]`."""
    check_shape("state", state, [None, state_dim])
    lead = check_state_action(state, action, state_dim, action_dim)
    check_shape("reward", reward, [lead[0]])
    check_shape("next_state", next_state, [lead[0], state_dim])
    if lead[0] < 1:
        raise ValueError("the batch must hold at least one transition (B >= 1)")


