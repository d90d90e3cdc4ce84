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

Resumable exactly (on CPU): a seed's checkpoint is its `seed_state_dict`, each object saving its
own part (`dvg_core.training.checkpoint` writes the files), taken when every seed is between
episodes, at the first such step after each multiple of `checkpoint_every`, so no env needs its
simulator state saved: both an uninterrupted and a resumed run next `env.reset()` from the same
RNG state. A diverged seed stops logging and checkpointing (its last good checkpoint stays).
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
from dvg_core.training.checkpoint import (
    CHECKPOINT_NAME, load_rng_states, read_checkpoints, rng_state, write_checkpoint,
)
from dvg_core.training.divergence import diverged_seeds
from dvg_core.training.evaluation import evaluate_seeds
from dvg_core.training.fidelity_monitor import FidelityMonitor
from dvg_core.training.metric_sums import MetricSums

__all__ = ["TIMING_METRICS", "CheckpointHook", "MetricsSink", "TrainResult", "Trainer"]

TIMING_METRICS = ("updates_per_s", "env_steps_per_s")
"""Wall-clock metrics: the only ones that differ between a resumed and an uninterrupted run."""

MetricsSink = Callable[[dict[str, Any]], None]

CheckpointHook = Callable[[int, list[int]], None]
"""Called after each checkpoint save with the env step and the seeds whose checkpoints it wrote
(the live ones): `Trainer.checkpoint_hooks`."""


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
      monitor: after each evaluation, logs a `fidelity` row per seed: its critic against
        Monte-Carlo truth along its first evaluation episode (None: no such rows).

    Attributes:
      checkpoint_hooks: `CheckpointHook`s called after every `save_checkpoints` (e.g. a run
        record's status), in order; append to it.
    """

    def __init__(
        self, agents: Sequence[Agent], envs: Sequence[gymnasium.Env],
        eval_envs: Sequence[gymnasium.Env], *, loop: LoopConfig, model: ModelConfig,
        seeds: Sequence[int], run_dirs: Sequence[Path], logs: Sequence[MetricsSink],
        progress: bool = False, monitor: FidelityMonitor | None = None,
    ) -> None:
        n = len(agents)
        if not n or not len(envs) == len(eval_envs) == len(seeds) == len(run_dirs) == len(logs) == n:
            raise ValueError("agents, envs, eval_envs, seeds, run_dirs and logs must have one "
                             "entry per seed (and at least one)")
        self.agents, self.learner = list(agents), make_learner(agents)
        self.envs, self.eval_envs = list(envs), list(eval_envs)
        self.loop, self.model, self.seeds = loop, model, list(seeds)
        self.run_dirs, self.logs, self.progress = [Path(d) for d in run_dirs], list(logs), progress
        self.monitor = monitor
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
        self.metrics = MetricSums(n, self.device)
        self.next_checkpoint = loop.checkpoint_every
        self.checkpoint_hooks: list[CheckpointHook] = []

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
                                   noise_std=self.learner.config.actor.exploration_noise,
                                   generator=self.generator)
        return actions.cpu().numpy()

    def _learn(self) -> None:
        """`utd` updates; one host sync per env step (not per update) for the divergence check."""
        infos = [self.learner.update(self.replay.sample(self.loop.batch_size, self.generator),
                                     self.generator) for _ in range(self.loop.utd)]
        self.metrics.add_updates(infos)
        for k, message in diverged_seeds(infos, self.loop.divergence_bound, self.step).items():
            if self.diverged[k] is None:
                self.diverged[k] = message

    def _fit_model(self, n_steps: int) -> None:
        if n_steps == 0 or not self.learner.fits_model:
            return
        for _ in range(n_steps):
            metrics = self.learner.fit_model(self.replay.sample(self.model.batch_size,
                                                                self.generator))
        self.metrics.add_model_loss(metrics["loss"])

    def _evaluate(self) -> None:
        """`eval_episodes` deterministic episodes per seed, all seeds acting in one call; then
        the fidelity rows along each seed's first episode (with a monitor)."""
        returns, visited = evaluate_seeds(self.learner, self.eval_envs, self.seeds,
                                          self.loop.eval_episodes, self.device)
        for k in range(self.n_seeds):
            self._log(k, {"step": self.step, "kind": "eval",
                          "eval_return_mean": float(returns[k].mean()),
                          "eval_return_std": float(returns[k].std())})
            if self.monitor is not None and self.diverged[k] is None:
                agent = self.learner.agent(k)
                self._log(k, {"step": self.step, "kind": "fidelity",
                              **self.monitor(agent, visited[k],
                                             seed=self.seeds[k], step=self.step)})

    def _log(self, k: int, row: dict[str, Any]) -> None:
        if self.diverged[k] is None:
            self.logs[k](row)

    def _log_training(self, clock: tuple[float, int, int]) -> tuple[float, int, int]:
        now = time.perf_counter()
        elapsed = max(now - clock[0], 1e-9)
        n_updates = self.learner.n_critic_updates
        for k, averages in enumerate(self.metrics.rows()):
            row: dict[str, Any] = {"step": self.step, "kind": "train",
                                   "episodes": self.episodes[k], **averages}
            row["updates_per_s"] = (n_updates - clock[2]) / elapsed
            row["env_steps_per_s"] = (self.step - clock[1]) / elapsed
            self._log(k, row)
        self.metrics.reset()
        return now, self.step, n_updates

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoints(self) -> None:
        """Each live seed's checkpoint, its `seed_state_dict` (a diverged seed keeps its last
        good one); then the `checkpoint_hooks`."""
        written = [k for k in range(self.n_seeds) if self.diverged[k] is None]
        for k in written:
            write_checkpoint(self.seed_state_dict(k), self.run_dirs[k] / CHECKPOINT_NAME)
        self.next_checkpoint = self._following_checkpoint()
        for hook in self.checkpoint_hooks:
            hook(self.step, written)

    def load_checkpoints(self) -> bool:
        """Resume from the seeds' checkpoints if they fit; returns whether they were loaded."""
        states = read_checkpoints([d / CHECKPOINT_NAME for d in self.run_dirs], self.seeds,
                                  self.device)
        if states is not None:
            self.load_seed_state_dicts(states)
        return states is not None

    def _following_checkpoint(self) -> int:
        every = self.loop.checkpoint_every
        return (self.step // every + 1) * every

    def seed_state_dict(self, k: int) -> dict[str, Any]:
        """Everything seed `k` needs to resume exactly (`dvg_core.training.checkpoint`), taken
        between episodes."""
        metrics = self.metrics.seed_state_dict(k)  # its counters and sums
        return {
            "agent": self.learner.seed_state_dict(k), "replay": self.replay.seed_state_dict(k),
            **rng_state(self.generator, self.env_generators[k], self.envs[k]),
            "counters": {"step": self.step, "episodes": self.episodes[k], **metrics["counters"],
                         "next_checkpoint": self._following_checkpoint()},
            "sums": metrics["sums"], "seed_group": {"seeds": self.seeds, "index": k},
        }

    def load_seed_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every seed from its `seed_state_dict` (one per seed, in order, all taken at
        the same step); the next env step resets every env."""
        if len(states) != self.n_seeds:
            raise ValueError(f"states must hold one state per seed ({self.n_seeds}), got {len(states)}")
        self.learner.load_seed_state_dicts([s["agent"] for s in states])
        self.replay.load_seed_state_dicts([s["replay"] for s in states])
        load_rng_states(states, self.generator, self.env_generators, self.envs)
        self.episodes = [s["counters"]["episodes"] for s in states]
        self.step = states[0]["counters"]["step"]
        self.next_checkpoint = states[0]["counters"]["next_checkpoint"]
        self.metrics.load_seed_state_dicts(states)
        self.observations = [None] * self.n_seeds

    def state_dict(self) -> dict[str, Any]:
        """Every seed's `seed_state_dict`: `{"seeds": [...]}` (`load_state_dict` restores it)."""
        return {"seeds": [self.seed_state_dict(k) for k in range(self.n_seeds)]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_seed_state_dicts(state["seeds"])
