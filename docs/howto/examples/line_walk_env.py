"""How-to example: a new environment with its termination function.

`dvg/LineWalk-v0`: a mass on a line, `s = (x, v)` with `|v| <= 5`, a force `a ∈ [-1, 1]`,
reward `1 - x²` per step; the episode terminates when the mass leaves `[-2, 2]` and is truncated after 200 steps.
`line_walk_terminated` is the same rule as a batched torch function of the next observation,
which a learned world model needs to predict `done` in its rollouts.
`tests/test_howto_examples.py` runs gymnasium's `check_env` on it and checks the function
against the env's own flag.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

LINE_WALK_ID = "dvg/LineWalk-v0"
BOUND = 2.0
DT = 0.1
MAX_SPEED = 5.0


def line_walk_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """`done(s')`: `next_obs [..., 2] -> bool [...]`, True when `|x| > BOUND`."""
    if next_obs.shape[-1] != 2:
        raise ValueError(f"next_obs must have shape [..., 2], got {list(next_obs.shape)}")
    return next_obs[..., 0].abs() > BOUND


class LineWalkEnv(gymnasium.Env):
    """The env; `dynamics_noise` is the std of a Gaussian kick to the velocity each step."""

    metadata = {"render_modes": []}

    def __init__(self, dynamics_noise: float = 0.0) -> None:
        if dynamics_noise < 0:
            raise ValueError(f"dynamics_noise must be >= 0, got {dynamics_noise!r}")
        self.dynamics_noise = float(dynamics_noise)
        high = np.array([BOUND + DT * MAX_SPEED, MAX_SPEED], np.float32)  # |x| <= 2 until the end
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._state = np.zeros(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._state = self.np_random.uniform(-0.5, 0.5, size=2)
        return self._state.astype(np.float32), {}

    def step(self, action):
        force = float(np.clip(action, -1.0, 1.0)[0])
        x, v = self._state
        v = np.clip(v + DT * force + self.dynamics_noise * self.np_random.normal(),
                    -MAX_SPEED, MAX_SPEED)
        x = x + DT * v
        self._state = np.array([x, v])
        obs = self._state.astype(np.float32)
        terminated = bool(line_walk_terminated(torch.as_tensor(obs)))
        return obs, 1.0 - x * x, terminated, False, {}


def register() -> None:
    """Register `LINE_WALK_ID` with gymnasium (once), truncated after 200 steps."""
    if LINE_WALK_ID not in gymnasium.registry:
        gymnasium.register(id=LINE_WALK_ID, entry_point=LineWalkEnv, max_episode_steps=200)
