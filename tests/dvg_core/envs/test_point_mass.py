"""The point-mass toy: gymnasium conventions, determinism, one physics, input validation."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import dvg_core  # noqa: F401  (registers dvg/PointMass-v0)
from dvg_core.envs import POINT_MASS_ID, PointMassDynamics, PointMassNoise, PointMassSpec
from dvg_core.envs.point_mass import point_mass_step, reflect_into_box


@pytest.mark.parametrize("n_locations", [1, 3, 5])
def test_passes_gymnasium_env_checker(n_locations):
    env = gymnasium.make(POINT_MASS_ID, n_locations=n_locations, dynamics_noise=0.05)
    check_env(env.unwrapped, skip_render_check=True)


def test_every_spec_field_is_a_make_kwarg():
    kwargs = dict(n_locations=4, radius=0.8, width=0.2, box=1.5, dt=0.05,
                  dynamics_noise=0.1, horizon=7, init_range=0.2)
    env = gymnasium.make(POINT_MASS_ID, **kwargs)
    assert env.unwrapped.config() == kwargs
    env.reset(seed=0)
    steps = 0
    while True:
        steps += 1
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated
        if truncated:
            break
    assert steps == 7


def _trajectory(seed, n_steps=30, **kwargs):
    env = gymnasium.make(POINT_MASS_ID, **kwargs)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    for _ in range(n_steps):
        obs, reward, *_ = env.step(env.action_space.sample())
        out.append(np.append(obs, reward))
    return np.concatenate(out)


def test_seeded_episodes_are_reproducible():
    a = _trajectory(3, n_locations=3, dynamics_noise=0.1)
    b = _trajectory(3, n_locations=3, dynamics_noise=0.1)
    c = _trajectory(4, n_locations=3, dynamics_noise=0.1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_env_step_equals_torch_step():
    env = gymnasium.make(POINT_MASS_ID, n_locations=3, dynamics_noise=0.1).unwrapped
    spec = env.spec_params
    obs, _ = env.reset(seed=11)
    state = torch.tensor(env._state)
    rng = np.random.default_rng(0)
    for _ in range(40):
        action = rng.uniform(-1, 1, size=2)
        # Replay the env's own draws: copy its generator, then draw as the env will.
        shadow = np.random.Generator(type(env.np_random.bit_generator)())
        shadow.bit_generator.state = env.np_random.bit_generator.state
        location = int(shadow.integers(spec.n_locations))
        gaussian = shadow.standard_normal(2)
        expected_state, expected_reward = point_mass_step(
            spec, state, torch.from_numpy(action),
            PointMassNoise(torch.tensor(location), torch.from_numpy(gaussian)),
        )
        obs, reward, _, _, info = env.step(action.astype(np.float32))
        assert info["location"] == location
        # The env casts the action to float32 before stepping in float64: compare at that precision.
        np.testing.assert_allclose(obs, expected_state.numpy(), atol=1e-6)
        assert reward == pytest.approx(float(expected_reward), abs=1e-6)
        state = torch.tensor(env._state)


def test_reflection_is_identity_inside_and_keeps_unit_gradient_outside():
    x = torch.tensor([-1.9, 0.0, 1.2, 2.3, -2.4, 6.5], dtype=torch.float64, requires_grad=True)
    y = reflect_into_box(x, 2.0)
    torch.testing.assert_close(
        y, torch.tensor([-1.9, 0.0, 1.2, 1.7, -1.6, -1.5], dtype=torch.float64)
    )
    (g,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(g.abs(), torch.ones_like(g))
    assert bool((y.abs() <= 2.0).all())


def test_batched_step_matches_row_by_row_and_keeps_positions_in_the_box():
    spec = PointMassSpec(n_locations=5, dynamics_noise=0.3)
    dyn = PointMassDynamics(spec)
    g = torch.Generator().manual_seed(0)
    state = (torch.rand(4, 6, 2, generator=g) * 4 - 2).double()
    action = (torch.rand(4, 6, 2, generator=g) * 2 - 1).double()
    noise = dyn.sample_noise((4, 6), generator=g, dtype=torch.float64)
    s1, r1 = dyn.step(state, action, noise)
    assert s1.shape == (4, 6, 2) and r1.shape == (4, 6)
    assert bool((s1.abs() <= spec.box).all())
    for i in range(4):
        for j in range(6):
            row = PointMassNoise(noise.location[i, j], noise.gaussian[i, j])
            s_ij, r_ij = dyn.step(state[i, j], action[i, j], row)
            torch.testing.assert_close(s1[i, j], s_ij)
            torch.testing.assert_close(r1[i, j], r_ij)


def test_reward_is_the_bump_around_the_drawn_location():
    spec = PointMassSpec(n_locations=4, radius=1.0, width=0.5)
    goal = spec.locations(dtype=torch.float64)
    torch.testing.assert_close(goal[1], torch.tensor([0.0, 1.0], dtype=torch.float64))
    state = torch.tensor([0.0, 0.9], dtype=torch.float64)
    action = torch.zeros(2, dtype=torch.float64)
    for k in range(4):
        noise = PointMassNoise(torch.tensor(k), torch.zeros(2, dtype=torch.float64))
        _, r = point_mass_step(spec, state, action, noise)
        expected = torch.exp(-((state - goal[k]) ** 2).sum() / (2 * 0.5**2))
        torch.testing.assert_close(r, expected)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("n_locations", 0, "n_locations"),
        ("n_locations", 2.5, "n_locations"),
        ("width", 0.0, "width"),
        ("width", -1.0, "width"),
        ("dt", 0.0, "dt"),
        ("horizon", 0, "horizon"),
        ("dynamics_noise", -0.1, "dynamics_noise"),
        ("radius", 3.0, "radius"),
        ("box", float("nan"), "box"),
        ("init_range", -0.5, "init_range"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(field, value, match):
    with pytest.raises(ValueError, match=match):
        PointMassSpec(**{field: value})
    with pytest.raises(ValueError, match=match):
        gymnasium.make(POINT_MASS_ID, **{field: value})


def test_torch_step_rejects_wrong_shapes():
    spec = PointMassSpec()
    ok_noise = PointMassNoise(torch.zeros(3, dtype=torch.long), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="state"):
        point_mass_step(spec, torch.zeros(3, 3), torch.zeros(3, 2), ok_noise)
    with pytest.raises(ValueError, match="action"):
        point_mass_step(spec, torch.zeros(3, 2), torch.zeros(3, 1), ok_noise)
    with pytest.raises(ValueError, match="leading dims"):
        point_mass_step(spec, torch.zeros(3, 2), torch.zeros(4, 2), ok_noise)
    bad_location = PointMassNoise(torch.zeros(3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="noise.location"):
        point_mass_step(spec, torch.zeros(3, 2), torch.zeros(3, 2), bad_location)
