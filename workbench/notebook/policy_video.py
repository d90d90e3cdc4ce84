"""Opt-in rendering: a short video of a trained policy on its MuJoCo task.

Headless MuJoCo needs an off-screen OpenGL backend, chosen by `MUJOCO_GL` before the first
renderer is made: `egl` on a GPU machine (and with Mesa's software EGL on a CPU one, as here),
or `osmesa` (Debian `libosmesa6`). `record_policy_video` sets `egl` when `MUJOCO_GL` is unset.
Frames are encoded by gymnasium's `RecordVideo` (which needs `moviepy`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from dvg_core.agents.agent import Agent
from dvg_core.envs import POINT_MASS_IDS
from dvg_core.envs.factory import make_env
from dvg_core.util.validation import check_int_at_least
from workbench.config.experiment_config import ExperimentConfig

__all__ = ["record_policy_video"]


def record_policy_video(
    agent: Agent, config: ExperimentConfig, video_dir: str | Path, *, max_steps: int = 500,
    width: int = 480, height: int = 360, seed: int = 0,
) -> Path:
    """One deterministic episode of `agent` on `config`'s task and noise, as an mp4.

    Args:
      agent: the trained agent (`workbench.train.trained_agent.load_agent`).
      config: its experiment config (the env id, noise and scale are taken from it).
      video_dir: where the mp4 is written (created if needed).
      max_steps: the episode is cut after this many steps.
      width, height: frame size in pixels.
      seed: the episode's reset seed.

    Returns:
      the path of the mp4.

    Raises:
      ValueError: the toy (it has no renderer), or a bad size.
    """
    if config.env.env_id in POINT_MASS_IDS:
        raise ValueError(f"env_id {config.env.env_id!r} has no renderer; videos are for MuJoCo tasks")
    for name, value in (("max_steps", max_steps), ("width", width), ("height", height)):
        check_int_at_least(name, value, 1)
    os.environ.setdefault("MUJOCO_GL", "egl")
    from gymnasium.wrappers import RecordVideo  # needs moviepy; imported only when asked

    video_dir = Path(video_dir)
    env = make_env(config.env.env_id, noise=config.env.noise, noise_scale=config.env.noise_scale,
                   render_mode="rgb_array", width=width, height=height,
                   max_episode_steps=max_steps, **config.env.kwargs)
    prefix = f"{config.algorithm.name}-{config.env.env_id}-seed{seed}"
    env = RecordVideo(env, str(video_dir), episode_trigger=lambda episode: True,
                      name_prefix=prefix, disable_logger=True)
    device = next(agent.critic.parameters()).device
    try:
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            state = torch.as_tensor(obs, dtype=torch.float32, device=device)
            obs, _, terminated, truncated, _ = env.step(agent.act(state).cpu().numpy())
            done = terminated or truncated
    finally:
        env.close()
    return video_dir / f"{prefix}-episode-0.mp4"
