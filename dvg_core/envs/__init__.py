"""Environments of the workbench: the point-mass toy, noise wrappers and the env factory.

Importing this package registers the toy's versions (`dvg/PointMass-v0`, `dvg/PointMass-v1`) with
gymnasium.
"""

from __future__ import annotations

import gymnasium

from dvg_core.envs.point_mass import (
    POINT_MASS_VERSIONS,
    PointMassDynamics,
    PointMassEnv,
    PointMassNoise,
    PointMassSpec,
    point_mass_spec,
    point_mass_step,
)

__all__ = [
    "DEFAULT_DYNAMICS_NOISE",
    "DEFAULT_OBS_NOISE",
    "MUJOCO_TASKS",
    "NOISE_SETTINGS",
    "POINT_MASS_ID",
    "POINT_MASS_IDS",
    "POINT_MASS_V1_ID",
    "POINT_MASS_VERSIONS",
    "WORKBENCH_ENV_IDS",
    "AdditiveDynamicsNoise",
    "MultiplicativeObservationNoise",
    "PointMassDynamics",
    "PointMassEnv",
    "PointMassNoise",
    "PointMassSpec",
    "default_noise_scale",
    "make_env",
    "point_mass_spec",
    "point_mass_step",
]

from dvg_core.names import POINT_MASS_ID, POINT_MASS_IDS, POINT_MASS_V1_ID  # noqa: E402

for _env_id, _defaults in POINT_MASS_VERSIONS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point="dvg_core.envs.point_mass:PointMassEnv",
                           kwargs=dict(_defaults))

# After POINT_MASS_ID and the registration: the factory imports both from this package.
from dvg_core.envs.factory import (  # noqa: E402
    DEFAULT_DYNAMICS_NOISE,
    DEFAULT_OBS_NOISE,
    MUJOCO_TASKS,
    NOISE_SETTINGS,
    WORKBENCH_ENV_IDS,
    default_noise_scale,
    make_env,
)
from dvg_core.envs.noise import AdditiveDynamicsNoise, MultiplicativeObservationNoise  # noqa: E402
