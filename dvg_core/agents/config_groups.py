"""The groups of `AlgorithmConfig`: what the critic, the actor, the targets, the distance and
max-slicing each take; every group validated on construction, its errors naming the nested key
(`critic.lr`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dvg_core.losses.kernels import KERNEL_NAMES
from dvg_core.models import ACTIVATIONS
from dvg_core.util.validation import (
    check_choice,
    check_int_at_least,
    check_nonnegative,
    check_positive,
    check_probability,
    check_range,
)

__all__ = ["CRITIC_NOISES", "ActorConfig", "CriticConfig", "DistanceConfig", "SlicingConfig",
           "TargetConfig"]

CRITIC_NOISES = ("quantile", "input", "head")
"""Where the noise enters a generative critic (`CriticConfig.noise`)."""


def _check_bools(group: str, config: object, names: tuple[str, ...]) -> None:
    for name in names:
        if not isinstance(getattr(config, name), bool):
            raise ValueError(f"{group}.{name} must be a bool, got {getattr(config, name)!r}")


@dataclass(frozen=True)
class CriticConfig:
    """The critic: its samples, its noise, its network's activation and its optimiser."""

    n_samples: int = 10
    """M, online critic samples per pair (paper: 10); also the IQN quantile count."""
    xi_dim: int = 8
    """Dimension of the generative critic's noise ξ (`input` and `head` critics; the `quantile`
    critic's noise is the scalar τ)."""
    noise: str = "quantile"
    """How the noise enters the generative critic: `quantile` (ξ = τ ~ U(0, 1) through IQN's
    cosine embedding, multiplied into the (s, a) features: `QuantileCritic` read as a generative
    critic, the default because it passes the fidelity benchmark, docs/lab/fidelity.md), `input`
    (ξ ~ N(0, I) concatenated with (s, a), `GenerativeCritic`: the paper's reading) or `head`
    (added to the last hidden layer, `HeadNoiseCritic`: the issue-9 speed lever)."""
    activation: str | None = None
    """Activation of the generative critic (`dvg_core.models.ACTIVATIONS`); None: the network's own
    (ReLU for `quantile`, as IQN; SiLU for `input` and `head`)."""
    lr: float = 3e-4
    """Adam learning rate of the critic."""

    def __post_init__(self) -> None:
        check_int_at_least("critic.n_samples", self.n_samples, 2)
        check_int_at_least("critic.xi_dim", self.xi_dim, 1)
        check_choice("critic.noise", self.noise, CRITIC_NOISES)
        if self.activation is not None:
            check_choice("critic.activation", self.activation, list(ACTIVATIONS))
        check_positive("critic.lr", self.lr)


@dataclass(frozen=True)
class ActorConfig:
    """The actor: its optimiser, its exploration, its loss's penalty and how often it steps."""

    lr: float = 3e-4
    """Adam learning rate of the actor."""
    exploration_noise: float = 0.1
    """Std of the Gaussian exploration noise, in units of the action half-range."""
    saturation_penalty: float = 0.0
    """c in the actor loss's `c · mean(u²)`, `u` the actor's pre-tanh output: keeps the tanh out
    of saturation, where its gradient vanishes and a policy that learned to push one way can no
    longer learn to stop (OpenAI Baselines' DDPG penalises the action itself the same way).
    Shared by all algorithms; 0 is TD3's actor."""
    policy_delay: int = 2
    """Critic updates per actor (and target) update (TD3)."""

    def __post_init__(self) -> None:
        check_positive("actor.lr", self.lr)
        check_nonnegative("actor.exploration_noise", self.exploration_noise)
        check_nonnegative("actor.saturation_penalty", self.saturation_penalty)
        check_int_at_least("actor.policy_delay", self.policy_delay, 1)


@dataclass(frozen=True)
class TargetConfig:
    """The critic's targets: the target networks' Polyak rate, the model draws, the smoothing of
    the target policy and the truncation of pooled target samples."""

    n_samples: int = 10
    """M', model draws per pair and target critic (pooled over the 2 critics)."""
    shared_draws: bool = False
    """The target critics read the same M' model draws per pair (each its own critic noise ξ')
    instead of M' draws each: the world model and the target policy run once per draw, not once
    per critic, and the E·M' pooled samples come in E-tuples that share `(ŝ', r̂)`. Return-only
    targets (`mmd`, `iqn`) only: the Sobolev targets need each critic's own backward pass through
    the model for its `∇ₐy`, so sharing saves them little. The speed lever `shared-draws`
    (issue 17), measured on the fidelity benchmark (docs/lab/fidelity.md, "Speed levers")."""
    truncate: float = 0.0
    """Fraction of pooled target samples dropped from the top (TQC-style; the paper's GUESSed 0.1
    drops the toy's rare rewarded draws and biases every distributional critic low, see
    docs/lab/fidelity.md)."""
    tau: float = 0.005
    """Polyak rate of the target networks."""
    policy_noise: float | None = None
    """TD3 target smoothing std; None: 0.2 for td3/mage, 0 for the distributional critics (GUESS:
    smoothing noise would add spurious spread to a distributional target)."""
    noise_clip: float = 0.5
    """Clip of the target smoothing noise."""

    def __post_init__(self) -> None:
        check_int_at_least("targets.n_samples", self.n_samples, 1)
        _check_bools("targets", self, ("shared_draws",))
        check_probability("targets.truncate", self.truncate)
        check_range("targets.tau", self.tau, 0.0, 1.0, low_closed=False)
        if self.policy_noise is not None:
            check_nonnegative("targets.policy_noise", self.policy_noise)
        check_nonnegative("targets.noise_clip", self.noise_clip)
        if round(self.truncate * 2 * self.n_samples) >= 2 * self.n_samples:
            raise ValueError(f"targets.truncate must keep at least one pooled target sample, got "
                             f"{self.truncate} (it drops every one)")


@dataclass(frozen=True)
class DistanceConfig:
    """How the critic's samples are compared with the targets': the MMD kernel and estimator,
    the Huber threshold, and the weights of the gradient parts of the joint vectors."""

    kernel: str = "multiquadric"
    """MMD kernel: one of `dvg_core.losses.kernels.KERNEL_NAMES`."""
    bandwidth: float = 10.0
    """Kernel bandwidth h (multiquadric) or the RBF bandwidth. The paper's h = 100 makes the
    multiquadric an energy distance at the toy's return scale; h = 10 keeps a quadratic core
    for sample gaps below 0.1 and learns the mean, mean gradient and joint law faster at the same
    spread (docs/lab/fidelity.md)."""
    unbiased: bool = True
    """MMD² estimator of the generative critics: the U-statistic (diagonals of the within-set
    kernel matrices excluded). The V-statistic (False, the paper's) weighs the repulsion between
    a critic's own M samples by (M-1)/M: with an energy-like kernel its minimiser is the target
    law with 1/(2M) of the mass cut from each tail, pulled to the median (docs/lab/fidelity.md)."""
    huber_delta: float = 1.0
    """Threshold of the Huber losses (mage) and κ of IQN's quantile Huber (td3's loss is the
    paper's squared error)."""
    lam: float = 1.0
    """λ ≥ 0: weight of the gradient part (Sobolev: joint vectors carry √λ∇; MAGE: loss weight)."""
    lam_state: float | None = None
    """λₛ ≥ 0: weight of the state-gradient part of the complete vectors `(Z, √λₛ∇ₛZ, √λ∇ₐZ)`
    (`dsdpg_complete` only; the other algorithms carry no ∇ₛZ and ignore it). None: λₛ = λ, the
    weighting under which the complete operator is a γκ-contraction (docs/concepts/method.md)."""

    def __post_init__(self) -> None:
        check_choice("distance.kernel", self.kernel, KERNEL_NAMES)
        check_positive("distance.bandwidth", self.bandwidth)
        _check_bools("distance", self, ("unbiased",))
        check_positive("distance.huber_delta", self.huber_delta)
        check_nonnegative("distance.lam", self.lam)
        if self.lam_state is not None:
            check_nonnegative("distance.lam_state", self.lam_state)


@dataclass(frozen=True)
class SlicingConfig:
    """How max-slicing finds its direction (`dsdpg_msmmd`, `dsdpg_complete`); validated on
    construction."""

    steps: int = 5
    """Ascent steps per update."""
    step_size: float = 0.5
    """First ascent step angle (radians)."""
    restarts: int = 1
    """Random starts besides the warm start (each is ascended)."""
    axes: bool = False
    """Also start from every coordinate axis (1 + d_a more starts)."""
    fresh_search: bool = False
    """Search the direction on a second, independent draw of the critic's samples (detached; the
    targets are shared) and take the loss, at that direction, on the first. Searching on the very
    samples the loss is then taken on (False) picks the direction in which those M samples happen
    to stray most, and the loss pulls them in: against exact targets the critic's return spread
    settles at 0.90 of the targets' per backup (M = 10), compounded by bootstrapping at γ = 0.9
    into a spread ratio of 0.55-0.60; with a fresh draw it settles at 1.01
    (`scripts/sliced_spread_bias.py`, docs/lab/fidelity.md, "Why the spread misses at γ = 0.9")."""

    def __post_init__(self) -> None:
        check_int_at_least("slicing.steps", self.steps, 0)
        check_int_at_least("slicing.restarts", self.restarts, 0)
        _check_bools("slicing", self, ("axes", "fresh_search"))
        check_range("slicing.step_size", self.step_size, 0.0, math.pi, low_closed=False)
