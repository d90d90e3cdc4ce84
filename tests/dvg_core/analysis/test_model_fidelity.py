"""World-model fidelity against closed forms: a linear-Gaussian model whose pathwise derivatives
are known, a two-mode reward whose continuous reparameterisation adds a known spurious term to
the pathwise derivative, and the simulator against itself (zero error within Monte-Carlo error)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dvg_core.analysis.model_fidelity import (
    MODEL_METRICS, TARGET_METRICS, between_modes, model_metrics, relative_error, target_metrics,
    transition_draws, truth_scale,
)
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.critics import GenerativeCritic
from dvg_core.models.actor import Actor
from dvg_core.models.world_models import OracleWorldModel
from dvg_core.losses.sobolev import sobolev_targets


class LinearGaussian(nn.Module):
    """`s' = s + A a + σ ε_s`, `r = c·a + σ ε_r`: pathwise `∂s'/∂a = A`, `∂r/∂a = c`."""

    state_dim = action_dim = 2

    def __init__(self, a_matrix, c, sigma=0.1):
        super().__init__()
        self.a_matrix, self.c, self.sigma = torch.as_tensor(a_matrix), torch.as_tensor(c), sigma

    def sample_noise(self, shape, *, generator=None):
        return torch.randn((*shape, 3), generator=generator)

    def sample(self, state, action, noise):
        next_state = state + action @ self.a_matrix.T + self.sigma * noise[..., :2]
        reward = action @ self.c + self.sigma * noise[..., 2]
        return next_state, reward, torch.zeros_like(reward)


class TwoModes(nn.Module):
    """`r = a₀ + m` with a mode `m ∈ {0, 1}` w.p. ½ each, `s' = s + a`.

    `ramp = 0` draws the mode from a uniform noise `v`, `m = 1[v ≥ ½]` (the truth: `∂r/∂a =
    (1, 0)` on every draw). `ramp = τ > 0` is a continuous reparameterisation of nearly the same
    law whose mapping from noise to mode moves with the action: `u = frac(v + θ a₀)` (uniform for
    every action), `m = clamp((u - ½) / τ + ½, 0, 1)`. The law only blurs a τ-fraction of draws
    between the modes, but on those draws the pathwise derivative gains `∂m/∂a₀ = θ / τ`, so its
    mean is `1 + θ` instead of 1: the compensating term sits on the jump where `u` wraps from 1
    to 0, which no pathwise derivative sees.
    """

    state_dim = action_dim = 2

    def __init__(self, ramp=0.0, theta=0.0):
        super().__init__()
        self.ramp, self.theta = ramp, theta

    def sample_noise(self, shape, *, generator=None):
        return torch.rand(shape, generator=generator, dtype=torch.float64)

    def sample(self, state, action, noise):
        if self.ramp == 0.0:
            mode = (noise >= 0.5).to(action.dtype)
        else:
            u = torch.remainder(noise + self.theta * action[..., 0], 1.0)
            mode = ((u - 0.5) / self.ramp + 0.5).clamp(0, 1)
        reward = action[..., 0] + mode
        return state + action, reward, torch.zeros_like(reward)


def _pairs(n=8, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return ((torch.rand(n, 2, generator=g, dtype=dtype) - 0.5),
            (torch.rand(n, 2, generator=g, dtype=dtype) - 0.5))


def test_transition_draws_give_the_linear_models_pathwise_jacobian_on_every_draw():
    a_matrix, c = torch.tensor([[0.1, 0.02], [-0.03, 0.2]]), torch.tensor([0.5, -1.0])
    state, action = _pairs()
    values, jacobian = transition_draws(LinearGaussian(a_matrix, c), state, action, n_draws=5)
    assert values.shape == (8, 5, 3) and jacobian.shape == (8, 5, 3, 2)
    want = torch.cat([a_matrix, c[None]], 0).expand(8, 5, 3, 2)
    torch.testing.assert_close(jacobian, want)
    assert not values.requires_grad and not jacobian.requires_grad


def test_gradient_errors_of_a_linear_model_are_its_relative_matrix_errors():
    a_matrix, c = torch.tensor([[0.1, 0.0], [0.0, 0.1]]), torch.tensor([0.5, -1.0])
    wrong_a, wrong_c = a_matrix * 1.3, c + torch.tensor([0.2, 0.1])
    state, action = _pairs()
    got = model_metrics(LinearGaussian(wrong_a, wrong_c), LinearGaussian(a_matrix, c), state,
                        action, n_draws=64, generator=torch.Generator().manual_seed(1))
    assert set(got) == set(MODEL_METRICS)
    assert got["state_gradient_error"] == pytest.approx(0.3, rel=1e-5)
    assert got["reward_gradient_error"] == pytest.approx(
        float((wrong_c - c).norm() / c.norm()), rel=1e-5)


def test_relative_error_is_zero_when_exact_and_one_for_zero():
    truth = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    assert relative_error(truth, truth) == 0.0
    assert relative_error(torch.zeros_like(truth), truth) == pytest.approx(1.0)
    assert relative_error(2 * truth, truth) == pytest.approx(1.0)


def test_truth_scale_is_the_std_or_a_tenth_of_a_fixed_coordinates_magnitude():
    truth = torch.stack([torch.randn(4, 500, generator=torch.Generator().manual_seed(0)),
                         torch.full((4, 500), 0.1)], -1)
    scale = truth_scale(truth)
    assert scale[0] == pytest.approx(1.0, abs=0.05)
    assert scale[1] == pytest.approx(0.01)


def test_a_moving_reparameterisation_keeps_the_law_and_adds_the_known_spurious_derivative():
    state, action = _pairs(6, dtype=torch.float64)
    ramp, theta = 0.1, 0.5
    model, truth = TwoModes(ramp, theta), TwoModes()
    values, jacobian = transition_draws(model, state, action, n_draws=4000,
                                        generator=torch.Generator().manual_seed(3))
    spurious = jacobian[..., -1, 0] - 1  # ∂r/∂a₀ per draw, less the truth's 1
    in_ramp = spurious != 0
    torch.testing.assert_close(spurious[in_ramp], torch.full_like(spurious[in_ramp], theta / ramp))
    assert in_ramp.double().mean() == pytest.approx(ramp, abs=0.01)
    # the metrics: the law of (s', r) nearly kept, the mean gradient off by θ, the joint law off
    g = torch.Generator().manual_seed(4)
    moving = model_metrics(model, truth, state, action, n_draws=1024, generator=g)
    still = model_metrics(TwoModes(ramp, 0.0), truth, state, action, n_draws=1024, generator=g)
    assert moving["between_modes"] == pytest.approx(still["between_modes"], abs=0.03)
    assert moving["sample_mmd2"] == pytest.approx(still["sample_mmd2"], abs=0.01)
    assert still["reward_gradient_error"] < 1e-9
    assert moving["reward_gradient_error"] == pytest.approx(theta, rel=0.1)  # |(1+θ) - 1| / 1
    assert moving["joint_energy"] > 10 * still["joint_energy"]


def test_between_modes_counts_rewards_away_from_every_truth_value():
    truth = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    model = torch.tensor([[0.0, 0.05, 0.5, 0.95], [0.0, 0.05, 0.5, 0.2]])
    assert between_modes(model, truth) == 3 / 8  # unit: the range over all probes, 1


@pytest.fixture(scope="module")
def toy():
    spec = PointMassSpec(n_locations=3, dynamics_noise=0.05, radius=0.6, width=0.25)
    g = torch.Generator().manual_seed(0)
    state = (torch.rand(16, 2, generator=g) * 2 - 1) * 0.8  # inside the box, near the ring
    action = torch.rand(16, 2, generator=g) * 2 - 1
    return OracleWorldModel(PointMassDynamics(spec)), state, action


def test_the_simulator_scores_zero_on_every_model_metric_within_monte_carlo_error(toy):
    oracle, state, action = toy
    got = model_metrics(oracle, oracle, state, action, n_draws=512,
                        generator=torch.Generator().manual_seed(5))
    assert got["state_gradient_error"] == 0.0  # ∂s'/∂a = dt·I on every draw inside the box
    assert got["reward_gradient_error"] < 0.1  # MC error of a mean of 512 draws
    assert got["sample_mmd2"] < 0.01 and got["joint_energy"] < 0.05
    assert got["between_modes"] < 0.01


def test_targets_through_the_simulator_score_zero_against_the_simulator(toy):
    oracle, state, action = toy
    torch.manual_seed(0)
    actor, critic = Actor(2, 2, hidden=(16, 16)), GenerativeCritic(2, 2, hidden=(16, 16))
    n = 256
    got = target_metrics(oracle, oracle, actor, critic, state, action, gamma=0.9, n_samples=n,
                         generator=torch.Generator().manual_seed(6))
    assert set(got) == set(TARGET_METRICS)
    # Monte-Carlo error of the difference of two means of E·n = 512 draws each, relative
    y = sobolev_targets(oracle, actor, critic, state, action, gamma=0.9, n_samples=n, lam=1.0,
                        generator=torch.Generator().manual_seed(7))  # [B, 512, 1+d_a]
    def mc_error(x):  # rms_b of the std of a difference of means, over rms_b of the mean
        return float((2 * x.var(1).sum(-1).mean() / x.shape[1]).sqrt()
                     / x.mean(1).square().sum(-1).mean().sqrt())
    assert got["target_mean_error"] < 2 * mc_error(y[..., :1])
    assert got["target_gradient_error"] < 2 * mc_error(y[..., 1:])
    assert got["target_energy"] < 0.01
