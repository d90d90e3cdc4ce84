"""The algorithms' configuration: `AlgorithmConfig`, its named variants and the algorithm names.

What distinguishes one algorithm run from another, validated on construction; the strategies that
read it are in `dvg_core.agents.strategies` (which re-exports everything here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dvg_core.losses.kernels import KERNEL_NAMES
from dvg_core.models import ACTIVATIONS
from dvg_core.names import ALGORITHMS, PAPER_ALGORITHMS
from dvg_core.util.validation import (
    check_choice,
    check_int_at_least,
    check_nonnegative,
    check_positive,
    check_probability,
    check_range,
)

__all__ = [
    "ALGORITHMS", "ALGORITHM_VARIANTS", "CRITIC_NOISES", "PAPER_ALGORITHMS", "PAPER_SETTINGS",
    "SHARED_DRAW_ALGORITHMS", "AlgorithmConfig", "SlicingConfig",
]

PAPER_SETTINGS: dict[str, Any] = {
    "truncate": 0.1, "unbiased": False, "critic_noise": "input", "bandwidth": 100.0,
}
"""The paper's (partly GUESSed) critic settings where the workbench's defaults differ: TQC
truncation of the top 10% of pooled targets, the V-statistic MMD², ξ ~ N(0, I) concatenated with
(s, a) into a SiLU network, and the multiquadric at h = 100 (paper-notes §2.3, §2.5, §2.6; the
kernel family and λ = 1 are shared). The defaults pass the fidelity benchmark
(`docs/lab/fidelity.md`); these do not, and stay available for comparison:
`--set algorithm.variant=paper`."""

SHARED_DRAW_ALGORITHMS = ("mmd", "iqn")
"""The algorithms whose targets may share their model draws between the target critics
(`AlgorithmConfig.shared_target_draws`): those with return-only targets."""

CRITIC_NOISES = ("quantile", "input", "head")
"""Where the noise enters a generative critic (`AlgorithmConfig.critic_noise`)."""

LEAN_TARGET_SETTINGS: dict[str, Any] = {"n_target_samples": 5}
"""A FLOP lever of the generative critics' targets: M' = 5 model draws per target critic instead
of 10 (10 pooled target samples against the critic's M = 10), measured for speed and on the
fidelity benchmark before it could become a default: it did not (docs/lab/fidelity.md, "Speed
levers")."""

SHARED_DRAW_SETTINGS: dict[str, Any] = {"shared_target_draws": True}
"""A FLOP lever of the model-based targets: both target critics read the same M' model draws,
so the world model and the target policy run on half the rows (`AlgorithmConfig.
shared_target_draws`), measured on the fidelity benchmark (docs/lab/fidelity.md, "Speed levers")."""

HEAD_NOISE_SETTINGS: dict[str, Any] = {"critic_noise": "head"}
"""A FLOP lever of the generative critics: the noise added to the last hidden layer
(`HeadNoiseCritic`, whose `∇ₐZ` costs one forward-mode pass of the trunk) instead of IQN's
quantile embedding, measured on the fidelity benchmark: it fails it (docs/lab/fidelity.md, "Speed
levers")."""

ALGORITHM_VARIANTS: dict[str, dict[str, Any]] = {
    "default": {}, "paper": PAPER_SETTINGS, "lean-targets": LEAN_TARGET_SETTINGS,
    "head-noise": HEAD_NOISE_SETTINGS, "shared-draws": SHARED_DRAW_SETTINGS,
}
"""Named sets of `AlgorithmConfig` fields: `default` (the workbench's), `paper`, and the speed
levers `lean-targets`, `head-noise` and `shared-draws`."""


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
        for name in ("axes", "fresh_search"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"slicing.{name} must be a bool, got {getattr(self, name)!r}")
        check_range("slicing.step_size", self.step_size, 0.0, math.pi, low_closed=False)


@dataclass(frozen=True)
class AlgorithmConfig:
    """What distinguishes one algorithm run from another; validated on construction."""

    name: str = "dsdpg_msmmd"
    """One of `ALGORITHMS`."""
    gamma: float = 0.99
    """Discount γ in [0, 1)."""
    lam: float = 1.0
    """λ ≥ 0: weight of the gradient part (Sobolev: joint vectors carry √λ∇; MAGE: loss weight)."""
    lam_state: float | None = None
    """λₛ ≥ 0: weight of the state-gradient part of the complete vectors `(Z, √λₛ∇ₛZ, √λ∇ₐZ)`
    (`dsdpg_complete` only; the other algorithms carry no ∇ₛZ and ignore it). None: λₛ = λ, the
    weighting under which the complete operator is a γκ-contraction (docs/concepts/method.md)."""
    n_samples: int = 10
    """M, online critic samples per pair (paper: 10); also the IQN quantile count."""
    n_target_samples: int = 10
    """M', model draws per pair and target critic (pooled over the 2 critics)."""
    shared_target_draws: bool = False
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
    slicing: SlicingConfig = field(default_factory=SlicingConfig)
    """Max-slicing's own options (`dsdpg_msmmd`, `dsdpg_complete`; `--set algorithm.slicing.steps=2`, or the older
    flat names `algorithm.slicing_steps=2`)."""
    xi_dim: int = 8
    """Dimension of the generative critic's noise ξ (`input` and `head` critics; the `quantile`
    critic's noise is the scalar τ)."""
    critic_noise: str = "quantile"
    """How the noise enters the generative critic: `quantile` (ξ = τ ~ U(0, 1) through IQN's
    cosine embedding, multiplied into the (s, a) features: `QuantileCritic` read as a generative
    critic, the default because it passes the fidelity benchmark, docs/lab/fidelity.md), `input`
    (ξ ~ N(0, I) concatenated with (s, a), `GenerativeCritic`: the paper's reading) or `head`
    (added to the last hidden layer, `HeadNoiseCritic`: the issue-9 speed lever)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of actor and critic."""
    critic_activation: str | None = None
    """Activation of the generative critic (`dvg_core.models.ACTIVATIONS`); None: the network's own
    (ReLU for `quantile`, as IQN; SiLU for `input` and `head`)."""
    normalize_obs: bool = False
    """Standardise states by running statistics of the real observations before actor and
    critics (MuJoCo); the world models standardise their own inputs regardless."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critic."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    tau: float = 0.005
    """Polyak rate of the target networks."""
    policy_delay: int = 2
    """Critic updates per actor (and target) update (TD3)."""
    exploration_noise: float = 0.1
    """Std of the Gaussian exploration noise, in units of the action half-range."""
    actor_saturation_penalty: float = 0.0
    """c in the actor loss's `c · mean(u²)`, `u` the actor's pre-tanh output: keeps the tanh out
    of saturation, where its gradient vanishes and a policy that learned to push one way can no
    longer learn to stop (OpenAI Baselines' DDPG penalises the action itself the same way).
    Shared by all algorithms; 0 is TD3's actor."""
    target_policy_noise: float | None = None
    """TD3 target smoothing std; None: 0.2 for td3/mage, 0 for the distributional critics (GUESS:
    smoothing noise would add spurious spread to a distributional target)."""
    target_noise_clip: float = 0.5
    """Clip of the target smoothing noise."""
    huber_delta: float = 1.0
    """Threshold of the Huber losses (mage) and κ of IQN's quantile Huber (td3's loss is the
    paper's squared error)."""

    def __post_init__(self) -> None:
        check_choice("name", self.name, ALGORITHMS)
        check_probability("gamma", self.gamma)
        check_nonnegative("lam", self.lam)
        if self.lam_state is not None:
            check_nonnegative("lam_state", self.lam_state)
        check_int_at_least("n_samples", self.n_samples, 2)
        check_int_at_least("n_target_samples", self.n_target_samples, 1)
        check_probability("truncate", self.truncate)
        check_choice("kernel", self.kernel, KERNEL_NAMES)
        check_positive("bandwidth", self.bandwidth)
        if not isinstance(self.slicing, SlicingConfig):
            raise ValueError(f"slicing must be a SlicingConfig, got {self.slicing!r}")
        for name in ("normalize_obs", "unbiased", "shared_target_draws"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        check_int_at_least("xi_dim", self.xi_dim, 1)
        check_choice("critic_noise", self.critic_noise, CRITIC_NOISES)
        if self.critic_activation is not None:
            check_choice("critic_activation", self.critic_activation, list(ACTIVATIONS))
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden must be a non-empty tuple of ints >= 1, got {self.hidden!r}")
        for name in ("critic_lr", "actor_lr"):
            check_positive(name, getattr(self, name))
        check_range("tau", self.tau, 0.0, 1.0, low_closed=False)
        check_int_at_least("policy_delay", self.policy_delay, 1)
        check_nonnegative("exploration_noise", self.exploration_noise)
        check_nonnegative("actor_saturation_penalty", self.actor_saturation_penalty)
        if self.target_policy_noise is not None:
            check_nonnegative("target_policy_noise", self.target_policy_noise)
        check_nonnegative("target_noise_clip", self.target_noise_clip)
        check_positive("huber_delta", self.huber_delta)
        if self.shared_target_draws and self.name not in SHARED_DRAW_ALGORITHMS:
            raise ValueError(
                f"shared_target_draws is for the return-only targets "
                f"({', '.join(SHARED_DRAW_ALGORITHMS)}), not {self.name}: "
                "a Sobolev target's per-draw gradient needs each target critic's own backward "
                "pass through the model, so sharing the draws saves almost nothing")
        if round(self.truncate * 2 * self.n_target_samples) >= 2 * self.n_target_samples:
            raise ValueError(f"truncate={self.truncate} drops every pooled target sample")

    @property
    def state_lam(self) -> float:
        """λₛ in force: `lam_state`, or λ when it is None."""
        return self.lam if self.lam_state is None else self.lam_state

    @property
    def smoothing(self) -> float:
        """The target policy smoothing std in force."""
        if self.target_policy_noise is not None:
            return self.target_policy_noise
        return 0.2 if self.name in ("td3", "mage") else 0.0
