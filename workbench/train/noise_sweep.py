"""How a trained policy's return falls as noise grows: the calibration of the noise defaults.

`noise_sweep(record, noise, scales)` evaluates the record's deterministic policy on its task
under each noise scale, over the same seeded episodes per scale, and returns a table. Issue 8 uses
it on noise-free-trained TD3 policies to choose each task's default dynamics-noise std (one that
visibly hurts the policy but leaves the task learnable).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from dvg_core.envs.factory import NOISE_SETTINGS, make_env
from dvg_core.util.validation import check_choice, check_int_at_least, check_nonnegative
from workbench.train.trained_agent import load_agent
from workbench.records.run_record import RunRecord

__all__ = ["evaluate_policy", "noise_sweep", "velocity_change_rms"]


def evaluate_policy(agent, env, *, episodes: int, seed: int = 0) -> np.ndarray:
    """Deterministic returns of `agent` on `env`, episode k reset with seed `seed + k`: `[episodes]`."""
    check_int_at_least("episodes", episodes, 1)
    device = next(agent.critic.parameters()).device
    returns = np.zeros(episodes)
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done = False
        while not done:
            state = torch.as_tensor(obs, dtype=torch.float32, device=device)
            obs, reward, terminated, truncated, _ = env.step(agent.act(state).cpu().numpy())
            returns[k] += float(reward)
            done = terminated or truncated
    return returns


def noise_sweep(
    record: RunRecord | str, noise: str, scales: Sequence[float], *, episodes: int = 10,
    seed: int = 1000,
) -> pd.DataFrame:
    """The record's policy evaluated under `noise` at every scale (0 means noise-free).

    Returns:
      one row per scale: `scale`, `mean`, `std`, `min`, `max` of the episode returns, and
      `relative` = mean / the noise-free mean.

    Raises:
      ValueError: a bad noise setting, scale or episode count, or a record without checkpoint.
    """
    check_choice("noise", noise, [n for n in NOISE_SETTINGS if n != "none"])
    for scale in scales:
        check_nonnegative("scales", scale)
    record = record if isinstance(record, RunRecord) else RunRecord(record)
    agent = load_agent(record)
    if agent is None:
        raise ValueError(f"record {record.path} has no checkpoint to evaluate")
    config = record.config()
    rows = []
    for scale in [0.0, *[s for s in scales if s != 0.0]]:
        kwargs = dict(config.env.kwargs)
        env = (make_env(config.env.env_id, **kwargs) if scale == 0.0 else
               make_env(config.env.env_id, noise=noise, noise_scale=scale, **kwargs))
        returns = evaluate_policy(agent, env, episodes=episodes, seed=seed)
        rows.append({"scale": scale, "mean": returns.mean(), "std": returns.std(),
                     "min": returns.min(), "max": returns.max()})
    table = pd.DataFrame(rows)
    clean = table.loc[table["scale"] == 0.0, "mean"].iloc[0]
    return table.assign(relative=table["mean"] / clean if clean != 0 else np.nan)


def velocity_change_rms(env_id: str, *, n_steps: int = 3000, seed: int = 0) -> float:
    """Root-mean-square per-step change of `qvel` under uniformly random actions (within
    episodes; episode boundaries skipped): the natural scale a dynamics-noise std is compared to.
    """
    check_int_at_least("n_steps", n_steps, 2)
    env = make_env(env_id, seed=seed)
    sim = env.unwrapped
    if not hasattr(sim, "data"):
        raise ValueError(f"env_id must be a MuJoCo task, got {env_id!r}")
    before, squares = sim.data.qvel.copy(), []
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        after = sim.data.qvel.copy()
        if terminated or truncated:
            env.reset()
            after = sim.data.qvel.copy()
        else:
            squares.append(np.square(after - before).mean())
        before = after
    return float(np.sqrt(np.mean(squares)))
