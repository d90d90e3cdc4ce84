"""One exploration of the toy: a fixed policy, the oracle world model, a critic trained for a few
seconds, and what it learned beside the Monte-Carlo truth.

What `notebooks/explore_toy.ipynb` and its widgets (`workbench.explorer.toy_explorer`) run on every change:
settings in (`ExploreSettings`), an `Exploration` out: the critic's joint samples
`(Z, ∂Z/∂a₁, ∂Z/∂a₂)` at the probe `(s, π(s))`, the Monte-Carlo truth there
(`dvg_core.analysis.policy_evaluation.truth_at`), their joint MMD² before and after training, the critic's
mean value and mean action-gradient over the toy's plane, and the loss curve.

Choices (GUESS, none from the paper): the fixed policy is a random tanh MLP (hidden 32, 32) drawn
from `seed`, shared by every setting with the same seed so that moving λ changes only the critic;
the critic is trained on actions uniform in `[-1, 1]²` and states drawn, with probability
`local_fraction`, uniform in a square window of half-width `window` around the probe (where the
samples figure compares; a few hundred updates learn the law there, while uniform states over the
whole box alone barely move the generative critics' mean in that budget), else uniform in the box
(so the plane's heat-map has a global shape); the probe's action is the policy's `π(s)`.

A cold start (`explore(settings)`) trains a fresh critic for `n_updates` (a few seconds on one CPU
core); a warm start (`explore(settings, start=previous.critic)`, what the widgets do after a move)
trains the previous critic for `warm_updates` (under a second; `workbench.explorer.warm_start`).
Everything runs on `settings.device` (`auto`: a GPU if torch sees one); the networks are tiny, so
the CPU is fast enough, and a cold start with the same seed gives the same CPU numbers (a GPU
draws other random streams, so its numbers differ).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from dvg_core.agents.agent import Agent
from dvg_core.envs import PointMassDynamics
from dvg_core.models import Actor
from dvg_core.analysis.policy_evaluation import (
    PairSampler,
    critic_joint_samples,
    joint_mmd_to_truth,
    train_critic,
    truth_at,
    uniform_pairs,
)
from dvg_core.util.device import resolve_device
from dvg_core.util.validation import check_positive, check_range
from dvg_core.models.world_models import OracleWorldModel
from workbench.explorer import figures as plots
from workbench.explorer.settings import EXPLORE_ALGORITHMS, ExploreSettings
from workbench.explorer.warm_start import CriticState, capture_critic, load_critic

__all__ = [
    "EXPLORE_ALGORITHMS",
    "CriticState",
    "Exploration",
    "ExploreSettings",
    "explore",
    "figures",
    "probe_window_pairs",
    "summary",
    "warm_start",
]

Progress = Callable[[int, int], None]
"""`progress(done, total)`, called during training with the number of critic updates done."""

_POLICY_HIDDEN = (32, 32)


@dataclass(frozen=True)
class Exploration:
    """What one exploration measured; arrays are numpy, D = 1 + d_a = 3."""

    settings: ExploreSettings
    probe_state: np.ndarray
    """`[2]` the probe state s."""
    probe_action: np.ndarray
    """`[2]` the policy's action π(s) there."""
    samples: np.ndarray
    """`[K, D]` the trained critic's `(Z, ∇ₐZ)` at the probe (λ-free, unscaled gradients)."""
    truth: np.ndarray
    """`[K', D]` Monte-Carlo `(G, ∇ₐG)` at the probe."""
    mmd: float
    """Joint MMD² of `samples` to `truth` (`joint_mmd_to_truth`, standardised units)."""
    start_mmd: float
    """The same for the critic before this exploration's training (same draws): the fresh
    initialisation, or the warm start."""
    locations: np.ndarray
    """`[N, 2]` reward locations."""
    grid: np.ndarray
    """`[G]` coordinates of the field grid (both axes)."""
    value: np.ndarray
    """`[G, G]` the critic's mean `Z(s, π(s))`, rows indexed by y, columns by x."""
    grad: np.ndarray
    """`[G, G, 2]` the critic's mean `∇ₐZ(s, π(s))`, same indexing."""
    losses: np.ndarray
    """`[U]` the critic loss of every update (U = n_updates cold, warm_updates warm)."""
    warm: bool
    """Whether training started from a previous exploration's critic."""
    critic: CriticState
    """The trained critic, to warm-start the next exploration from."""
    seconds: float
    """Wall time of the whole exploration."""


def probe_window_pairs(box: float, probe: torch.Tensor, *, window: float,
                       local_fraction: float) -> PairSampler:
    """A sampler of `(s [B, 2], a [B, 2])`: actions uniform in `[-1, 1]²`; states uniform in
    the window `probe ± window` (clipped to the box) with probability `local_fraction`, else
    uniform in `[-box, box]²`.

    Args:
      box: half-side L of the toy's square.
      probe: `[2]` the window's centre.
      window: half-width of the window, > 0.
      local_fraction: probability in [0, 1] of a state from the window.
    """
    check_positive("window", window)
    check_range("local_fraction", local_fraction, 0.0, 1.0)
    edge = torch.full_like(probe, box)
    uniform = uniform_pairs(-edge, edge, 2)
    local = uniform_pairs(torch.maximum(probe - window, -edge),
                          torch.minimum(probe + window, edge), 2)

    def sample(batch: int, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        state_u, action_u = uniform(batch, generator)
        state_l, action_l = local(batch, generator)
        near = torch.rand(batch, 1, generator=generator, device=probe.device) < local_fraction
        return torch.where(near, state_l, state_u), torch.where(near, action_l, action_u)

    return sample


def _fixed_policy(seed: int) -> Actor:
    torch.manual_seed(seed)
    return Actor(2, 2, hidden=_POLICY_HIDDEN).requires_grad_(False)


def _probe_draws(agent: Agent, state: torch.Tensor,
                 settings: ExploreSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """`π(s)` `[1, 2]` and critic samples `[1, K, D]` there, the draw seeded by `seed` alone."""
    g = torch.Generator(device=state.device).manual_seed(settings.seed + 2)
    action = agent.actor(state)
    samples = critic_joint_samples(agent, state, action, n_samples=settings.n_probe_samples,
                                   generator=g)
    return action, samples


def _fields(agent: Agent, box: float, n: int, device: torch.device
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grid `[G]`, mean value `[G, G]` and mean action-gradient `[G, G, 2]` at `(s, π(s))`."""
    axis = torch.linspace(-box, box, n, device=device)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    states = torch.stack([x, y], dim=-1).reshape(-1, 2)  # [G·G, 2], rows y-major
    g = torch.Generator(device=device).manual_seed(0)
    joint = critic_joint_samples(agent, states, agent.actor(states), n_samples=8, generator=g)
    mean = joint.mean(dim=1).reshape(n, n, -1)  # [G, G, D]
    return axis, mean[..., 0], mean[..., 1:]


def _agent(settings: ExploreSettings, dyn: PointMassDynamics, device: torch.device,
           start: CriticState | None) -> Agent:
    """The fixed policy and a critic, fresh (under a forked global RNG) or loaded from `start`."""
    with torch.random.fork_rng(devices=[]):
        actor = _fixed_policy(settings.seed)
        torch.manual_seed(settings.seed + 1)
        agent = Agent(settings.algorithm_config(), 2, 2, OracleWorldModel(dyn),
                      actor=actor).to(device)
    if start is not None:
        load_critic(agent, start, settings.critic_key())
    return agent


def explore(settings: ExploreSettings, *, start: CriticState | None = None,
            progress: Progress | None = None) -> Exploration:
    """Train a critic for the fixed policy and measure it against the truth (see the module).

    A cold start (`start=None`) trains a fresh critic for `n_updates` and is deterministic for
    given settings; a warm start trains `start` (a previous `Exploration.critic`) for
    `warm_updates`, so its answer also depends on the settings that trained `start`. Either way
    the caller's global torch RNG is untouched: the networks are initialised under a forked
    global RNG, every other draw comes from generators seeded by `settings.seed`.

    Args:
      settings: the exploration.
      start: the critic to start from (same `settings.critic_key()`, else `ValueError`).
      progress: called as `progress(done, total)` about 50 times during training, and at the end.
    """
    begin = time.perf_counter()
    device = resolve_device(settings.device)
    spec = settings.spec()
    dyn = PointMassDynamics(spec)
    agent = _agent(settings, dyn, device, start)
    n_updates = settings.n_updates if start is None else settings.warm_updates
    state = torch.tensor([settings.probe], dtype=torch.float32, device=device)  # [1, 2]
    truth = truth_at(dyn, agent, state, agent.actor(state), gamma=settings.gamma,
                     n_samples=settings.n_truth, generator=torch.Generator(
                         device=device).manual_seed(settings.seed + 3))  # [1, K', D]
    _, before = _probe_draws(agent, state, settings)
    every = max(1, n_updates // 50)

    def callback(i: int, info: dict[str, torch.Tensor]) -> None:
        if progress is not None and (i + 1) % every == 0:
            progress(i + 1, n_updates)

    pairs = probe_window_pairs(spec.box, state[0], window=settings.window,
                               local_fraction=settings.local_fraction)
    losses = train_critic(agent, pairs, n_updates=n_updates,
                          batch_size=settings.batch_size, callback=callback,
                          generator=torch.Generator(device=device).manual_seed(settings.seed + 4))
    action, samples = _probe_draws(agent, state, settings)
    grid, value, grad = _fields(agent, spec.box, settings.grid, device)
    mmd = joint_mmd_to_truth(torch.cat([before, samples]), truth.expand(2, -1, -1))  # [2]
    if progress is not None:
        progress(n_updates, n_updates)
    state, action, samples, truth, grid, value, grad, losses = (
        t.detach().cpu().numpy() for t in (state, action, samples, truth, grid, value, grad,
                                           losses))
    return Exploration(
        settings=settings, probe_state=state[0], probe_action=action[0], samples=samples[0],
        truth=truth[0], mmd=float(mmd[1]), start_mmd=float(mmd[0]),
        locations=spec.locations().numpy(), grid=grid, value=value, grad=grad, losses=losses,
        warm=start is not None, critic=capture_critic(agent, settings.critic_key()),
        seconds=time.perf_counter() - begin)


def warm_start(previous: Exploration | None, settings: ExploreSettings) -> CriticState | None:
    """`previous.critic` if it can start an exploration with `settings`, else None (a cold start).

    It can if it has the same `critic_key()` (algorithm, hidden sizes, seed, device) and the new
    probe lies in the window `previous` trained on (`|Δprobe|∞ ≤ previous.settings.window`):
    farther away it saw only the few uniform states, and 50 warm updates end farther from the
    truth than a cold start (docs/lab/results.md, "The explorer").
    """
    if previous is None or previous.critic.key != settings.critic_key():
        return None
    moved = np.abs(np.subtract(settings.probe, previous.settings.probe)).max()
    return previous.critic if moved <= previous.settings.window else None


def summary(result: Exploration) -> str:
    """One line: algorithm, updates, time and the joint MMD² before and after training."""
    s = result.settings
    start = "warm start" if result.warm else "untrained"
    return (f"{s.algorithm}: {len(result.losses)} critic updates in {result.seconds:.1f} s; "
            f"joint MMD² to the truth at the probe {result.mmd:.4f} ({start} "
            f"{result.start_mmd:.4f})")


def figures(result: Exploration) -> dict[str, go.Figure]:
    """The exploration's three figures: `"samples"`, `"plane"` and `"loss"`."""
    s = result.settings
    where = (f"s=({result.probe_state[0]:.2f}, {result.probe_state[1]:.2f}), "
             f"π(s)=({result.probe_action[0]:.2f}, {result.probe_action[1]:.2f})")
    setting = f"{s.algorithm}, λ={s.lam:g}, γ={s.gamma:g}, N={s.n_locations}, σ={s.noise:g}"
    return {
        "samples": plots.joint_samples_vs_truth(
            result.samples, result.truth, mmd=result.mmd,
            title=f"Joint samples at {where} ({setting})"),
        "plane": plots.toy_plane(
            result.grid, result.value, result.grad, result.locations,
            probe=result.probe_state,
            title=f"Critic's mean value and ∇ₐZ<br><sup>{setting}</sup>"),
        "loss": plots.loss_curve(result.losses, title=f"Critic loss ({s.algorithm})"),
    }
