"""Tests for dvg_core/envs/noise.py: the observation- and dynamics-noise wrappers."""

from __future__ import annotations

import warnings

import gymnasium
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dvg_core.envs import POINT_MASS_ID, AdditiveDynamicsNoise, MultiplicativeObservationNoise


def _rollout(env: gymnasium.Env, seed: int, actions: np.ndarray) -> np.ndarray:
    """Observations `[T+1, d_s]` of `env` reset with `seed` and fed `actions` `[T, d_a]`.

    On termination or truncation the env is reset without a seed (continuing the seeded streams).
    """
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for action in actions:
        obs, _, terminated, truncated, _ = env.step(action)
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return np.stack(out)


def _differ(a: np.ndarray, b: np.ndarray) -> bool:
    """True if two rollouts differ (in length, when episodes end at different steps, or values)."""
    return a.shape != b.shape or not np.allclose(a, b)


def _check_env_warnings(env: gymnasium.Env, **kwargs) -> set[str]:
    """The warnings `check_env(env)` gives, less the one it gives for any wrapper."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, **kwargs)
    return {str(w.message) for w in caught if "unwrapped version" not in str(w.message)}


def _actions(env: gymnasium.Env, n: int, seed: int = 0) -> np.ndarray:
    """`n` uniform actions `[n, d_a]` from the env's action box, from a seeded generator."""
    space = env.action_space
    return np.random.default_rng(seed).uniform(space.low, space.high, (n, *space.shape))


# ---------------------------------------------------------------- multiplicative observation noise


def test_obs_noise_factor_lies_in_bounds_elementwise_with_mean_one():
    clean = gymnasium.make(POINT_MASS_ID)
    noisy = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID), low=0.8, high=1.2)
    actions = _actions(clean, 500)
    ratio = _rollout(noisy, 7, actions) / _rollout(clean, 7, actions)  # [T', 2]
    eps = 1e-6  # float32 rounding of the noisy observation
    assert ratio.min() >= 0.8 - eps and ratio.max() <= 1.2 + eps
    n = ratio.size
    uniform_std = 0.4 / np.sqrt(12)
    assert abs(ratio.mean() - 1.0) < 4 * uniform_std / np.sqrt(n)
    assert ratio.std() == pytest.approx(uniform_std, rel=0.1)
    assert abs(np.corrcoef(ratio[:, 0], ratio[:, 1])[0, 1]) < 0.2  # one factor per element
    assert ratio.min() < 0.81 and ratio.max() > 1.19


def test_obs_noise_same_seed_same_sequence_different_seed_different():
    noisy = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID))
    actions = _actions(noisy, 120)
    first = _rollout(noisy, 3, actions)
    again = _rollout(noisy, 3, actions)  # same env, reseeded after use
    fresh = _rollout(MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID)), 3, actions)
    other = _rollout(noisy, 4, actions)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, fresh)
    assert _differ(first, other)


def test_obs_noise_stream_is_not_the_envs_own_stream():
    noisy = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID))
    noisy.reset(seed=0)
    env_draws = np.random.default_rng(0).uniform(size=8)
    assert not np.allclose(noisy.noise_rng.uniform(size=8), env_draws)


def test_obs_noise_unseeded_reset_uses_fresh_entropy():
    a = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID))
    b = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID))
    a.unwrapped.reset(seed=0)  # identical clean states, unseeded wrapper noise
    b.unwrapped.reset(seed=0)
    assert not np.array_equal(a.reset()[0] / b.reset()[0], np.ones(2, np.float32))


def test_obs_noise_widens_bounded_observation_space_and_keeps_infinite_bounds():
    toy = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID, box=2.0), low=0.5, high=1.5)
    np.testing.assert_allclose(toy.observation_space.high, [3.0, 3.0])
    np.testing.assert_allclose(toy.observation_space.low, [-3.0, -3.0])
    assert toy.observation_space.dtype == np.float32
    hopper = MultiplicativeObservationNoise(gymnasium.make("Hopper-v5"))
    assert np.all(np.isinf(hopper.observation_space.high))
    assert np.all(np.isinf(hopper.observation_space.low))


def test_obs_noise_wrapped_toy_passes_check_env_without_warnings():
    env = MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID))
    assert _check_env_warnings(env) == set()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"low": 0.0}, "low"), ({"low": -0.1}, "low"), ({"low": 1.1, "high": 1.0}, "high")],
)
def test_obs_noise_rejects_bad_bounds(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID), **kwargs)


def test_obs_noise_rejects_non_box_observation_space():
    with pytest.raises(ValueError, match="env"):
        MultiplicativeObservationNoise(gymnasium.make("FrozenLake-v1"))


def test_obs_noise_rejects_negative_seed():
    with pytest.raises(ValueError, match="seed"):
        MultiplicativeObservationNoise(gymnasium.make(POINT_MASS_ID)).reset(seed=-1)


# -------------------------------------------------------------------- additive dynamics noise


def _copy_state(source: gymnasium.Env, target: gymnasium.Env) -> None:
    """Copy the full MuJoCo integration state (incl. warm start) of `source` into `target`."""
    src, dst = source.unwrapped, target.unwrapped
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    state = np.empty(mujoco.mj_stateSize(src.model, spec))
    mujoco.mj_getState(src.model, src.data, state, spec)
    mujoco.mj_setState(dst.model, dst.data, state, spec)
    mujoco.mj_forward(dst.model, dst.data)


def test_dynamics_noise_perturbs_qvel_by_std_and_leaves_qpos_and_reward():
    std = 0.3
    noisy = AdditiveDynamicsNoise(gymnasium.make("Hopper-v5"), std=std)
    twin = gymnasium.make("Hopper-v5")  # clean, stepped from the noisy env's exact state
    noisy.reset(seed=0)
    twin.reset(seed=0)
    diffs = []
    for action in _actions(noisy, 300):
        _copy_state(noisy, twin)
        _, reward_clean, *_ = twin.step(action)
        obs, reward, terminated, truncated, _ = noisy.step(action)
        np.testing.assert_array_equal(noisy.unwrapped.data.qpos, twin.unwrapped.data.qpos)
        assert reward == reward_clean  # computed before the perturbation
        np.testing.assert_array_equal(obs, noisy.unwrapped._get_obs())
        np.testing.assert_array_equal(obs[5:], np.clip(noisy.unwrapped.data.qvel, -10, 10))
        diffs.append(noisy.unwrapped.data.qvel - twin.unwrapped.data.qvel)
        if terminated or truncated:
            noisy.reset()
    diffs = np.concatenate(diffs)  # [300 · nv]
    assert diffs.std() == pytest.approx(std, rel=0.1)
    assert abs(diffs.mean()) < 4 * std / np.sqrt(diffs.size)


def _rewards(env: gymnasium.Env, seed: int, actions: np.ndarray) -> np.ndarray:
    """Rewards `[T]` of `env` reset with `seed` and fed `actions`, reset when an episode ends."""
    env.reset(seed=seed)
    out = []
    for action in actions:
        _, reward, terminated, truncated, _ = env.step(action)
        out.append(reward)
        if terminated or truncated:
            env.reset()
    return np.array(out)


@pytest.mark.parametrize("env_id", ["Hopper-v5", "Ant-v5", "Humanoid-v5"])
def test_dynamics_noise_zero_std_is_bitwise_the_noise_free_env(env_id):
    # Ant and Humanoid observe contact forces and com-based quantities derived from the state.
    noisy = AdditiveDynamicsNoise(gymnasium.make(env_id), std=0.0)
    clean = gymnasium.make(env_id)
    actions = _actions(clean, 60)
    np.testing.assert_array_equal(_rollout(noisy, 1, actions), _rollout(clean, 1, actions))
    np.testing.assert_array_equal(_rewards(noisy, 1, actions), _rewards(clean, 1, actions))


def test_dynamics_noise_same_seed_same_sequence_different_seed_different():
    noisy = AdditiveDynamicsNoise(gymnasium.make("Hopper-v5"), std=0.1)
    clean = gymnasium.make("Hopper-v5")
    actions = _actions(noisy, 60)
    first = _rollout(noisy, 5, actions)
    np.testing.assert_array_equal(first, _rollout(noisy, 5, actions))
    np.testing.assert_array_equal(first[0], clean.reset(seed=5)[0])  # reset is not perturbed
    assert _differ(first, _rollout(noisy, 6, actions))
    assert _differ(first, _rollout(clean, 5, actions))


def test_dynamics_noise_wrapped_hopper_passes_check_env_with_no_new_warnings():
    env = AdditiveDynamicsNoise(gymnasium.make("Hopper-v5"), std=0.1)
    wrapped = _check_env_warnings(env, skip_render_check=True)
    # Hopper itself warns that its observation box is unbounded; the wrapper must add nothing.
    bare = _check_env_warnings(gymnasium.make("Hopper-v5").unwrapped, skip_render_check=True)
    assert wrapped <= bare


def test_dynamics_noise_rejects_non_mujoco_env_and_negative_std():
    with pytest.raises(ValueError, match="env must be a gymnasium MuJoCo env"):
        AdditiveDynamicsNoise(gymnasium.make(POINT_MASS_ID), std=0.1)
    with pytest.raises(ValueError, match="std"):
        AdditiveDynamicsNoise(gymnasium.make("Hopper-v5"), std=-0.1)


def test_dynamics_noise_rejects_an_observation_wrapper_inside_it():
    inner = MultiplicativeObservationNoise(gymnasium.make("Hopper-v5"))
    with pytest.raises(ValueError, match="observation wrapper"):
        AdditiveDynamicsNoise(inner, std=0.1)
    outer = MultiplicativeObservationNoise(AdditiveDynamicsNoise(gymnasium.make("Hopper-v5"), 0.1))
    outer.reset(seed=0)
    outer.step(outer.action_space.sample())
