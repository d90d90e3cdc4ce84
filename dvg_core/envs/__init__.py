"""Environments of the workbench: the point-mass toy, noise wrappers and the env factory.

Importing this package registers `dvg/PointMass-v0` with gymnasium.
"""

from __future__ import annotations

import gymnasium

from dvg_core.envs.point_mass import (
    PointMassDynamics,
    PointMassEnv,
    PointMassNoise,
    PointMassSpec,
    point_mass_step,
)

__all__ = [
    "DEFAULT_DYNAMICS_NOISE",
    "DEFAULT_OBS_NOISE",
    "MUJOCO_TASKS",
    "NOISE_SETTINGS",
    "POINT_MASS_ID",
    "WORKBENCH_ENV_IDS",
    "AdditiveDynamicsNoise",
    "MultiplicativeObservationNoise",
    "PointMassDynamics",
    "PointMassEnv",
    "PointMassNoise",
    "PointMassSpec",
    "default_noise_scale",
    "make_env",
    "point_mass_step",
]

POINT_MASS_ID = "dvg/PointMass-v0"
"""Gymnasium id of the toy; `gymnasium.make(POINT_MASS_ID, n_locations=5, ...)` takes any
`PointMassSpec` field as a kwarg. The env truncates itself after `horizon` steps."""

if POINT_MASS_ID not in gymnasium.registry:
    gymnasium.register(id=POINT_MASS_ID, entry_point="dvg_core.envs.point_mass:PointMassEnv")

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
