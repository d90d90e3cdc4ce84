"""Observation normalisation: one running normaliser shared by actor, critics and their targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents import ALGORITHMS, AlgorithmConfig
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.normalization import RunningNormalizer
from dvg_core.losses.sobolev import joint_samples
from dvg_core.models.world_models import OracleWorldModel


def _agent(name: str, normalizer: RunningNormalizer | None, seed: int = 0) -> Agent:
    torch.manual_seed(seed)
    config = AlgorithmConfig(name=name, hidden=(16, 16), n_samples=4, n_target_samples=3,
                             xi_dim=3, normalize_obs=normalizer is not None)
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=3)))
    return Agent(config, 2, 2, model, obs_normalizer=normalizer)


def _observe_many(agent: Agent, seed: int = 0, n: int = 300) -> np.ndarray:
    observations = np.random.default_rng(seed).normal([3.0, -1.0], [2.0, 0.5], size=(n, 2))
    for obs in observations:
        agent.observe(obs)
    return observations


@pytest.mark.parametrize("name", ALGORITHMS)
def test_actor_critic_and_targets_share_one_normalizer(name):
    normalizer = RunningNormalizer(2)
    agent = _agent(name, normalizer)
    for net in (agent.actor, agent.critic, agent.actor_target, agent.critic_target):
        assert net.obs_normalizer is normalizer
    assert agent.obs_normalizer is normalizer


def test_observe_gives_the_mean_and_variance_of_the_observations():
    agent = _agent("td3", RunningNormalizer(2))
    observations = _observe_many(agent)
    assert int(agent.obs_normalizer.count) == len(observations)
    torch.testing.assert_close(agent.obs_normalizer.mean.double(),
                               torch.tensor(observations.mean(0)), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(agent.obs_normalizer.var.double(),
                               torch.tensor(observations.var(0)), rtol=1e-4, atol=1e-5)


def test_observe_without_normalizer_changes_nothing():
    agent = _agent("td3", None)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    _observe_many(agent, n=5)
    assert all(torch.equal(before[k], v) for k, v in agent.state_dict().items())


@pytest.mark.parametrize("name", ["mage", "dsdpg_mmd"])
def test_a_normalized_critic_is_the_raw_critic_on_standardised_states(name):
    """Same weights: Z_norm(s, a) = Z_raw((s - μ)/σ, a), and so are its action-gradients."""
    normalized = _agent(name, RunningNormalizer(2))
    _observe_many(normalized)
    raw = _agent(name, None)
    raw.critic.load_state_dict(normalized.critic.state_dict(), strict=False)
    state = torch.randn(5, 2) * 2 + torch.tensor([3.0, -1.0])
    action = torch.rand(5, 2) * 2 - 1
    xi = normalized.critic.sample_xi((5, 4)) if name != "mage" else None
    standardised = normalized.obs_normalizer.normalize(state)
    got = joint_samples(normalized.critic, state, action, xi, lam=1.0)
    want = joint_samples(raw.critic, standardised, action, xi, lam=1.0)
    torch.testing.assert_close(got, want)


def test_the_normalizer_is_saved_and_restored_with_the_agent():
    agent = _agent("dsdpg_msmmd", RunningNormalizer(2))
    _observe_many(agent)
    fresh = _agent("dsdpg_msmmd", RunningNormalizer(2), seed=1)
    fresh.load_checkpoint_state(agent.checkpoint_state())
    torch.testing.assert_close(fresh.obs_normalizer.mean, agent.obs_normalizer.mean)
    torch.testing.assert_close(fresh.obs_normalizer.var, agent.obs_normalizer.var)
    assert fresh.critic_target.obs_normalizer is fresh.obs_normalizer
    state = torch.randn(4, 2)
    torch.testing.assert_close(fresh.actor(state), agent.actor(state))


def test_normalize_obs_must_be_a_bool():
    with pytest.raises(ValueError, match="normalize_obs"):
        AlgorithmConfig(normalize_obs="yes")
