"""Networks and models: ensemble-batched layers, the actor, the critics (incl. the head-noise
critic), the observation normaliser and the world models (`dvg_core.models.world_models`)."""

from dvg_core.models.actor import Actor
from dvg_core.models.critics import GenerativeCritic, NoiseDrivenCritic, QuantileCritic, TwinQ
from dvg_core.models.ensemble import ACTIVATIONS, EnsembleLinear, EnsembleMLP, StateInput
from dvg_core.models.head_noise_critic import HeadNoiseCritic
from dvg_core.models.normalization import RunningNormalizer

__all__ = [
    "ACTIVATIONS", "Actor", "EnsembleLinear", "EnsembleMLP", "GenerativeCritic",
    "HeadNoiseCritic", "NoiseDrivenCritic", "QuantileCritic", "RunningNormalizer", "StateInput",
    "TwinQ",
]
