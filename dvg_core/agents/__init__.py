"""Agents: the algorithms' configuration (`config`, its groups in `config_groups`), their
critic-loss strategies (`strategies`),
the replay (`replay`, with `Batch`), the learner contract the trainer drives (`learner`: the
`Learner` Protocol and the update schedule written once), the one agent (`agent`), and its two
learners: one seed eager (`single_seed`) and S seeds stacked for vmap (`seed_stack`)."""

from dvg_core.agents.config import (
    ALGORITHM_VARIANTS,
    ALGORITHMS,
    CRITIC_NOISES,
    FLAT_KEYS,
    PAPER_ALGORITHMS,
    PAPER_SETTINGS,
    SHARED_DRAW_ALGORITHMS,
    ActorConfig,
    AlgorithmConfig,
    CriticConfig,
    DistanceConfig,
    SlicingConfig,
    TargetConfig,
)
from dvg_core.agents.replay import Batch, SeedReplay
from dvg_core.agents.strategies import STRATEGIES, CriticStrategy, Targets, make_strategy
from dvg_core.agents.learner import Learner, UpdateSchedule
from dvg_core.agents.agent import Agent
from dvg_core.agents.seed_stack import SeedStack
from dvg_core.agents.single_seed import SingleSeed, make_learner
from dvg_core.util.updates import gradient_step, soft_update

__all__ = [
    "ALGORITHMS", "ALGORITHM_VARIANTS", "CRITIC_NOISES", "FLAT_KEYS", "PAPER_ALGORITHMS",
    "PAPER_SETTINGS", "SHARED_DRAW_ALGORITHMS", "STRATEGIES", "ActorConfig", "Agent",
    "AlgorithmConfig", "Batch", "CriticConfig", "CriticStrategy", "DistanceConfig", "Learner",
    "SeedReplay", "SeedStack", "SingleSeed", "SlicingConfig", "TargetConfig", "Targets",
    "UpdateSchedule", "gradient_step", "make_learner", "make_strategy", "soft_update",
]
