"""Agents: the algorithms' configuration (`config`), their critic-loss strategies (`strategies`),
the replay (`replay`, with `Batch`), the one agent (`agent`) and S seeds of it stacked for vmap
(`seed_stack`)."""

from dvg_core.agents.config import (
    ALGORITHM_VARIANTS,
    ALGORITHMS,
    CRITIC_NOISES,
    PAPER_ALGORITHMS,
    PAPER_SETTINGS,
    SHARED_DRAW_ALGORITHMS,
    AlgorithmConfig,
    SlicingConfig,
)
from dvg_core.agents.replay import Batch, ReplayBuffer, SeedReplay
from dvg_core.agents.strategies import STRATEGIES, CriticStrategy, Targets, make_strategy
from dvg_core.agents.agent import Agent, gradient_step, soft_update
from dvg_core.agents.seed_stack import SeedStack
from dvg_core.agents.single_seed import SingleSeed, make_learner

__all__ = [
    "ALGORITHMS", "ALGORITHM_VARIANTS", "CRITIC_NOISES", "PAPER_ALGORITHMS", "PAPER_SETTINGS", "SHARED_DRAW_ALGORITHMS", "STRATEGIES", "Agent",
    "AlgorithmConfig", "Batch", "CriticStrategy", "ReplayBuffer", "SeedReplay", "SeedStack", "SingleSeed", "SlicingConfig",
    "Targets", "gradient_step", "make_learner", "make_strategy", "soft_update",
]
