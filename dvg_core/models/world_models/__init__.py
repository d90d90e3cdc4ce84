"""One-step stochastic world models `(s, a, noise) -> (s', r, done)`, reparameterised in `(s, a)`
(the protocol and its four models: `base`, `oracle`, `cvae`, `gaussian_ensemble`, `flow`), and the
termination functions of the learned models (`termination`)."""

from dvg_core.models.world_models.base import TerminatedFn, WorldModel, never_terminates
from dvg_core.models.world_models.cvae import CVAEWorldModel
from dvg_core.models.world_models.flow import FlowWorldModel
from dvg_core.models.world_models.gaussian_ensemble import EnsembleNoise, GaussianEnsembleWorldModel
from dvg_core.models.world_models.learned import diag_gaussian_kl
from dvg_core.models.world_models.oracle import OracleWorldModel
from dvg_core.models.normalization import RunningNormalizer

__all__ = [
    "CVAEWorldModel", "EnsembleNoise", "FlowWorldModel", "GaussianEnsembleWorldModel",
    "OracleWorldModel",
    "RunningNormalizer", "TerminatedFn", "WorldModel", "diag_gaussian_kl", "never_terminates",
]
