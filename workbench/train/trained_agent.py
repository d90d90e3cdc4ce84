"""A trained record's agent, rebuilt from the record's config with its checkpoint's weights: what
the train notebook's probes and videos and the noise sweep (`workbench.train.noise_sweep`) act
with."""

from __future__ import annotations

import torch

from dvg_core.agents.agent import Agent
from dvg_core.training.build import build_agent, build_envs
from dvg_core.util.device import resolve_device
from workbench.records.run_record import RunRecord

__all__ = ["load_agent"]


def load_agent(record: RunRecord) -> Agent | None:
    """The agent of `record` rebuilt from its config with the checkpoint's weights; None if the
    record has no checkpoint (a run that diverged before its first one)."""
    if not record.checkpoint_path.exists():
        return None
    config = record.config()
    device = resolve_device(config.device)
    env, _ = build_envs(config.env, config.seed)
    agent = build_agent(config.algorithm, config.model, config.env, env, device)
    state = torch.load(record.checkpoint_path, map_location=device, weights_only=True)
    agent.load_checkpoint_state(state["agent"])
    return agent
