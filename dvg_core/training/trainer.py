"""The Dyna training loop: real steps fill the replay, the world model is fitted on it, and the
agent takes `utd` updates per env step; evaluation, metrics, checkpoints and divergence checks.

Resumable exactly (on CPU): a checkpoint holds networks, optimisers, replay, world model, every
RNG state (torch global, the loop's generators, the envs' numpy generators) and the loop's
counters and metric accumulators. It is taken at the first episode end after each multiple of
`checkpoint_every`, so no env needs its simulator state saved: the next thing both an
uninterrupted and a resumed run do is `env.reset()` from the same RNG state.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from tqdm.auto import tqdm

from dvg_core.agents.agent import Agent
from dvg_core.configs import LoopConfig, ModelConfig
from dvg_core.agents.replay import ReplayBuffer

__all__ = [
    "CHECKPOINT_NAME", "TIMING_METRICS", "Trainer", "TrainResult", "env_rng_state",
    "set_env_rng_state",
]

CHECKPOINT_NAME = "checkpoint.pt"
TIMING_METRICS = ("updates_per_s", "env_steps_per_s")
"""Wall-clock metrics: the only ones that differ between a resumed and an uninterrupted run."""

MetricsSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: `status` is `done` or `diverged`, with a message, at env step `step`."""

    status: str
    message: str
    step: int


def _rng_holders(env: gymnasium.Env) -> list[tuple[Any, str]]:
    """Every `np.random.Generator` along a wrapper chain, as (object, attribute name)."""
    holders, current = [], env
    while True:
        for name in ("noise_rng", "_np_random"):
            if isinstance(current.__dict__.get(name), np.random.Generator):
                holders.append((current, name))
        if not hasattr(current, "env"):
            return holders
        current = current.env


def env_rng_state(env: gymnasium.Env) -> list[dict[str, Any]]:
    """The bit-generator states of every numpy generator of `env` and its wrappers."""
    return [getattr(obj, name).bit_generator.state for obj, name in _rng_holders(env)]


def set_env_rng_state(env: gymnasium.Env, states: list[dict[str, Any]]) -> None:
    """Restore `env_rng_state(env)`."""
    for (obj, name), state in zip(_rng_holders(env), states, strict=True):
        getattr(obj, name).bit_generator.state = state


class Trainer:
    """Runs the loop for one agent on one env; see the module docstring.

    Args:
      agent: the agent (its world model is fitted here).
      env, eval_env: training and evaluation envs, already seeded (`make_env(..., seed=...)`).
      loop, model: schedules.
      seed: seeds the loop's generators and the evaluation episodes.
      run_dir: where the checkpoint goes.
      log: receives one dict per metric row (`step`, `kind`, values).
      progress: show a tqdm bar.
    """

    def __init__(
        self, agent: Agent, env: gymnasium.Env, eval_env: gymnasium.Env, *, loop: LoopConfig,
        model: ModelConfig, seed: int, run_dir: Path, log: MetricsSink, progress: bool = False,
    ) -> None:
        self.agent, self.env, self.eval_env = agent, env, eval_env
        self.loop, self.model, self.seed = loop, model, seed
        self.run_dir, self.log, self.progress = Path(run_dir), log, progress
        self.device = next(agent.critic.parameters()).device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.env_generator = torch.Generator().manual_seed(seed + 1)
        state_dim = env.observation_space.shape[0]
        action_dim = env.action_space.shape[0]
        self.replay = ReplayBuffer(state_dim, action_dim, loop.replay_capacity, self.device)
        self.action_low = torch.as_tensor(env.action_space.low, dtype=torch.float32)
        self.action_high = torch.as_tensor(env.action_space.high, dtype=torch.float32)
        self.step = 0
        self.episode_return, self.episode_length, self.episodes = 0.0, 0, 0
        self.observation: np.ndarray | None = None
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        """How many updates reported each summed metric since the last training row."""
        self.n_summed = self.fit_count = 0
        self.next_checkpoint = loop.checkpoint_every

    @property
    def checkpoint_path(self) -> Path:
        """Where the checkpoint lives."""
        return self.run_dir / CHECKPOINT_NAME

    # ----------------------------------------------------------------- the loop
    def run(self) -> TrainResult:
        """Train until `total_steps`; stops early, without checkpointing, on divergence."""
        bar = tqdm(total=self.loop.total_steps, initial=self.step, disable=not self.progress,
                   desc=f"{self.agent.config.name}", unit="step", mininterval=1.0)
        clock = (time.perf_counter(), self.step, self.agent.n_critic_updates)
        while self.step < self.loop.total_steps:
            diverged = self._env_step()
            bar.update(1)
            if diverged is not None:
                bar.close()
                return TrainResult("diverged", diverged, self.step)
            if self.step % self.loop.eval_every == 0:
                self._evaluate()
            if self.step % self.loop.log_every == 0:
                clock = self._log_training(clock)
            if self.observation is None and self.step >= self.next_checkpoint:
                self.save_checkpoint()
        bar.close()
        return TrainResult("done", f"trained {self.step} env steps", self.step)

    def _env_step(self) -> str | None:
        """One real transition and the learning it triggers; a message if training diverged."""
        if self.observation is None:
            self.observation, _ = self.env.reset()
            self.agent.observe(self.observation)
            self.episode_return, self.episode_length = 0.0, 0
        action = self._action(self.observation)
        next_obs, reward, terminated, truncated, _ = self.env.step(action)
        self.replay.add(self.observation, action, reward, next_obs, terminated)
        self.agent.observe(next_obs)
        self.step += 1
        self.episode_return += float(reward)
        self.episode_length += 1
        self.observation = next_obs
        if terminated or truncated:
            self.log({"step": self.step, "kind": "episode", "episode_return": self.episode_return,
                      "episode_length": self.episode_length})
            self.episodes += 1
            self.observation = None
        if self.step == self.loop.warmup_steps:
            self._fit_model(self.model.warmup_fit_steps)
        if self.step <= self.loop.warmup_steps:
            return None
        if self.step % self.model.fit_every == 0:
            self._fit_model(self.model.fit_steps)
        return self._learn()

    def _action(self, observation: np.ndarray) -> np.ndarray:
        if self.step < self.loop.warmup_steps:
            u = torch.rand(self.action_low.shape, generator=self.env_generator)
            return (self.action_low + (self.action_high - self.action_low) * u).numpy()
        state = torch.as_tensor(observation, dtype=torch.float32, device=self.device)
        action = self.agent.act(state, noise_std=self.agent.config.exploration_noise,
                                generator=self.generator)
        return action.cpu().numpy()

    def _learn(self) -> str | None:
        infos = [self.agent.update(self.replay.sample(self.loop.batch_size, self.generator),
                                   self.generator) for _ in range(self.loop.utd)]
        last = infos[-1]
        for info in infos:
            for key, value in info.items():
                self.sums[key] = self.sums.get(key, torch.zeros((), device=self.device)) + value
                self.counts[key] = self.counts.get(key, 0) + 1  # actor_loss: every policy_delay-th
        self.n_summed += len(infos)
        # One host sync per env step (not per update): is anything non-finite or out of bounds?
        loss = torch.stack([i["critic_loss"] for i in infos])
        value = torch.stack([i["critic_value"] for i in infos])
        bad = (~torch.isfinite(loss)).any() | (~torch.isfinite(value)).any()
        bad = bad | (value.abs() > self.loop.divergence_bound).any()
        if not bool(bad):
            return None
        if not bool(torch.isfinite(loss).all()):
            return f"critic_loss is not finite at env step {self.step}"
        return (f"critic value {float(last['critic_value']):.3g} beyond the bound "
                f"±{self.loop.divergence_bound:g} at env step {self.step}")

    def _fit_model(self, n_steps: int) -> None:
        model = self.agent.world_model
        if n_steps == 0 or model is None or not any(True for _ in model.parameters()):
            return
        for _ in range(n_steps):
            batch = self.replay.sample(self.model.batch_size, self.generator)
            info = self.agent.world_model.fit(batch.state, batch.action, batch.reward,
                                              batch.next_state)
        zero = torch.zeros((), device=self.device)
        self.sums["model_loss"] = self.sums.get("model_loss", zero) + info["loss"]
        self.fit_count += 1

    def _evaluate(self) -> None:
        returns = []
        for k in range(self.loop.eval_episodes):
            obs, _ = self.eval_env.reset(seed=10_000 * (self.seed + 1) + k)
            total, done = 0.0, False
            while not done:
                state = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
                action = self.agent.act(state).cpu().numpy()
                obs, reward, terminated, truncated, _ = self.eval_env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        self.log({"step": self.step, "kind": "eval", "eval_return_mean": float(np.mean(returns)),
                  "eval_return_std": float(np.std(returns))})

    def _log_training(self, clock: tuple[float, int, int]) -> tuple[float, int, int]:
        now = time.perf_counter()
        elapsed = max(now - clock[0], 1e-9)
        row: dict[str, Any] = {"step": self.step, "kind": "train", "episodes": self.episodes}
        if self.n_summed:
            row |= {k: float(v) / self.counts[k] for k, v in self.sums.items() if k != "model_loss"}
        if "model_loss" in self.sums:
            row["model_loss"] = float(self.sums["model_loss"]) / max(self.fit_count, 1)
        row["updates_per_s"] = (self.agent.n_critic_updates - clock[2]) / elapsed
        row["env_steps_per_s"] = (self.step - clock[1]) / elapsed
        self.log(row)
        self.sums, self.counts, self.n_summed, self.fit_count = {}, {}, 0, 0
        return now, self.step, self.agent.n_critic_updates

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> None:
        """Write everything needed to resume, atomically (temp file, then rename)."""
        state = {
            "agent": self.agent.checkpoint_state(),
            "replay": self.replay.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "generator": self.generator.get_state(),
            "env_generator": self.env_generator.get_state(),
            "env_rng": env_rng_state(self.env),
            "counters": {"step": self.step, "episodes": self.episodes,
                         "n_summed": self.n_summed, "fit_count": self.fit_count,
                         "metric_counts": dict(self.counts),
                         "next_checkpoint": self._following_checkpoint()},
            "sums": {k: torch.as_tensor(v) for k, v in self.sums.items()},
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)
        self.next_checkpoint = state["counters"]["next_checkpoint"]

    def _following_checkpoint(self) -> int:
        every = self.loop.checkpoint_every
        return (self.step // every + 1) * every

    def load_checkpoint(self) -> bool:
        """Resume from the run's checkpoint if there is one; returns whether one was loaded."""
        if not self.checkpoint_path.exists():
            return False
        state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=True)
        self.agent.load_checkpoint_state(state["agent"])
        self.replay.load_state_dict(state["replay"])
        torch.set_rng_state(state["torch_rng"].cpu())
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.generator.set_state(state["generator"].cpu())
        self.env_generator.set_state(state["env_generator"].cpu())
        set_env_rng_state(self.env, state["env_rng"])
        counters = state["counters"]
        self.step, self.episodes = counters["step"], counters["episodes"]
        self.n_summed, self.fit_count = counters["n_summed"], counters["fit_count"]
        self.next_checkpoint = counters["next_checkpoint"]
        self.sums = dict(state["sums"])
        self.counts = dict(counters["metric_counts"])
        self.observation = None
        return True

