"""Tests for dvg_core/envs/factory.py: `make_env` under the three noise settings."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from dvg_core.envs import (
    DEFAULT_DYNAMICS_NOISE,
    MUJOCO_TASKS,
    NOISE_SETTINGS,
    POINT_MASS_ID,
    POINT_MASS_IDS,
    AdditiveDynamicsNoise,
    MultiplicativeObservationNoise,
    default_noise_scale,
    make_env,
)


def _smoke(env: gymnasium.Env, n_steps: int = 5) -> np.ndarray:
    """Reset and step `env` with sampled actions, checking the API; observations `[T+1, d_s]`."""
    obs, _ = env.reset()
    out = [obs]
    for _ in range(n_steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert obs in env.observation_space
        assert np.isfinite(reward)
        out.append(obs)
        if terminated or truncated:
            out.append(env.reset()[0])
    return np.stack(out)


@pytest.mark.parametrize("noise", NOISE_SETTINGS)
@pytest.mark.parametrize("env_id", [POINT_MASS_ID, "Hopper-v5", "HalfCheetah-v5"])
def test_make_env_makes_resets_and_steps(env_id, noise):
    env = make_env(env_id, noise=noise, seed=0)
    assert env.spec.id == env_id
    _smoke(env)


@pytest.mark.parametrize("env_id", [POINT_MASS_ID, "Hopper-v5"])
def test_make_env_wraps_each_setting_with_its_noise(env_id):
    assert not isinstance(make_env(env_id), (MultiplicativeObservationNoise, AdditiveDynamicsNoise))
    obs = make_env(env_id, noise="obs")
    assert isinstance(obs, MultiplicativeObservationNoise)
    assert (obs.low, obs.high) == pytest.approx((0.8, 1.2))  # the paper's U[0.8, 1.2]
    narrow = make_env(env_id, noise="obs", noise_scale=0.1)
    assert (narrow.low, narrow.high) == pytest.approx((0.9, 1.1))


def test_make_env_toy_dynamics_noise_is_the_toys_own_kwarg():
    env = make_env(POINT_MASS_ID, noise="dynamics")
    assert not isinstance(env, AdditiveDynamicsNoise)
    assert env.unwrapped.spec_params.dynamics_noise == DEFAULT_DYNAMICS_NOISE[POINT_MASS_ID] == 0.05
    env = make_env(POINT_MASS_ID, noise="dynamics", noise_scale=0.2, n_locations=5)
    assert env.unwrapped.spec_params.dynamics_noise == 0.2
    assert env.unwrapped.spec_params.n_locations == 5
    assert make_env(POINT_MASS_ID).unwrapped.spec_params.dynamics_noise == 0.0


def test_make_env_mujoco_dynamics_noise_wraps_with_given_or_default_std():
    env = make_env("Hopper-v5", noise="dynamics")
    assert isinstance(env, AdditiveDynamicsNoise)
    assert env.std == DEFAULT_DYNAMICS_NOISE["Hopper-v5"]
    assert make_env("Hopper-v5", noise="dynamics", noise_scale=0.3).std == 0.3


@pytest.mark.parametrize("noise", NOISE_SETTINGS)
@pytest.mark.parametrize("env_id", [POINT_MASS_ID, "Hopper-v5"])
def test_make_env_same_seed_reproduces_different_seed_differs(env_id, noise):
    first = _smoke(make_env(env_id, noise=noise, seed=11), n_steps=20)
    again = _smoke(make_env(env_id, noise=noise, seed=11), n_steps=20)
    other = _smoke(make_env(env_id, noise=noise, seed=12), n_steps=20)
    np.testing.assert_array_equal(first, again)
    assert first.shape != other.shape or not np.allclose(first, other)


def test_default_noise_scale_per_setting():
    assert default_noise_scale("Ant-v5", "none") is None
    assert default_noise_scale("Ant-v5", "obs") == 0.2
    assert default_noise_scale(POINT_MASS_ID, "obs") == 0.2
    assert default_noise_scale("Ant-v5", "dynamics") == 0.15
    assert default_noise_scale("HalfCheetah-v5", "dynamics") == 0.32
    assert default_noise_scale(POINT_MASS_ID, "dynamics") == 0.05
    assert set(DEFAULT_DYNAMICS_NOISE) == {*POINT_MASS_IDS, *MUJOCO_TASKS}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"env_id": "CartPole-v1"}, "env_id"),
        ({"env_id": "Hopper-v4"}, "env_id"),
        ({"env_id": "Hopper-v5", "noise": "action"}, "noise"),
        ({"env_id": "Hopper-v5", "noise": "dynamics", "noise_scale": -0.1}, "noise_scale"),
        ({"env_id": "Hopper-v5", "noise": "obs", "noise_scale": 1.0}, "noise_scale"),
        ({"env_id": "Hopper-v5", "noise": "obs", "noise_scale": float("nan")}, "noise_scale"),
        ({"env_id": "Hopper-v5", "noise": "none", "noise_scale": 0.1}, "noise_scale"),
        ({"env_id": "Hopper-v5", "seed": -1}, "seed"),
        ({"env_id": "Hopper-v5", "seed": 1.5}, "seed"),
        ({"env_id": POINT_MASS_ID, "dynamics_noise": 0.1}, "dynamics_noise"),
    ],
)
def test_make_env_rejects_bad_input_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_env(**kwargs)


def test_make_env_error_lists_the_allowed_env_ids():
    with pytest.raises(ValueError) as info:
        make_env("Swimmer-v5")
    for env_id in (POINT_MASS_ID, *MUJOCO_TASKS):
        assert env_id in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize("noise", NOISE_SETTINGS)
@pytest.mark.parametrize("env_id", MUJOCO_TASKS)
def test_make_env_every_mujoco_task_under_every_setting(env_id, noise):
    """Makes, resets and steps; the same seed reproduces the trajectory, noise included."""
    first = _smoke(make_env(env_id, noise=noise, seed=0), n_steps=5)
    again = _smoke(make_env(env_id, noise=noise, seed=0), n_steps=5)
    other = _smoke(make_env(env_id, noise=noise, seed=1), n_steps=5)
    np.testing.assert_array_equal(first, again)
    assert first.shape != other.shape or not np.allclose(first, other)
