"""The settings of one exploration of the toy (`ExploreSettings`): the algorithm, λ, γ, N, noise,
samples, bandwidth, probe and budgets a researcher moves, validated on construction, with the
toy's spec and the algorithm's config they give."""

from __future__ import annotations

from dataclasses import dataclass

from dvg_core.agents import ALGORITHMS, AlgorithmConfig, SlicingConfig
from dvg_core.envs import PointMassSpec
from dvg_core.util.device import check_device_name, resolve_device
from dvg_core.util.validation import check_choice, check_int_at_least, check_positive, check_range
from workbench.explorer.warm_start import critic_key

__all__ = ["EXPLORE_ALGORITHMS", "ExploreSettings"]

EXPLORE_ALGORITHMS = ALGORITHMS
"""The algorithms an exploration can train (all seven; td3's target uses the model transition)."""


@dataclass(frozen=True)
class ExploreSettings:
    """One exploration; validated on construction (the toy and algorithm configs included)."""

    algorithm: str = "dsdpg_msmmd"
    """One of `EXPLORE_ALGORITHMS`."""
    lam: float = 1.0
    """λ ≥ 0, weight of the gradient part of the critic loss."""
    gamma: float = 0.5
    """Discount γ in [0, 1) (the truth's rollouts last until γ^T < 1e-4: 14 steps at 0.5)."""
    n_locations: int = 3
    """N, the toy's reward locations."""
    noise: float = 0.0
    """σ, the toy's dynamics noise."""
    n_samples: int = 10
    """M, the critic's samples per pair in its loss (M' = M model draws for the target)."""
    bandwidth: float = 100.0
    """Bandwidth h of the loss's multiquadric kernel (paper: 100)."""
    probe: tuple[float, float] = (0.8, 0.3)
    """The probe state s (the action is π(s)); inside the box `[-2, 2]²`."""
    window: float = 0.5
    """Half-width of the square around the probe that most training states come from."""
    local_fraction: float = 0.9
    """Probability that a training state comes from the window rather than the whole box."""
    n_updates: int = 300
    """Critic updates from a fresh critic (a cold start)."""
    warm_updates: int = 50
    """Critic updates from the previous exploration's critic (a warm start,
    `explore(..., start=...)`)."""
    batch_size: int = 64
    """Pairs per critic update."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden sizes of the critic."""
    critic_lr: float = 3e-3
    """Adam learning rate of the critic."""
    n_truth: int = 256
    """Monte-Carlo rollouts for the truth at the probe."""
    n_probe_samples: int = 64
    """Critic samples drawn at the probe (a twin-Q critic gives one point per member)."""
    grid: int = 15
    """Grid points per axis of the value and gradient fields."""
    seed: int = 0
    """Seeds the policy, the critic's initialisation and every random draw."""
    device: str = "auto"
    """Where the exploration runs: `auto` (`cuda` when torch sees a GPU, else `cpu`), `cpu`,
    `cuda` or `cuda:N`."""

    def __post_init__(self) -> None:
        check_choice("algorithm", self.algorithm, EXPLORE_ALGORITHMS)
        if len(self.probe) != 2:
            raise ValueError(f"probe must be a pair (x, y), got {self.probe!r}")
        box = self.spec().box
        for name, value in zip(("probe x", "probe y"), self.probe):
            check_range(name, value, -box, box)
        for name in ("n_updates", "warm_updates", "batch_size", "n_truth", "n_probe_samples"):
            check_int_at_least(name, getattr(self, name), 1)
        check_positive("window", self.window)
        check_range("local_fraction", self.local_fraction, 0.0, 1.0)
        check_int_at_least("grid", self.grid, 2)
        check_int_at_least("seed", self.seed, 0)
        check_device_name(self.device)
        self.algorithm_config()

    def spec(self) -> PointMassSpec:
        """The toy with these settings (validates `n_locations` and `noise`)."""
        return PointMassSpec(n_locations=self.n_locations, dynamics_noise=self.noise)

    def critic_key(self) -> tuple:
        """What a previous exploration must share with this one to warm-start it
        (`workbench.explorer.warm_start.critic_key`: algorithm, hidden sizes, seed, device)."""
        return critic_key(algorithm=self.algorithm, hidden=self.hidden, seed=self.seed,
                          device=resolve_device(self.device))

    def algorithm_config(self) -> AlgorithmConfig:
        """The critic's algorithm (validates `lam`, `gamma`, `n_samples`, `bandwidth` ...).

        GUESS for a fast evaluation: no target truncation, τ = 0.05, one max-slicing start.
        """
        return AlgorithmConfig(
            name=self.algorithm, gamma=self.gamma, lam=self.lam, n_samples=self.n_samples,
            n_target_samples=self.n_samples, bandwidth=self.bandwidth, hidden=self.hidden,
            critic_lr=self.critic_lr, truncate=0.0, tau=0.05,
            slicing=SlicingConfig(restarts=0))
