"""Builders: configs in, ready objects out (envs, world model, agent, trainer)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium
import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents import STRATEGIES, AlgorithmConfig
from dvg_core.configs import MODEL_KINDS, EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import POINT_MASS_IDS, PointMassDynamics
from dvg_core.envs.factory import make_env
from dvg_core.training.fidelity_monitor import FidelityMonitor
from dvg_core.training.trainer import MetricsSink, Trainer
from dvg_core.models.normalization import RunningNormalizer
from dvg_core.models.world_models.termination import termination_fn
from dvg_core.models.world_models import (
    CVAEWorldModel, FlowWorldModel, GaussianEnsembleWorldModel, OracleWorldModel,
)

__all__ = [
    "build_agent", "build_envs", "build_trainer", "build_world_model",
]

def build_envs(config: EnvConfig, seed: int) -> tuple[gymnasium.Env, gymnasium.Env]:
    """The training env (seeded with `seed`) and a separate evaluation env (`seed + 1`)."""
    kwargs = dict(noise=config.noise, noise_scale=config.noise_scale, **config.kwargs)
    return (make_env(config.env_id, seed=seed, **kwargs),
            make_env(config.env_id, seed=seed + 1, **kwargs))


def build_world_model(config: ModelConfig, env_config: EnvConfig, env: gymnasium.Env):
    """The world model of `config.kind` for `env` (on the CPU; move it with the agent).

    Raises:
      ValueError: a kind not in `MODEL_KINDS`, `oracle` for an env without a differentiable
        simulator, or env kwargs that change a task's termination (the learned model's `done`
        is gymnasium v5's default healthy condition, `dvg_core.models.world_models.termination`).
    """
    state_dim, action_dim = env.observation_space.shape[0], env.action_space.shape[0]
    if config.kind == "oracle":
        if env_config.env_id not in POINT_MASS_IDS or env_config.noise == "obs":
            raise ValueError("model kind 'oracle' needs the toy without observation noise")
        return OracleWorldModel(PointMassDynamics(env.unwrapped.spec_params))
    terminated_fn = termination_fn(env_config.env_id, env_kwargs=env_config.kwargs)
    if config.kind == "cvae":
        return CVAEWorldModel(state_dim, action_dim, latent_dim=config.latent_dim,
                              prior_components=config.prior_components, hidden=config.hidden, beta=config.beta, lr=config.lr,
                              terminated_fn=terminated_fn)
    if config.kind == "ensemble":
        return GaussianEnsembleWorldModel(state_dim, action_dim, n_members=config.n_members,
                                          hidden=config.hidden, lr=config.lr,
                                          terminated_fn=terminated_fn)
    if config.kind == "flow":
        return FlowWorldModel(state_dim, action_dim, layout=config.flow_layout,
                              hidden=config.hidden, lr=config.lr, terminated_fn=terminated_fn)
    raise ValueError(f"model kind must be one of {list(MODEL_KINDS)}, got {config.kind!r}")


def build_agent(
    algorithm: AlgorithmConfig, model: ModelConfig, env_config: EnvConfig, env: gymnasium.Env,
    device: torch.device, *, compile: bool = False,
) -> Agent:
    """A fresh agent with its world model (none for model-free `td3`), on `device` (parameters
    drawn from torch's global RNG); `compile`: its losses under `torch.compile` (`loop.compile`)."""
    needs_model = STRATEGIES[algorithm.name].uses_world_model
    world_model = build_world_model(model, env_config, env) if needs_model else None
    state_dim = env.observation_space.shape[0]
    agent = Agent(
        algorithm, state_dim, env.action_space.shape[0], world_model,
        action_low=torch.as_tensor(env.action_space.low),
        action_high=torch.as_tensor(env.action_space.high),
        obs_normalizer=RunningNormalizer(state_dim) if algorithm.normalize_obs else None,
        compile=compile,
    )
    return agent.to(device)


def build_trainer(
    algorithm: AlgorithmConfig, model: ModelConfig, env_config: EnvConfig, loop: LoopConfig, *,
    seeds: Sequence[int], device: torch.device, run_dirs: Sequence[Path],
    logs: Sequence[MetricsSink], progress: bool = False,
) -> Trainer:
    """The `Trainer` of S >= 1 seeds: each seed's envs and agent are built exactly as a run of
    that seed alone builds them (torch seeded with the seed first), then trained together."""
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    if loop.compile and len(seeds) > 1:
        raise ValueError("loop.compile=True trains one seed per process; a seed-vectorised "
                         f"group ({len(seeds)} seeds, --vectorize-seeds) runs eager: set "
                         "loop.compile=false or train the seeds one by one")
    agents, envs, eval_envs = [], [], []
    for seed in seeds:
        torch.manual_seed(seed)
        env, eval_env = build_envs(env_config, seed)
        agents.append(build_agent(algorithm, model, env_config, env, device,
                                  compile=loop.compile))
        envs.append(env)
        eval_envs.append(eval_env)
    return Trainer(agents, envs, eval_envs, loop=loop, model=model, seeds=seeds,
                   run_dirs=run_dirs, logs=logs, progress=progress,
                   monitor=FidelityMonitor.for_env(env_config, loop, envs[0],
                                                   gamma=algorithm.gamma))
