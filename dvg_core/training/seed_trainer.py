"""The Dyna loop of `dvg_core.training.trainer` for S seeds of one configuration at once (`SeedStack`).

Each seed keeps what a separate run has: its own envs (seeded as that run's), its own random
warm-up actions, replay, episodes, evaluation episodes, metric rows and record. What the seeds
share is the lockstep schedule (every seed takes its env step, model fit and `utd` updates at
the same time) and one torch generator for the update noise, so seed k's run is identical in
distribution to `Trainer` with seed k, not bitwise.

Checkpoints are per seed and in `Trainer`'s format (a seed's record is an ordinary record):
each seed's `checkpoint.pt` holds its slice of the stack and optimiser moments, its replay, its
env RNGs, its counters, and the group's generator. They are taken when every seed is between
episodes (at each multiple of `checkpoint_every` on the toy, whose episodes have a fixed horizon;
rarely on tasks with terminations), and at the end. A diverged seed stops logging and
checkpointing (its last good checkpoint stays) while the others train on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from tqdm.auto import tqdm

from dvg_core.agents.agent import Agent
from dvg_core.configs import LoopConfig, ModelConfig
from dvg_core.training.trainer import (
    CHECKPOINT_NAME,
    MetricsSink,
    TrainResult,
    env_rng_state,
    set_env_rng_state,
)
from dvg_core.agents import SeedReplay, SeedStack

__all__ = ["SeedTrainer"]


def _slice_optimizer_state(state: dict[str, Any], index: int) -> dict[str, Any]:
    """One seed's view of a stacked optimiser's `state_dict()` (moments `[S, ...]` sliced)."""
    return {
        "state": {i: {k: (v[index].clone() if k != "step" and v.dim() > 0 else v.clone())
                      for k, v in s.items()} for i, s in state["state"].items()},
        "param_groups": state["param_groups"],
    }


def _stack_optimizer_states(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The inverse of `_slice_optimizer_state` over all seeds."""
    first = states[0]
    return {
        "state": {i: {k: (torch.stack([s["state"][i][k] for s in states])
                          if k != "step" and v.dim() > 0 else v) for k, v in st.items()}
                  for i, st in first["state"].items()},
        "param_groups": first["param_groups"],
    }


class SeedTrainer:
    """`Trainer` for S agents (same config, seeds `seeds`); see the module docstring.

    Args:
      agents: the S freshly built agents, each built as its own run would build it.
      envs, eval_envs: S training and S evaluation envs, seeded per seed.
      loop, model: schedules.
      seeds: the S seeds (evaluation episode seeds and warm-up action generators follow them).
      run_dirs: S record directories (checkpoints).
      logs: S metric sinks.
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
        self.agents, self.stack = list(agents), SeedStack(agents)
        self.envs, self.eval_envs = list(envs), list(eval_envs)
        self.loop, self.model, self.seeds = loop, model, list(seeds)
        self.run_dirs, self.logs, self.progress = [Path(d) for d in run_dirs], list(logs), progress
        self.n_seeds, self.device = n, self.stack.device
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
        self.counts: dict[str, int] = {}
        self.n_summed = self.fit_count = 0
        self.next_checkpoint = loop.checkpoint_every

    # ----------------------------------------------------------------- the loop
    def run(self) -> list[TrainResult]:
        """Train every seed to `total_steps` (a diverged seed stops there); one result per seed."""
        bar = tqdm(total=self.loop.total_steps, initial=self.step, disable=not self.progress,
                   desc=f"{self.stack.config.name} x{self.n_seeds}", unit="step", mininterval=1.0)
        clock = (time.perf_counter(), self.step, self.stack.n_critic_updates)
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
        return [TrainResult("diverged", d, self.step) if d is not None
                else TrainResult("done", f"trained {self.step} env steps (seed-vectorised, "
                                 f"{self.n_seeds} seeds)", self.step)
                for d in self.diverged]

    def _env_step(self) -> None:
        reset = torch.tensor([o is None for o in self.observations], dtype=torch.float32)
        for k, env in enumerate(self.envs):
            if self.observations[k] is None:
                self.observations[k], _ = env.reset()
                self.episode_returns[k], self.episode_lengths[k] = 0.0, 0
        states = torch.as_tensor(np.stack(self.observations), dtype=torch.float32)
        if bool(reset.any()):
            self.stack.observe(states, reset)  # as `Trainer`: the reset observation, then s'
        actions = self._actions(states)
        transitions = [env.step(a) for env, a in zip(self.envs, actions)]
        next_obs = np.stack([t[0] for t in transitions])
        rewards = np.array([t[1] for t in transitions], dtype=np.float32)
        terminated = np.array([t[2] for t in transitions], dtype=np.float32)
        self.replay.add(states, torch.as_tensor(actions), torch.as_tensor(rewards),
                        torch.as_tensor(next_obs, dtype=torch.float32),
                        torch.as_tensor(terminated))
        self.stack.observe(torch.as_tensor(next_obs, dtype=torch.float32))
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
        if self.step < self.loop.warmup_steps:  # each seed's own warm-up generator
            u = torch.stack([torch.rand(self.action_low.shape, generator=g)
                             for g in self.env_generators])
            return (self.action_low + (self.action_high - self.action_low) * u).numpy()
        actions = self.stack.act(states.to(self.device),
                                 noise_std=self.stack.config.exploration_noise,
                                 generator=self.generator)
        return actions.cpu().numpy()

    def _learn(self) -> None:
        infos = [self.stack.update(self.replay.sample(self.loop.batch_size, self.generator),
                                   self.generator) for _ in range(self.loop.utd)]
        for info in infos:
            for key, value in info.items():
                self.sums[key] = self.sums.get(key, torch.zeros(self.n_seeds, device=self.device)) + value
                self.counts[key] = self.counts.get(key, 0) + 1
        self.n_summed += len(infos)
        loss = torch.stack([i["critic_loss"] for i in infos])  # [utd, S]
        value = torch.stack([i["critic_value"] for i in infos])
        bad = ((~torch.isfinite(loss)) | (~torch.isfinite(value))
               | (value.abs() > self.loop.divergence_bound)).any(0)  # [S]: one host sync
        for k in torch.nonzero(bad).flatten().tolist():
            if self.diverged[k] is None:
                self.diverged[k] = (
                    f"critic_loss is not finite at env step {self.step}"
                    if not bool(torch.isfinite(loss[:, k]).all()) else
                    f"critic value {float(value[-1, k]):.3g} beyond the bound "
                    f"±{self.loop.divergence_bound:g} at env step {self.step}")

    def _fit_model(self, n_steps: int) -> None:
        if n_steps == 0 or self.stack.model_optimizer is None:
            return
        for _ in range(n_steps):
            metrics = self.stack.fit_model(self.replay.sample(self.model.batch_size,
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
                actions = self.stack.act(states).cpu().numpy()
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
        for k in range(self.n_seeds):
            row: dict[str, Any] = {"step": self.step, "kind": "train",
                                   "episodes": self.episodes[k]}
            if self.n_summed:
                row |= {key: v[k] / self.counts[key] for key, v in sums.items()
                        if key != "model_loss"}
            if "model_loss" in sums:
                row["model_loss"] = sums["model_loss"][k] / max(self.fit_count, 1)
            row["updates_per_s"] = (self.stack.n_critic_updates - clock[2]) / elapsed
            row["env_steps_per_s"] = (self.step - clock[1]) / elapsed
            self._log(k, row)
        self.sums, self.counts, self.n_summed, self.fit_count = {}, {}, 0, 0
        return now, self.step, self.stack.n_critic_updates

    # ----------------------------------------------------------------- checkpoints
    def _agent_state(self, k: int) -> dict[str, Any]:
        """Seed k's `Agent.checkpoint_state()`, from its slice of the stack."""
        agent, stack = self.agents[k], self.stack
        with torch.no_grad():
            for name, tensor in stack.params.items():
                agent.get_parameter(name).copy_(tensor[k])
            for name, tensor in stack.buffers.items():
                agent.get_buffer(name).copy_(tensor[k])
        optimizers = {"actor_optimizer": stack.actor_optimizer,
                      "critic_optimizer": stack.critic_optimizer,
                      "model_optimizer": stack.model_optimizer}
        return {
            "networks": agent.state_dict(),
            **{name: None if opt is None else _slice_optimizer_state(opt.state_dict(), k)
               for name, opt in optimizers.items()},
            "strategy": {key: v[k] for key, v in stack.strategy_state.items()},
            "n_critic_updates": stack.n_critic_updates,
        }

    def save_checkpoints(self) -> None:
        """Each live seed's checkpoint, in `Trainer`'s format, atomically."""
        replay = self.replay.state_dict()
        following = (self.step // self.loop.checkpoint_every + 1) * self.loop.checkpoint_every
        for k in range(self.n_seeds):
            if self.diverged[k] is not None:
                continue  # its last good checkpoint stays
            state = {
                "agent": self._agent_state(k),
                "replay": {key: (v[:, k] if isinstance(v, torch.Tensor) else v)
                           for key, v in replay.items()},
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": [],
                "generator": self.generator.get_state(),
                "env_generator": self.env_generators[k].get_state(),
                "env_rng": env_rng_state(self.envs[k]),
                "counters": {"step": self.step, "episodes": self.episodes[k],
                             "n_summed": self.n_summed, "fit_count": self.fit_count,
                             "metric_counts": dict(self.counts), "next_checkpoint": following},
                "sums": {key: v[k].clone() for key, v in self.sums.items()},
                "seed_group": {"seeds": self.seeds, "index": k},
            }
            self.run_dirs[k].mkdir(parents=True, exist_ok=True)
            path = self.run_dirs[k] / CHECKPOINT_NAME
            torch.save(state, path.with_suffix(".tmp"))
            os.replace(path.with_suffix(".tmp"), path)
        self.next_checkpoint = following

    def load_checkpoints(self) -> bool:
        """Resume every seed from its checkpoint, if all have one at the same step written by
        this group; returns whether they were loaded."""
        paths = [d / CHECKPOINT_NAME for d in self.run_dirs]
        if not all(p.exists() for p in paths):
            return False
        states = [torch.load(p, map_location=self.device, weights_only=True) for p in paths]
        group = [s.get("seed_group", {}).get("seeds") for s in states]
        steps = {s["counters"]["step"] for s in states}
        if any(g != self.seeds for g in group) or len(steps) != 1:
            return False
        for agent, state in zip(self.agents, states):
            agent.load_checkpoint_state(state["agent"])
        self._restack([s["agent"] for s in states])
        self.replay.load_state_dict({
            key: (torch.stack([s["replay"][key] for s in states], 1)
                  if isinstance(states[0]["replay"][key], torch.Tensor)
                  else states[0]["replay"][key]) for key in states[0]["replay"]})
        first = states[0]
        torch.set_rng_state(first["torch_rng"].cpu())
        self.generator.set_state(first["generator"].cpu())
        for k, state in enumerate(states):
            self.env_generators[k].set_state(state["env_generator"].cpu())
            set_env_rng_state(self.envs[k], state["env_rng"])
            self.episodes[k] = state["counters"]["episodes"]
        counters = first["counters"]
        self.step, self.next_checkpoint = counters["step"], counters["next_checkpoint"]
        self.n_summed, self.fit_count = counters["n_summed"], counters["fit_count"]
        self.counts = dict(counters["metric_counts"])
        self.sums = {key: torch.stack([s["sums"][key] for s in states])
                     for key in first["sums"]}
        self.observations = [None] * self.n_seeds
        return True

    def _restack(self, agent_states: Sequence[dict[str, Any]]) -> None:
        """Copy the per-seed agents (just loaded) back into the stack."""
        stack = self.stack
        with torch.no_grad():
            for name, tensor in stack.params.items():
                tensor.copy_(torch.stack([a.get_parameter(name) for a in self.agents]))
            for name, tensor in stack.buffers.items():
                tensor.copy_(torch.stack([a.get_buffer(name) for a in self.agents]))
        stack.strategy_state = {key: torch.stack([s["strategy"][key] for s in agent_states])
                                for key in agent_states[0]["strategy"]}
        for name in ("actor_optimizer", "critic_optimizer", "model_optimizer"):
            optimizer = getattr(stack, name)
            if optimizer is not None:
                optimizer.load_state_dict(_stack_optimizer_states([s[name] for s in agent_states]))
        stack.n_critic_updates = int(agent_states[0]["n_critic_updates"])
