"""What every critic strategy is: `CriticStrategy` (the interface the shared agent calls) and
`Targets` (what a critic loss bootstraps from). The strategies are in
`dvg_core.agents.strategies` (twin-Q and quantile) and `dvg_core.agents.generative_strategies`.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.replay import Batch

__all__ = ["CriticStrategy", "Targets"]


class Targets(NamedTuple):
    """What a critic loss bootstraps from: target actor, target critic, world model."""

    actor: nn.Module
    critic: nn.Module
    world_model: Any


class CriticStrategy:
    """Base of the strategies; see `dvg_core.agents.strategies`."""

    name: ClassVar[str]
    uses_world_model: ClassVar[bool] = True
    """Whether the critic loss bootstraps through the world model (td3's does not)."""
    stacks_seeds: ClassVar[bool] = True
    """Whether S seeds updated as one vmapped `SeedStack` cost less than S separate updates at
    the toy's sizes (64-64, batch 64, one thread). The twin-Q and quantile critics' tensors are
    small, so stacking turns many small ops into few larger ones and pays (td3 2.15x, mage 2.25x,
    iqn 1.19x for 5 seeds, idle); a generative critic's `[2, B, M, ...]` samples already fill the
    cache, so 5 stacked seeds run at 0.85-0.98x of 5 separate updates (`python -m workbench bench
    --problems toy --hidden 64,64 --batch-size 64 --threads 1 --seeds 5`, docs/lab/speed.md). A seed
    group (`reproduce --vectorize-seeds`) trains its seeds one after another when this is False."""
    compile_pays: ClassVar[bool] = False
    """Whether the compiled update (`loop.compile`) is measured faster than eager at the toy's
    sizes, compile time included, so that `reproduce --compile` compiles this algorithm's cells
    (docs/guide/speed.md, "A compiled update")."""

    def __init__(self, config: AlgorithmConfig, state_dim: int, action_dim: int) -> None:
        self.config, self.state_dim, self.action_dim = config, state_dim, action_dim

    def build_critic(self) -> nn.Module:
        """A fresh critic with two members."""
        raise NotImplementedError

    def critic_loss(
        self, critic: nn.Module, targets: Targets, batch: Batch, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-state loss `[B]` (summed over critic members) and detached diagnostics."""
        raise NotImplementedError

    def actor_value(self, critic: nn.Module, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The value the actor ascends at `(s, π(s))`: `[B]`."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Strategy state for checkpoints (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore `state_dict()`."""

    def _target_kwargs(self, generator: torch.Generator | None) -> dict[str, Any]:
        c = self.config
        return dict(gamma=c.gamma, policy_noise=c.smoothing, noise_clip=c.targets.noise_clip,
                    generator=generator)
