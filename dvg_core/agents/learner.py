"""The learner contract: what the trainer drives, S >= 1 seeds of one configuration, every
tensor it takes or returns carrying a leading seed dim `[S, ...]`.

Two learners satisfy it (`Learner`), and two must stay, for measured reasons:
* `SingleSeed` (S = 1) runs the plain eager `Agent` on un-stacked tensors. It is the only path
  that runs under `torch.compile` (the compiled losses cannot run inside `vmap` over stacked
  parameters), and the one the golden files pin bit for bit (a vmapped update draws the same
  numbers but batches its kernels, so it agrees only to float rounding).
* `SeedStack` (S >= 1) runs the same single-seed code as one `torch.func.vmap` over stacked
  parameters: S seeds cost far less than S updates on small networks (`workbench bench --seeds`).

What both do is written once, in `UpdateSchedule`, which `Agent` (one seed, no seed dim) and
`SeedStack` (seed dim first) inherit: the TD3 schedule (a critic step; every `policy_delay`-th
critic step an actor step and the target updates), the Polyak updates over the learner's
`(target, online)` tensor lists, and the world-model fit (the model's `fit_loss`, then one
`gradient_step` of its optimiser). What differs is only how a loss is evaluated: the agent's own
modules, or `vmap` over the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.replay import Batch
from dvg_core.util.updates import gradient_step, polyak_update

__all__ = ["Learner", "UpdateSchedule"]

TensorPairs = list[tuple[list[torch.Tensor], list[torch.Tensor]]]


class UpdateSchedule:
    """The update logic shared by `Agent` and `SeedStack` (module docstring).

    A subclass provides `config`, `n_critic_updates`, `update_critic(batch, generator)` (which
    counts itself), `update_actor(batch)`, `target_pairs(actor)`, `model_optimizer` (None
    without a learned world model) and `model_loss(batch) -> (loss, metrics)`; shapes are the
    subclass's own (`[B, ·]` for the agent, `[S, B, ·]` for the stack, losses `[]` or `[S]`).
    """

    config: AlgorithmConfig
    n_critic_updates: int
    model_optimizer: torch.optim.Optimizer | None

    def update_critic(self, batch: Batch, generator: torch.Generator | None = None
                      ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def update_actor(self, batch: Batch) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def target_pairs(self, actor: bool = True) -> TensorPairs:
        """`(target tensors, online tensors)`: the critic's, then (with `actor`) the actor's."""
        raise NotImplementedError

    def model_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def update(self, batch: Batch, generator: torch.Generator | None = None
               ) -> dict[str, torch.Tensor]:
        """A critic step, and every `policy_delay`-th time an actor step and target updates."""
        info = self.update_critic(batch, generator)
        if self.n_critic_updates % self.config.actor.policy_delay == 0:
            info |= self.update_actor(batch)
            self.update_targets()
        return info

    def update_targets(self, *, actor: bool = True) -> None:
        """Polyak-update the target critic (and the target actor unless `actor=False`)."""
        for targets, online in self.target_pairs(actor):
            polyak_update(targets, online, self.config.targets.tau)

    @property
    def fits_model(self) -> bool:
        """Whether there is a learned world model to fit."""
        return self.model_optimizer is not None

    def fit_model(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One world-model step on `batch` (`fit_loss`, then its optimiser's `gradient_step`);
        its detached metrics, `{}` without a learned model."""
        if self.model_optimizer is None:
            return {}
        loss, metrics = self.model_loss(batch)
        gradient_step(self.model_optimizer, loss.sum())  # the seeds' losses are independent
        return metrics


@runtime_checkable
class Learner(Protocol):
    """What `dvg_core.training.Trainer` drives: S seeds, every tensor `[S, ...]` (module
    docstring). A replay batch is `[S, B, ·]`, states `[S, d_s]`, actions `[S, d_a]`, the
    diagnostics of `update` and `fit_model` `{key: [S]}`."""

    config: AlgorithmConfig
    n_seeds: int

    @property
    def device(self) -> torch.device: ...

    @property
    def n_critic_updates(self) -> int: ...

    @property
    def fits_model(self) -> bool: ...

    def update(self, batch: Batch, generator: torch.Generator | None = None
               ) -> dict[str, torch.Tensor]: ...

    def fit_model(self, batch: Batch) -> dict[str, torch.Tensor]: ...

    def act(self, state: torch.Tensor, *, noise_std: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor: ...

    def observe(self, observation: torch.Tensor, include: torch.Tensor | None = None) -> None: ...

    def agent(self, seed_index: int) -> Any:
        """Seed `seed_index`'s `Agent`, its networks up to date (for evaluation)."""
        ...

    def seed_state_dict(self, seed_index: int) -> dict[str, Any]:
        """Seed `seed_index`'s `Agent.checkpoint_state()` format (a checkpoint's `agent`)."""
        ...

    def load_seed_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every seed from its `seed_state_dict` (one per seed, in order)."""
        ...
