"""The trainer's evaluation: deterministic episodes of S seeds' policies, all seeds acting in one
call of their learner."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import numpy as np
import torch

from dvg_core.agents import Learner

__all__ = ["evaluate_seeds"]


def evaluate_seeds(
    learner: Learner, eval_envs: Sequence[gymnasium.Env], seeds: Sequence[int],
    n_episodes: int, device: torch.device,
) -> tuple[np.ndarray, list[torch.Tensor]]:
    """`n_episodes` deterministic episodes per seed, episode `e` of seed `s` reset with seed
    `10_000 (s + 1) + e`.

    Returns:
      the returns `[S, n_episodes]`, and each seed's states along its first episode `[T_k, d_s]`.
    """
    n_seeds = len(eval_envs)
    returns = np.zeros((n_seeds, n_episodes))
    visited: list[list[torch.Tensor]] = [[] for _ in range(n_seeds)]
    for e in range(n_episodes):
        obs = [env.reset(seed=10_000 * (s + 1) + e)[0] for env, s in zip(eval_envs, seeds)]
        running = np.ones(n_seeds, dtype=bool)
        while running.any():
            states = torch.as_tensor(np.stack(obs), dtype=torch.float32, device=device)
            actions = learner.act(states).cpu().numpy()
            for k in np.flatnonzero(running):
                if e == 0:
                    visited[k].append(states[k])
                obs[k], reward, terminated, truncated, _ = eval_envs[k].step(actions[k])
                returns[k, e] += float(reward)
                running[k] = not (terminated or truncated)
    return returns, [torch.stack(v) for v in visited]
