"""`make_env`: every environment of the workbench under each of the paper's three noise settings.

Source: paper-notes §4.2 (six MuJoCo tasks; noise-free, multiplicative observation noise
U[0.8, 1.2], additive Gaussian dynamics noise) and §4.1 (the point-mass toy). The paper used the
v2 tasks; we use gymnasium's v5 versions, the ones maintained for mujoco >= 3.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from dvg_core.names import ENV_IDS, MUJOCO_TASKS, NOISE_SETTINGS, POINT_MASS_IDS
from dvg_core.envs.noise import AdditiveDynamicsNoise, MultiplicativeObservationNoise
from dvg_core.util.validation import check_choice, check_int_at_least, check_nonnegative, check_range

__all__ = [
    "DEFAULT_DYNAMICS_NOISE",
    "DYNAMICS_NOISE_FRACTION",
    "VELOCITY_CHANGE_RMS",
    "DEFAULT_OBS_NOISE",
    "MUJOCO_TASKS",
    "NOISE_SETTINGS",
    "WORKBENCH_ENV_IDS",
    "default_noise_scale",
    "make_env",
]

WORKBENCH_ENV_IDS = ENV_IDS
"""Every env id `make_env` accepts: the toy and the six MuJoCo tasks (`dvg_core.names.ENV_IDS`)."""

DEFAULT_OBS_NOISE = 0.2
"""Half-width `h` of the observation-noise factor `U[1-h, 1+h]`; 0.2 is the paper's U[0.8, 1.2]."""

VELOCITY_CHANGE_RMS: dict[str, float] = {
    "Ant-v5": 3.666,
    "Humanoid-v5": 3.969,
    "Walker2d-v5": 5.403,
    "Hopper-v5": 0.632,
    "HalfCheetah-v5": 7.997,
    "InvertedDoublePendulum-v5": 2.004,
}
"""Root-mean-square per-step change of `qvel` under uniformly random actions (3000 steps, seed 0;
`workbench.train.noise_sweep.velocity_change_rms`, which a test re-measures): each task's own scale."""

DYNAMICS_NOISE_FRACTION = 0.04
"""A MuJoCo task's default dynamics-noise std, as a fraction of its `VELOCITY_CHANGE_RMS`.

Calibrated on noise-free-trained TD3 policies (`workbench.train.noise_sweep.noise_sweep`, issue 8): at
this fraction HalfCheetah's (std 0.32; at 0.3 a 2250-return policy kept 70%, at 0.64 it went
negative) and Hopper's (std 0.025; a 460-return policy kept 66%, at 0.05 33%) lose about a third
of their return: a visible hurt, while the task stays learnable (the noise-free policy itself
still earns most of its return). The other four tasks take the same fraction of their own scale
(GUESS: not calibrated on trained policies)."""

DEFAULT_DYNAMICS_NOISE: dict[str, float] = {
    **{env_id: 0.05 for env_id in POINT_MASS_IDS},
    **{task: float(f"{DYNAMICS_NOISE_FRACTION * rms:.2g}")
       for task, rms in VELOCITY_CHANGE_RMS.items()},
}
"""Default dynamics-noise std per env id. The toy's is the std of its position noise (its
`dynamics_noise`, half its per-step displacement `dt·|a| <= 0.1`; GUESS); a MuJoCo task's is the
std of the Gaussian added to `qvel` (`AdditiveDynamicsNoise`), `DYNAMICS_NOISE_FRACTION` of its
`VELOCITY_CHANGE_RMS` to 2 significant digits: Ant 0.15, Humanoid 0.16, Walker2d 0.22,
Hopper 0.025, HalfCheetah 0.32, InvertedDoublePendulum 0.08."""


def default_noise_scale(env_id: str, noise: str) -> float | None:
    """The scale `make_env` uses when `noise_scale` is None (None for `noise="none"`)."""
    check_choice("env_id", env_id, WORKBENCH_ENV_IDS)
    check_choice("noise", noise, NOISE_SETTINGS)
    return _noise_scale(env_id, noise, None)


def _noise_scale(env_id: str, noise: str, noise_scale: float | None) -> float | None:
    """`noise_scale`, or the default of `env_id` under `noise` where it is None (no checks: the
    callers check `env_id`, `noise` and `noise_scale`)."""
    if noise_scale is not None:
        return noise_scale
    if noise == "obs":
        return DEFAULT_OBS_NOISE
    return DEFAULT_DYNAMICS_NOISE.get(env_id) if noise == "dynamics" else None


def _check_noise_scale(noise: str, noise_scale: float | None) -> None:
    """Reject a scale that the noise setting cannot use."""
    if noise_scale is None:
        return
    if noise == "none":
        raise ValueError(f"noise_scale must be None when noise='none', got {noise_scale!r}")
    check_nonnegative("noise_scale", noise_scale)
    if noise == "obs":  # the factor U[1-h, 1+h] must stay positive
        check_range("noise_scale", noise_scale, 0.0, 1.0, high_closed=False)


def make_env(
    env_id: str,
    *,
    noise: str = "none",
    noise_scale: float | None = None,
    seed: int | None = None,
    **env_kwargs: Any,
) -> gymnasium.Env:
    """Build a workbench env under one noise setting; nothing else (no normalisation).

    * `"none"`: `gymnasium.make(env_id, **env_kwargs)` as is.
    * `"obs"`: wrapped in `MultiplicativeObservationNoise(low=1-h, high=1+h)`, `h = noise_scale`
      (default 0.2, the paper's U[0.8, 1.2]).
    * `"dynamics"`: the toy gets `dynamics_noise=noise_scale` (its own reparameterised position
      noise, which its differentiable simulator sees too); a MuJoCo task is wrapped in
      `AdditiveDynamicsNoise(std=noise_scale)`. Defaults: `DEFAULT_DYNAMICS_NOISE`.

    Args:
      env_id: one of `WORKBENCH_ENV_IDS` (only the workbench's envs, so every run is comparable).
      noise: one of `NOISE_SETTINGS`.
      noise_scale: the setting's scale, >= 0 (< 1 for `"obs"`); must be None for `"none"`;
        None takes `default_noise_scale(env_id, noise)`.
      seed: if given (int >= 0), the env is reset once with `reset(seed=seed)` and the action space
        is seeded with it, so the env and its noise are reproducible; a later `reset()` without a
        seed continues the seeded streams.
      **env_kwargs: passed to `gymnasium.make` (e.g. `PointMassSpec` fields, `max_episode_steps`).
        The toy's `dynamics_noise` is refused here: set it through `noise="dynamics"`.

    Returns:
      the env, wrapped as above.
    """
    scale = _noise_scale(env_id, noise, noise_scale)  # used once env_id and noise pass:
    check_choice("env_id", env_id, WORKBENCH_ENV_IDS)
    check_choice("noise", noise, NOISE_SETTINGS)
    _check_noise_scale(noise, noise_scale)
    if seed is not None:
        check_int_at_least("seed", seed, 0)
    if env_id in POINT_MASS_IDS and "dynamics_noise" in env_kwargs:
        raise ValueError(
            "dynamics_noise must not be passed in env_kwargs; use noise='dynamics', noise_scale=..."
        )

    if noise == "dynamics" and env_id in POINT_MASS_IDS:
        env = gymnasium.make(env_id, dynamics_noise=scale, **env_kwargs)
    else:
        env = gymnasium.make(env_id, **env_kwargs)
    if noise == "obs":
        env = MultiplicativeObservationNoise(env, low=1.0 - scale, high=1.0 + scale)
    elif noise == "dynamics" and env_id not in POINT_MASS_IDS:
        env = AdditiveDynamicsNoise(env, std=scale)

    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env
