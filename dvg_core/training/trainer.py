"""The Dyna training loop, for S >= 1 seeds of one configuration: real steps fill the replay, the
world model is fitted on it, and the agents take `utd` updates per env step; evaluation,
metrics, checkpoints and divergence checks.

There is one loop. It always carries a leading seed dim (as SB3 carries its env dim, one env by
default): S = 1 drives the plain eager agent (`dvg_core.agents.SingleSeed`), S > 1 the vmapped
stack (`dvg_core.agents.SeedStack`). Each seed keeps what a separate run has: its own envs
(seeded as that run's), warm-up actions, replay, episodes, evaluation episodes, metric rows and
record. What the seeds share is the lockstep schedule (every seed takes its env step, model fit
and `utd` updates at the same time) and one torch generator for the update noise, so seed k of a
group is identical in distribution to seed k trained alone, not bitwise.

Resumable exactly (on CPU): `dvg_core.training.checkpoint` holds the format. A checkpoint is
taken when every seed is between episodes, at the first such step after each multiple of
`checkpoint_every` (each multiple, on the toy's fixed horizon), so no env needs its simulator
state saved: the next thing both an uninterrupted and a resumed run do is `env.reset()` from
the same RNG state. A diverged seed stops logging and checkpointing (its last good checkpoint
stays) while the others train on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from tqdm.auto import tqdm

from dvg_core.agents import Agent, SeedReplay, make_learner
from dvg_core.configs import LoopConfig, ModelConfig
from dvg_core.training.checkpoint import read_checkpoints, write_checkpoints

__all__ = ["TIMING_METRICS", "MetricsSink", "TrainResult", "Trainer"]

TIMING_METRICS = ("updates_per_s", "env_steps_per_s")
"""Wall-clock metrics: the only ones that differ between a resumed and an uninterrupted run."""

MetricsSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TrainResult:
    """How a seed's run ended: `status` is `done` or `diverged`, with a message, at env step
    `step`."""

    status: str
    message: str
    step: int


class Trainer:
    """Runs the loop for S agents of one configuration; see the module docstring.

    Args:
      agents: S >= 1 freshly built agents, each built as its own run would build it (their
        world models are fitted here).
      envs, eval_envs: S training and S evaluation envs, seeded per seed.
      loop, model: schedules.
      seeds: the S seeds (the update generator follows the first; evaluation episodes and
        warm-up actions follow each seed).
      run_dirs: S record directories (checkpoints).
      logs: S metric sinks, each receiving one dict per metric row (`step`, `kind`, values).
      progress: show a tqdm bar.
    """

    def __init__(
        self, agents: Sequence[Agent], envs: Sequence[gymnasium.Env],
        eval_envs: Sequence[gymnasium.Env], *, loop: LoopConfig, model: ModelConfig,
        seeds: Sequence[int], run_dirs: Sequence[Path], logs: Sequence[MetricsSink],
        progress: bool = False,
    ) -> None:
        n = len(agents)
        if not n or not len(envs) == len(eval_envs) == len(seeds) == len(run_dirs) == len(logs) == n:
            raise ValueError("agents, envs, eval_envs, seeds, run_dirs and logs must have one "
                             "entry per seed (and at least one)")
        self.agents, self.learner = list(agents), make_learner(agents)
        self.envs, self.eval_envs = list(envs), list(eval_envs)
        self.loop, self.model, self.seeds = loop, model, list(seeds)
        self.run_dirs, self.logs, self.progress = [Path(d) for d in run_dirs], list(logs), progress
        self.n_seeds, self.device = n, self.learner.device
        self.generator = torch.Generator(device=self.device).manual_seed(self.seeds[0])
        self.env_generators = [torch.Generator().manual_seed(s + 1) for s in self.seeds]
        state_dim = envs[0].observation_space.shape[0]
        action_dim = envs[0].action_space.shape[0]
        self.replay = SeedReplay(n, state_dim, action_dim, loop.replay_capacity, self.device)
        self.action_low = torch.as_tensor(envs[0].action_space.low, dtype=torch.float32)
        self.action_high = torch.as_tensor(envs[0].action_space.high, dtype=torch.float32)
        self.step = 0
        self.observations: list[np.ndarray | None] = [None] * n
        self.episode_returns, self.episode_lengths = [0.0] * n, [0] * n
        self.episodes = [0] * n
        self.diverged: list[str | None] = [None] * n
        self.sums: dict[str, torch.Tensor] = {}
        """Metric sums `[S]` since the last training row."""
        self.counts: dict[str, int] = {}
        """How many updates reported each summed metric since the last training row."""
        self.n_summed = self.fit_count = 0
        self.next_checkpoint = loop.checkpoint_every

    # ----------------------------------------------------------------- the loop
    def run(self) -> list[TrainResult]:
        """Train every seed to `total_steps` (a diverged seed stops there); one result per seed."""
        name = self.learner.config.name
        bar = tqdm(total=self.loop.total_steps, initial=self.step, disable=not self.progress,
                   desc=name if self.n_seeds == 1 else f"{name} x{self.n_seeds}", unit="step",
                   mininterval=1.0)
        clock = (time.perf_counter(), self.step, self.learner.n_critic_updates)
        while self.step < self.loop.total_steps and not all(self.diverged):
            self._env_step()
            bar.update(1)
            if self.step % self.loop.eval_every == 0:
                self._evaluate()
            if self.step % self.loop.log_every == 0:
                clock = self._log_training(clock)
            if all(o is None for o in self.observations) and self.step >= self.next_checkpoint:
                self.save_checkpoints()
        bar.close()
        done = f"trained {self.step} env steps"
        if self.n_seeds > 1:
            done += f" (seed-vectorised, {self.n_seeds} seeds)"
        return [TrainResult("diverged", d, self.step) if d is not None
                else TrainResult("done", done, self.step) for d in self.diverged]

    def _env_step(self) -> None:
        """One real transition per seed and the learning it triggers."""
        reset = torch.tensor([o is None for o in self.observations], dtype=torch.float32)
        for k, env in enumerate(self.envs):
            if self.observations[k] is None:
                self.observations[k], _ = env.reset()
                self.episode_returns[k], self.episode_lengths[k] = 0.0, 0
        states = torch.as_tensor(np.stack(self.observations), dtype=torch.float32)  # [S, d_s]
        if bool(reset.any()):
            self.learner.observe(states, reset)  # the reset observation, then s'
        actions = self._actions(states)
        transitions = [env.step(a) for env, a in zip(self.envs, actions)]
        next_obs = np.stack([t[0] for t in transitions])
        rewards = np.array([t[1] for t in transitions], dtype=np.float32)
        terminated = np.array([t[2] for t in transitions], dtype=np.float32)
        self.replay.add(states, torch.as_tensor(actions), torch.as_tensor(rewards),
                        torch.as_tensor(next_obs, dtype=torch.float32),
                        torch.as_tensor(terminated))
        self.learner.observe(torch.as_tensor(next_obs, dtype=torch.float32))
        self.step += 1
        for k, (obs, reward, term, trunc, _) in enumerate(transitions):
            self.episode_returns[k] += float(reward)
            self.episode_lengths[k] += 1
            self.observations[k] = obs
            if term or trunc:
                self._log(k, {"step": self.step, "kind": "episode",
                              "episode_return": self.episode_returns[k],
                              "episode_length": self.episode_lengths[k]})
                self.episodes[k] += 1
                self.observations[k] = None
        if self.step == self.loop.warmup_steps:
            self._fit_model(self.model.warmup_fit_steps)
        if self.step <= self.loop.warmup_steps:
            return
        if self.step % self.model.fit_every == 0:
            self._fit_model(self.model.fit_steps)
        self._learn()

    def _actions(self, states: torch.Tensor) -> np.ndarray:
        """`[S, d_a]`: uniform during the warm-up (each seed's own generator), else the policy
        with exploration noise."""
        if self.step < self.loop.warmup_steps:
            u = torch.stack([torch.rand(self.action_low.shape, generator=g)
                             for g in self.env_generators])
            return (self.action_low + (self.action_high - self.action_low) * u).numpy()
        actions = self.learner.act(states.to(self.device),
                                   noise_std=self.learner.config.exploration_noise,
                                   generator=self.generator)
        return actions.cpu().numpy()

    def _learn(self) -> None:
        """`utd` updates; one host sync per env step (not per update) for the divergence check."""
        infos = [self.learner.update(self.replay.sample(self.loop.batch_size, self.generator),
                                     self.generator) for _ in range(self.loop.utd)]
        for info in infos:
            for key, value in info.items():
                self.sums[key] = self.sums.get(key, torch.zeros(self.n_seeds, device=self.device)) + value
                self.counts[key] = self.counts.get(key, 0) + 1  # actor_loss: every policy_delay-th
        self.n_summed += len(infos)
        loss = torch.stack([i["critic_loss"] for i in infos])  # [utd, S]
        value = torch.stack([i["critic_value"] for i in infos])
        bad = ((~torch.isfinite(loss)) | (~torch.isfinite(value))
               | (value.abs() > self.loop.divergence_bound)).any(0)  # [S]
        for k in torch.nonzero(bad).flatten().tolist():
            if self.diverged[k] is None:
                self.diverged[k] = (
                    f"critic_loss is not finite at env step {self.step}"
                    if not bool(torch.isfinite(loss[:, k]).all()) else
                    f"critic value {float(value[-1, k]):.3g} beyond the bound "
                    f"±{self.loop.divergence_bound:g} at env step {self.step}")

    def _fit_model(self, n_steps: int) -> None:
        if n_steps == 0 or not self.learner.fits_model:
            return
        for _ in range(n_steps):
            metrics = self.learner.fit_model(self.replay.sample(self.model.batch_size,
                                                                self.generator))
        self.sums["model_loss"] = self.sums.get(
            "model_loss", torch.zeros(self.n_seeds, device=self.device)) + metrics["loss"]
        self.fit_count += 1

    def _evaluate(self) -> None:
        """`eval_episodes` deterministic episodes per seed, all seeds acting in one call."""
        returns = np.zeros((self.n_seeds, self.loop.eval_episodes))
        for e in range(self.loop.eval_episodes):
            obs = [env.reset(seed=10_000 * (s + 1) + e)[0]
                   for env, s in zip(self.eval_envs, self.seeds)]
            running = np.ones(self.n_seeds, dtype=bool)
            while running.any():
                states = torch.as_tensor(np.stack(obs), dtype=torch.float32, device=self.device)
                actions = self.learner.act(states).cpu().numpy()
                for k in np.flatnonzero(running):
                    obs[k], reward, terminated, truncated, _ = self.eval_envs[k].step(actions[k])
                    returns[k, e] += float(reward)
                    running[k] = not (terminated or truncated)
        for k in range(self.n_seeds):
            self._log(k, {"step": self.step, "kind": "eval",
                          "eval_return_mean": float(returns[k].mean()),
                          "eval_return_std": float(returns[k].std())})

    def _log(self, k: int, row: dict[str, Any]) -> None:
        if self.diverged[k] is None:
            self.logs[k](row)

    def _log_training(self, clock: tuple[float, int, int]) -> tuple[float, int, int]:
        now = time.perf_counter()
        elapsed = max(now - clock[0], 1e-9)
        sums = {k: v.tolist() for k, v in self.sums.items()}
        n_updates = self.learner.n_critic_updates
        for k in range(self.n_seeds):
            row: dict[str, Any] = {"step": self.step, "kind": "train",
                                   "episodes": self.episodes[k]}
            if self.n_summed:
                row |= {key: v[k] / self.counts[key] for key, v in sums.items()
                        if key != "model_loss"}
            if "model_loss" in sums:
                row["model_loss"] = sums["model_loss"][k] / max(self.fit_count, 1)
            row["updates_per_s"] = (n_updates - clock[2]) / elapsed
            row["env_steps_per_s"] = (self.step - clock[1]) / elapsed
            self._log(k, row)
        self.sums, self.counts, self.n_summed, self.fit_count = {}, {}, 0, 0
        return now, self.step, n_updates

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoints(self) -> None:
        """Each live seed's checkpoint (`dvg_core.training.checkpoint`)."""
        write_checkpoints(self)

    def load_checkpoints(self) -> bool:
        """Resume from the seeds' checkpoints if they fit; returns whether they were loaded."""
        return read_checkpoints(self)
