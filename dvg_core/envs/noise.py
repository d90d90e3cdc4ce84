"""Noise wrappers for the paper's two noisy settings: observation noise and dynamics noise.

Source: paper-notes §4.2. The paper evaluates every MuJoCo task noise-free, under
"multiplicative observation noise U[0.8, 1.2]" and under "additive Gaussian dynamics noise"
(scale and injection point not recovered).

Seeding (both wrappers): the noise is drawn from the wrapper's own generator, `self.noise_rng`,
not from the env's `np_random`. `reset(seed=s)` reseeds it with
`np.random.default_rng(np.random.SeedSequence([s, TAG]))`, `TAG` a per-wrapper constant, so the
noise stream is reproducible per seed yet not a copy of the env's own stream (which is seeded
from `SeedSequence(s)`); `reset()` without a seed keeps drawing from the current stream; before
any seeded reset the generator is seeded from fresh OS entropy. The env's `np_random` is never
touched, so a noisy and a clean env reset with the same seed and fed the same actions see the same
underlying randomness (initial state, reward draws).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from dvg_core.util.validation import check_int_at_least, check_nonnegative, check_positive

__all__ = ["AdditiveDynamicsNoise", "MultiplicativeObservationNoise"]

_OBS_NOISE_TAG = 0x0B5_0015E
_DYNAMICS_NOISE_TAG = 0xD1A_0015E


def _reseeded(rng: np.random.Generator, seed: int | None, tag: int) -> np.random.Generator:
    """`rng` itself if `seed` is None, else a fresh generator seeded from `[seed, tag]`."""
    if seed is None:
        return rng
    check_int_at_least("seed", seed, 0)
    return np.random.default_rng(np.random.SeedSequence([seed, tag]))


def _scaled_box(space: gymnasium.spaces.Box, low: float, high: float) -> gymnasium.spaces.Box:
    """The smallest Box holding `n ⊙ x` for every `x` in `space` and `n` in `[low, high]^d`."""
    lo = np.minimum(space.low.astype(np.float64) * low, space.low.astype(np.float64) * high)
    hi = np.maximum(space.high.astype(np.float64) * low, space.high.astype(np.float64) * high)
    return gymnasium.spaces.Box(lo.astype(space.dtype), hi.astype(space.dtype), dtype=space.dtype)


def _check_no_observation_wrapper(env: gymnasium.Env) -> None:
    """Raise if any wrapper between `env` and `env.unwrapped` transforms observations."""
    inner = env
    while isinstance(inner, gymnasium.Wrapper):
        if isinstance(inner, gymnasium.ObservationWrapper):
            raise ValueError(
                f"env must not contain an observation wrapper, got {type(inner).__name__}; "
                "apply observation wrappers outside AdditiveDynamicsNoise"
            )
        inner = inner.env


class MultiplicativeObservationNoise(
    gymnasium.ObservationWrapper, gymnasium.utils.RecordConstructorArgs
):
    """Multiply every observation element-wise by independent factors `n ~ U[low, high]`.

    Source: paper-notes §4.2, "multiplicative observation noise U[0.8, 1.2]"; element-wise
    (`o = n ⊙ s`, a fresh `n` per element, per step and at reset) is a GUESS the notes flag.
    Only what the agent sees changes; the env's state and reward are untouched. The observation
    space is widened to hold every noisy observation (a bound `b` becomes `b·high` or `b·low`,
    whichever is further out; infinite bounds stay infinite). Noise comes from `self.noise_rng`,
    seeded as the module docstring describes.

    Args:
      env: an env with a `Box` observation space of any shape `[d_s]`.
      low: smallest factor, > 0.
      high: largest factor, >= `low`.
    """

    def __init__(self, env: gymnasium.Env, low: float = 0.8, high: float = 1.2) -> None:
        check_positive("low", low)
        check_positive("high", high)
        if high < low:
            raise ValueError(f"high must be >= low (= {low!r}), got {high!r}")
        if not isinstance(env.observation_space, gymnasium.spaces.Box):
            raise ValueError(
                f"env must have a Box observation space, got {env.observation_space!r}"
            )
        gymnasium.utils.RecordConstructorArgs.__init__(self, low=low, high=high)
        gymnasium.ObservationWrapper.__init__(self, env)
        self.low = float(low)
        self.high = float(high)
        self.observation_space = _scaled_box(env.observation_space, self.low, self.high)
        self.noise_rng: np.random.Generator = np.random.default_rng()
        """Generator the noise factors are drawn from; reseeded by `reset(seed=...)`."""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env, reseeding `noise_rng` if `seed` is given; the first obs is noisy too."""
        self.noise_rng = _reseeded(self.noise_rng, seed, _OBS_NOISE_TAG)
        return super().reset(seed=seed, options=options)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """`n ⊙ observation` with fresh `n ~ U[low, high]` per element, in the space's dtype."""
        factor = self.noise_rng.uniform(self.low, self.high, size=np.shape(observation))
        return (observation * factor).astype(self.observation_space.dtype)


class AdditiveDynamicsNoise(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Additive Gaussian transition noise for MuJoCo envs: `qvel += std · N(0, I)` after each step.

    Source: paper-notes §4.2, "additive Gaussian dynamics noise"; where it is injected and its
    scale were not recovered, so the following is a GUESS:

    * After the inner `env.step(a)` the joint velocities are perturbed in place,
      `data.qvel += std·ε`, `ε ~ N(0, I_nv)` from `self.noise_rng`, and the observation is
      recomputed with `unwrapped._get_obs()` (a private but stable method of every gymnasium v5
      MuJoCo env). The velocity entries of that observation carry the noise at once.
    * Velocities, not positions, and after the step: this is a true transition noise on `s'` given
      `(s, a)`; the step's positions, termination and health checks are left intact, and the next
      step integrates the perturbed velocity (`mj_step` starts with `mj_forward` from `qpos`,
      `qvel`), so the noise propagates into the positions through the physics. `std` is in `qvel`
      units (m/s or rad/s per generalised coordinate).
    * No `set_state` / `mj_forward` after the write: the derived quantities some observations hold
      (Humanoid's `cinert`, `cvel`, `qfrc_actuator`, `cfrc_ext`; Ant's `cfrc_ext`) stay as the env's
      own step left them, so `std = 0` is bitwise the noise-free env. Measured with `set_state`
      instead: at `std = 0` Humanoid's observation differed in 195 entries and Ant's contact forces
      by up to 0.5, with contact-cost rewards differing by up to 2e-3, although `qpos`, `qvel`
      matched exactly. The perturbation reaches those derived entries at the next step.
    * The reward, `terminated` and `info` of the step were computed by the env before the
      perturbation, from the unperturbed state; only the returned observation (and the state the
      next step starts from) carry the noise.

    The observation it returns is the raw `_get_obs()`, so it must sit directly around the made
    env: an `ObservationWrapper` inside it would be bypassed and is rejected (put observation
    wrappers outside). Non-MuJoCo envs are rejected: they must model their own dynamics noise (the
    point-mass toy has its `dynamics_noise` kwarg, reparameterised so its differentiable simulator
    sees it too). Noise comes from `self.noise_rng`, seeded as the module docstring describes.

    Args:
      env: an env whose `unwrapped` is a gymnasium `MujocoEnv`.
      std: standard deviation of the velocity noise, >= 0.
    """

    def __init__(self, env: gymnasium.Env, std: float) -> None:
        check_nonnegative("std", std)
        if not isinstance(env.unwrapped, MujocoEnv):
            raise ValueError(
                f"env must be a gymnasium MuJoCo env, got {type(env.unwrapped).__name__}; "
                "an env that is not MuJoCo must implement its own dynamics noise "
                "(the point-mass toy: its dynamics_noise kwarg)"
            )
        _check_no_observation_wrapper(env)
        gymnasium.utils.RecordConstructorArgs.__init__(self, std=std)
        gymnasium.Wrapper.__init__(self, env)
        self.std = float(std)
        self.noise_rng: np.random.Generator = np.random.default_rng()
        """Generator the velocity noise is drawn from; reseeded by `reset(seed=...)`."""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env, reseeding `noise_rng` if `seed` is given; the initial state is clean."""
        self.noise_rng = _reseeded(self.noise_rng, seed, _DYNAMICS_NOISE_TAG)
        return self.env.reset(seed=seed, options=options)

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env, perturb `qvel`, and return the observation of the perturbed state."""
        _, reward, terminated, truncated, info = self.env.step(action)
        sim = self.env.unwrapped
        sim.data.qvel[:] += self.std * self.noise_rng.standard_normal(sim.model.nv)
        return sim._get_obs(), reward, terminated, truncated, info
