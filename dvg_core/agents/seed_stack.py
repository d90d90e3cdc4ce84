"""Seed-vectorised agents: S seeds of one configuration updated at once, in one process.

The S agents are built exactly as S separate runs build theirs (each from its own seed), then
their parameters and buffers are stacked along a leading seed dim `[S, ...]`
(`torch.func.stack_module_state`). Every operation of the single-seed agent (critic loss, actor
loss, world-model loss, acting) runs as one `torch.func.vmap` of the *unchanged* single-seed code
over that dim, with `randomness="different"`: each seed draws its own noise, so a seed's run is
identical in distribution to a separate run (not bitwise: the seeds share the generator). The
single-seed code is vmap-safe because it takes action-gradients with `torch.func.vjp`.

Why this is exact: a seed's loss depends only on its own slice of the stacked parameters, so the
gradient of the summed loss restricted to that slice is the seed's own gradient, and Adam is
elementwise, so one Adam over the stacked parameters is S independent Adams stepping in lockstep.

Why this is fast: on small networks an update is dominated by per-operation overhead, not
arithmetic; vmap turns S small matmuls into one batched matmul, so S seeds cost far less than S
updates (measured by `python -m workbench bench --seeds S`).

Shapes: everything the stack takes or returns carries the seed dim first, e.g. a replay batch
`state [S, B, d_s]`, actions `[S, d_a]`, per-seed losses `[S]`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from dvg_core.agents.agent import Agent, actor_loss
from dvg_core.agents.learner import TensorPairs, UpdateSchedule
from dvg_core.agents.replay import Batch
from dvg_core.util.updates import gradient_step

__all__ = ["SeedStack"]


class _Bound(nn.Module):
    """`forward(fn, *args) = fn(agent, *args)`: lets `functional_call` run any agent method."""

    def __init__(self, agent: Agent) -> None:
        super().__init__()
        self.agent = agent

    def forward(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.agent, *args)


def _critic_loss(agent: Agent, batch: Batch, strategy_state: dict, generator) -> tuple:
    strategy = agent.strategy
    strategy.load_state_dict(strategy_state)
    loss, info = strategy.critic_loss(agent.critic, agent.targets, batch, generator)
    return loss.mean(), info, strategy.state_dict()


def _model_loss(agent: Agent, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    return agent.world_model.fit_loss(batch.state, batch.action, batch.reward, batch.next_state)


def _act(agent: Agent, state: torch.Tensor, noise_std: float, generator) -> torch.Tensor:
    return agent.act(state, noise_std=noise_std, generator=generator)


def _observe(agent: Agent, observation: torch.Tensor, include: torch.Tensor) -> torch.Tensor:
    agent.obs_normalizer.update_one(observation, include)
    return observation


def _optimizer_like(optimizer: torch.optim.Optimizer, params: list[torch.Tensor]):
    """A fresh optimiser of the same class and hyper-parameters over `params`."""
    return type(optimizer)(params, **optimizer.defaults)


class SeedStack(UpdateSchedule):
    """S agents of one configuration as one stack of parameters, a `Learner`; see the module
    docstring (the update schedule, target updates and model fit are `UpdateSchedule`'s).

    Args:
      agents: S >= 1 freshly built agents of the same configuration (their parameters are
        copied into the stack; the objects receive a seed's slice only when asked for it:
        `agent`, `seed_state_dict`).

    Attributes:
      params, buffers: name -> stacked tensor `[S, ...]` (names as in `Agent.named_parameters`).
      strategy_state: the strategy's own state stacked per seed (max-slicing's direction).
      n_critic_updates: critic steps taken (the same for every seed).
    """

    def __init__(self, agents: Sequence[Agent]) -> None:
        if not agents:
            raise ValueError("agents must hold at least one agent")
        self.agents = list(agents)
        self.template = agents[0]
        self.config = self.template.config
        self.n_seeds = len(agents)
        self._bound = _Bound(self.template)
        params, buffers = stack_module_state(list(agents))
        self.params, self.buffers = params, buffers
        self.strategy_state = {k: torch.stack([a.strategy.state_dict()[k] for a in agents])
                               for k in self.template.strategy.state_dict()}
        self.actor_optimizer = _optimizer_like(self.template.actor_optimizer, self._group("actor"))
        self.critic_optimizer = _optimizer_like(self.template.critic_optimizer,
                                                self._group("critic"))
        model_optimizer = getattr(self.template.world_model, "optimizer", None)
        model_params = self._group("world_model")
        self.model_optimizer = (_optimizer_like(model_optimizer, model_params)
                                if model_optimizer is not None and model_params else None)
        self._target_pairs = [
            ([self.params[f"{target}.{n}"] for n in names], [self.params[f"{online}.{n}"]
                                                             for n in names])
            for target, online, names in (
                ("critic_target", "critic", self._names("critic")),
                ("actor_target", "actor", self._names("actor")),
            )
        ]  # critic first, as `Agent.target_pairs`
        self._bound_cache: dict[tuple[str, ...], dict[str, torch.Tensor]] = {}
        self.n_critic_updates = 0

    def _names(self, module: str) -> list[str]:
        prefix = f"{module}."
        return [n[len(prefix):] for n in self.params if n.startswith(prefix)]

    def _group(self, module: str) -> list[torch.Tensor]:
        return [self.params[f"{module}.{n}"] for n in self._names(module)]

    @property
    def device(self) -> torch.device:
        return next(iter(self.params.values())).device

    # ----------------------------------------------------------------- vmapped calls
    def map(self, fn: Callable[..., Any], *args: Any, modules: Sequence[str]) -> Any:
        """`fn(agent, *args)` for every seed at once: args (and the result) carry the seed dim
        first; non-tensor args go in through `fn`'s closure.

        `modules` names the agent's submodules `fn` uses (e.g. `("actor",)`): only their
        tensors (and the shared observation normaliser's) are swapped in, which is most of the
        cost of a small call. A submodule `fn` uses but `modules` omits would run with the
        template's unbatched tensors: the tests compare every path against separate agents.
        """
        tensors = self._bound_tensors(tuple(modules))

        def one(seed_tensors, *seed_args):
            return functional_call(self._bound, seed_tensors, (fn, *seed_args),
                                   tie_weights=False)

        return vmap(one, randomness="different")(tensors, *args)

    def _bound_tensors(self, modules: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """The stacked tensors of `modules` and of the shared observation normaliser, by name.

        A shared module is one object, so setting its tensor under one name sets it for every
        path to it (hence `tie_weights=False`, which skips torch's costly search for ties).
        """
        if modules not in self._bound_cache:
            prefixes = tuple(f"{m}." for m in modules)
            self._bound_cache[modules] = {
                f"agent.{name}": t for name, t in (self.params | self.buffers).items()
                if name.startswith(prefixes) or "obs_normalizer." in name
            }
        return self._bound_cache[modules]

    def update_critic(self, batch: Batch, generator: torch.Generator | None = None):
        """One critic step per seed; returns per-seed diagnostics `{key: [S]}`."""
        state = self.strategy_state
        loss, info, new_state = self.map(
            lambda agent, b, s: _critic_loss(agent, b, s, generator), batch, state,
            modules=("critic", "critic_target", "actor_target", "world_model"))
        self.template.strategy.load_state_dict(  # drop the vmap-level tensor it holds now
            {k: v[0] for k, v in state.items()})
        gradient_step(self.critic_optimizer, loss.sum())  # the seeds' losses are independent
        self.strategy_state = {k: v.detach() for k, v in new_state.items()}
        self.n_critic_updates += 1
        return {"critic_loss": loss.detach(), **{k: v.detach() for k, v in info.items()}}

    def update_actor(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One actor step per seed."""
        loss = self.map(actor_loss, batch, modules=("actor", "critic"))
        gradient_step(self.actor_optimizer, loss.sum())
        return {"actor_loss": loss.detach()}

    def target_pairs(self, actor: bool = True) -> TensorPairs:
        """The stacked target critic's and (with `actor`) target actor's parameters, with the
        online ones they follow."""
        return self._target_pairs if actor else self._target_pairs[:1]

    def model_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Every seed's world-model `fit_loss` on its slice of `batch [S, B, ·]`: `[S]`."""
        return self.map(_model_loss, batch, modules=("world_model",))

    @torch.no_grad()
    def act(self, state: torch.Tensor, *, noise_std: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """`Agent.act` per seed: `state [S, d_s] -> action [S, d_a]`."""
        return self.map(lambda agent, s: _act(agent, s, noise_std, generator), state,
                        modules=("actor",))

    def observe(self, observation: torch.Tensor, include: torch.Tensor | None = None) -> None:
        """`Agent.observe` per seed: merge `observation [S, d_s]` into each seed's observation
        statistics (if normalising), only for the seeds where `include [S]` (0/1) is 1."""
        if self.template.obs_normalizer is None:
            return
        observation = observation.to(self.device, torch.float32)
        if include is None:
            include = torch.ones(self.n_seeds, device=self.device)
        self.map(_observe, observation, include.to(self.device), modules=())

    # ----------------------------------------------------------------- per-seed checkpoints
    @torch.no_grad()
    def agent(self, seed_index: int) -> Agent:
        """The agent seed `seed_index` was built from, its networks copied in from the stack."""
        agent = self.agents[seed_index]
        for name, tensor in self.params.items():
            agent.get_parameter(name).copy_(tensor[seed_index])
        for name, tensor in self.buffers.items():
            agent.get_buffer(name).copy_(tensor[seed_index])
        return agent

    def seed_state_dict(self, seed_index: int) -> dict[str, Any]:
        """Seed `seed_index`'s `Agent.checkpoint_state()`, from its slice of the stack (its
        agent receives the slice first)."""
        agent = self.agent(seed_index)
        optimizers = {"actor_optimizer": self.actor_optimizer,
                      "critic_optimizer": self.critic_optimizer,
                      "model_optimizer": self.model_optimizer}
        return {
            "networks": agent.state_dict(),
            **{name: None if opt is None else _slice_optimizer_state(opt.state_dict(), seed_index)
               for name, opt in optimizers.items()},
            "strategy": {key: v[seed_index] for key, v in self.strategy_state.items()},
            "n_critic_updates": self.n_critic_updates,
        }

    def load_seed_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every seed from its `Agent.checkpoint_state()` (the inverse of
        `seed_state_dict`, over all seeds; the agents are loaded on the way)."""
        for agent, state in zip(self.agents, states, strict=True):
            agent.load_checkpoint_state(state)
        with torch.no_grad():
            for name, tensor in self.params.items():
                tensor.copy_(torch.stack([a.get_parameter(name) for a in self.agents]))
            for name, tensor in self.buffers.items():
                tensor.copy_(torch.stack([a.get_buffer(name) for a in self.agents]))
        self.strategy_state = {key: torch.stack([s["strategy"][key] for s in states])
                               for key in states[0]["strategy"]}
        for name in ("actor_optimizer", "critic_optimizer", "model_optimizer"):
            optimizer = getattr(self, name)
            if optimizer is not None:
                optimizer.load_state_dict(_stack_optimizer_states([s[name] for s in states]))
        self.n_critic_updates = int(states[0]["n_critic_updates"])


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
