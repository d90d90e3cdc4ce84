"""Tests for dvg_core/models/world_models/termination.py: `done(s')` against gymnasium v5's own `terminated`.

The agreement tests roll each env out (a) with uniform random actions from its reset states and
(b) from perturbed states: after each reset, `qpos`/`qvel` get Gaussian noise (`_PERTURBATION`,
chosen per task so that 25-75% of those transitions terminate) and a short random-action rollout
follows. Observations are compared in float32, the replay's dtype.
"""

from __future__ import annotations

import gymnasium
import mujoco
import numpy as np
import pytest
import torch

from dvg_core.envs import MUJOCO_TASKS, POINT_MASS_ID, WORKBENCH_ENV_IDS, make_env
from dvg_core.models.world_models.termination import (
    IDP_POLE_LENGTHS,
    OBS_DIMS,
    TERMINATION_FNS,
    TERMINATION_KWARGS,
    inverted_double_pendulum_tip_height,
    termination_fn,
)
from dvg_core.models.world_models import never_terminates

TERMINATING = ("Hopper-v5", "Walker2d-v5", "Ant-v5", "Humanoid-v5", "InvertedDoublePendulum-v5")

# (qpos std, qvel std): reset state + Gaussian noise, then at most _PERTURBED_HORIZON steps
_PERTURBATION = {
    "Hopper-v5": (0.5, 5.0),
    "Walker2d-v5": (1.0, 10.0),
    "Ant-v5": (0.5, 5.0),
    "Humanoid-v5": (1.0, 10.0),
    "InvertedDoublePendulum-v5": (0.5, 5.0),
}
_PERTURBED_HORIZON = 5


def rollouts(
    env_id: str, n: int, *, seed: int, perturbation: tuple[float, float] | None = None,
    horizon: int = 1000,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random-action transitions of `env_id` (noise-free): next observations `[n, d_s]`
    (float32) and the env's `terminated` flags `[n]`; episodes reset on termination, truncation or
    after `horizon` steps, and start from a reset state plus Gaussian `perturbation` noise."""
    env = make_env(env_id, seed=seed)
    sim = env.unwrapped
    rng = np.random.default_rng(seed)
    next_obs, terminated = [], []
    while len(next_obs) < n:
        if perturbation is not None:
            qpos_std, qvel_std = perturbation
            sim.set_state(sim.data.qpos + qpos_std * rng.standard_normal(sim.model.nq),
                          sim.data.qvel + qvel_std * rng.standard_normal(sim.model.nv))
        for _ in range(horizon):
            obs, _, term, trunc, _ = env.step(env.action_space.sample())
            next_obs.append(obs)
            terminated.append(term)
            if term or trunc or len(next_obs) == n:
                break
        env.reset()
    return torch.as_tensor(np.stack(next_obs), dtype=torch.float32), torch.as_tensor(terminated)


def check_agreement(
    env_id: str, next_obs: torch.Tensor, terminated: torch.Tensor, *, min_each: int,
) -> None:
    """Assert >= 99% agreement overall and >= 95% within each class (so a constant answer fails),
    with at least `min_each` transitions of each class; print every disagreement."""
    predicted = termination_fn(env_id)(next_obs)
    wrong = (predicted != terminated).nonzero().flatten()
    n, n_term = len(terminated), int(terminated.sum())
    print(f"{env_id}: {n} transitions, {n_term} terminated, {len(wrong)} disagreements")
    for i in wrong.tolist():
        print(f"  #{i}: env terminated={bool(terminated[i])}, obs[:8]={next_obs[i, :8].tolist()}")
    assert min(n_term, n - n_term) >= min_each, "both classes must be represented"
    assert len(wrong) <= 0.01 * n
    for cls in (True, False):
        assert (predicted[terminated == cls] == cls).float().mean() >= 0.95


@pytest.mark.parametrize("env_id", TERMINATING)
def test_done_agrees_with_env_on_random_rollouts(env_id):
    next_obs, terminated = rollouts(env_id, 5000, seed=0)
    check_agreement(env_id, next_obs, terminated, min_each=10)  # Ant rarely falls: ~0.4%


@pytest.mark.parametrize("env_id", TERMINATING)
def test_done_agrees_with_env_on_perturbed_rollouts(env_id):
    next_obs, terminated = rollouts(env_id, 2500, seed=1, perturbation=_PERTURBATION[env_id],
                                    horizon=_PERTURBED_HORIZON)
    assert 0.25 <= terminated.float().mean() <= 0.75
    check_agreement(env_id, next_obs, terminated, min_each=500)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", TERMINATING)
def test_done_agrees_with_env_on_many_rollouts(env_id):
    check_agreement(env_id, *rollouts(env_id, 10_000, seed=2), min_each=25)
    check_agreement(env_id, *rollouts(env_id, 10_000, seed=2, horizon=_PERTURBED_HORIZON,
                                      perturbation=_PERTURBATION[env_id]), min_each=2000)


@pytest.mark.parametrize("env_id", TERMINATING)
def test_obs_dims_are_the_envs(env_id):
    assert gymnasium.make(env_id).observation_space.shape == (OBS_DIMS[env_id],)


@pytest.mark.parametrize(
    ("env_id", "index", "value", "done"),
    [
        ("Hopper-v5", 0, 0.7, True), ("Hopper-v5", 0, 0.71, False),  # 0.7 < z
        ("Hopper-v5", 1, 0.2, True), ("Hopper-v5", 1, -0.19, False),  # -0.2 < angle < 0.2
        ("Hopper-v5", 7, 100.0, True), ("Hopper-v5", 7, -99.0, False),  # |state| < 100
        ("Walker2d-v5", 0, 2.0, True), ("Walker2d-v5", 0, 0.81, False),  # 0.8 < z < 2
        ("Walker2d-v5", 1, -1.0, True), ("Walker2d-v5", 1, 0.99, False),  # -1 < angle < 1
        ("Ant-v5", 0, 0.2, False), ("Ant-v5", 0, 1.0, False),  # 0.2 <= z <= 1 (closed)
        ("Ant-v5", 0, 0.19, True), ("Ant-v5", 20, float("inf"), True),  # finite state
        ("Ant-v5", 50, float("nan"), False),  # contact forces are not read
        ("Humanoid-v5", 0, 1.0, True), ("Humanoid-v5", 0, 1.99, False),  # 1 < z < 2
        ("Hopper-v5", 0, float("nan"), True),  # NaN fails the healthy check, as in the env
    ],
)
def test_done_thresholds_by_hand(env_id, index, value, done):
    healthy_z = {"Hopper-v5": 1.25, "Walker2d-v5": 1.25, "Ant-v5": 0.55, "Humanoid-v5": 1.4}
    next_obs = torch.zeros(OBS_DIMS[env_id], dtype=torch.float64)
    next_obs[0] = healthy_z[env_id]
    assert not termination_fn(env_id)(next_obs)
    next_obs[index] = value
    assert bool(termination_fn(env_id)(next_obs)) is done


def test_idp_geometry_is_the_models():
    model = gymnasium.make("InvertedDoublePendulum-v5").unwrapped.model
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4  # see the function's docstring
    np.testing.assert_array_equal(model.body("pole").pos, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(model.body("pole2").pos, [0.0, 0.0, IDP_POLE_LENGTHS[0]])
    np.testing.assert_allclose(model.site("tip").pos, [0.0, 0.0, IDP_POLE_LENGTHS[1]])
    np.testing.assert_array_equal(model.jnt_axis[1:], [[0.0, 1.0, 0.0]] * 2)


def test_idp_tip_height_is_mujocos_kinematics():
    env = gymnasium.make("InvertedDoublePendulum-v5")
    env.reset(seed=0)
    sim, rng = env.unwrapped, np.random.default_rng(0)
    heights, obs = [], []
    for _ in range(200):
        sim.set_state(rng.uniform(-np.pi, np.pi, 3), np.zeros(3))  # set_state runs mj_forward
        heights.append(sim.data.site_xpos[0][2])
        obs.append(sim._get_obs())
    y_tip = inverted_double_pendulum_tip_height(torch.as_tensor(np.stack(obs)))
    torch.testing.assert_close(y_tip, torch.as_tensor(heights), rtol=0, atol=1e-12)
    assert inverted_double_pendulum_tip_height(torch.zeros(9)) == 0  # cos = 0: both poles flat
    upright = torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert inverted_double_pendulum_tip_height(upright) == pytest.approx(1.2)


@pytest.mark.parametrize("env_id", WORKBENCH_ENV_IDS)
def test_batched_done_is_bool_and_equals_a_loop_over_rows(env_id):
    d_s = gymnasium.make(env_id).observation_space.shape[0]
    gen = torch.Generator().manual_seed(0)
    next_obs = torch.randn(3, 4, d_s, generator=gen, dtype=torch.float64) * 0.5 + 1.0
    done = termination_fn(env_id)(next_obs)
    assert done.shape == (3, 4) and done.dtype == torch.bool
    rows = torch.stack([termination_fn(env_id)(row) for row in next_obs.reshape(12, d_s)])
    assert torch.equal(done.reshape(12), rows)
    assert termination_fn(env_id)(next_obs[0, 0].float()).shape == ()


def test_registry_covers_every_workbench_env():
    assert set(TERMINATION_FNS) == set(WORKBENCH_ENV_IDS)
    assert set(TERMINATING) | {"HalfCheetah-v5"} == set(MUJOCO_TASKS)
    assert termination_fn("HalfCheetah-v5") is never_terminates
    assert termination_fn(POINT_MASS_ID) is never_terminates


def test_unknown_env_id_raises_naming_it_and_the_allowed():
    with pytest.raises(ValueError, match=r"env_id must be one of .*Hopper-v5.*'Hopper-v4'"):
        termination_fn("Hopper-v4")


def test_env_kwargs_that_change_termination_are_refused():
    with pytest.raises(ValueError, match=r"env_kwargs must not set \['healthy_z_range'\]"):
        termination_fn("Hopper-v5", env_kwargs={"healthy_z_range": (0.5, 2.0), "frame_skip": 4})
    assert "healthy_z_range" in TERMINATION_KWARGS
    assert termination_fn("Hopper-v5", env_kwargs={"ctrl_cost_weight": 0.0}) is not None
    halfcheetah = termination_fn("HalfCheetah-v5", env_kwargs={"xml_file": "x.xml"})
    assert halfcheetah is never_terminates  # never terminates whatever its kwargs


@pytest.mark.parametrize("env_id", TERMINATING)
def test_wrong_observation_size_raises(env_id):
    with pytest.raises(ValueError, match="next_obs must have shape"):
        termination_fn(env_id)(torch.zeros(2, OBS_DIMS[env_id] + 1))
