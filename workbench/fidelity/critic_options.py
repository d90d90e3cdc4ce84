"""What the critic-fidelity grid runs (`FidelityOptions`: settings, algorithms, variants, seeds,
budgets, validated on construction) and each algorithm's config in it (`algorithm_config`)."""

from __future__ import annotations

from dataclasses import dataclass

from dvg_core.agents import ALGORITHM_VARIANTS, ALGORITHMS, PAPER_ALGORITHMS, AlgorithmConfig
from dvg_core.analysis.fidelity import FidelitySetting

__all__ = ["DISTRIBUTIONAL", "REFERENCE_ALGORITHM", "FidelityOptions", "algorithm_config"]

DISTRIBUTIONAL = ("iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd", "dsdpg_complete")
"""The critics a variant's settings (truncation, estimator, noise) apply to."""

REFERENCE_ALGORITHM = "dsdpg_msmmd"
"""The network and loss of the reference rows (the method's own critic)."""


@dataclass(frozen=True)
class FidelityOptions:
    """What `run_fidelity` runs; validated on construction."""

    n_locations: tuple[int, ...] = (1, 3, 5)
    """Reward locations N of the toy."""
    gammas: tuple[float, ...] = (0.5, 0.9)
    """Discounts γ."""
    noises: tuple[float, ...] = (0.0, 0.05)
    """Dynamics noise σ of the toy."""
    algos: tuple[str, ...] = PAPER_ALGORITHMS
    """Algorithms whose critics are measured (default: the paper's six; any of `ALGORITHMS`)."""
    variants: tuple[str, ...] = ("default",)
    """Algorithm settings: any of `ALGORITHM_VARIANTS` (`default`, the workbench's; `paper`;
    the speed levers `lean-targets`, `head-noise`, `shared-draws`)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Critic seeds (initialisation and training stream; probes and actor are fixed)."""
    updates: int = 4000
    """Critic updates per row."""
    n_checkpoints: int = 4
    """Measurements per row, evenly spaced up to `updates`."""
    references: bool = True
    """Add the `exact_targets` and `regression` reference rows (the `REFERENCE_ALGORITHM`)."""
    exact_updates: int = 2000
    """Updates of the `exact_targets` row (its Monte-Carlo targets cost ~10x an update)."""
    exact_seeds: int = 1
    """Seeds of the `exact_targets` row (the first ones of `seeds`)."""
    hidden: tuple[int, ...] = (64, 64)
    """Critic hidden sizes."""
    batch_size: int = 64
    """Pairs per update."""
    n_probes: int = 64
    """Probe pairs per setting."""
    n_truth: int = 256
    """Monte-Carlo samples per probe."""
    n_regression: int = 8192
    """Pairs of the regression reference's data set (32 Monte-Carlo rollouts each)."""

    def __post_init__(self) -> None:
        for name in ("n_locations", "gammas", "noises", "algos", "variants", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        for name in self.algos:
            if name not in ALGORITHMS:
                raise ValueError(f"algos: {name!r} is not one of {list(ALGORITHMS)}")
        for name in self.variants:
            if name not in ALGORITHM_VARIANTS:
                raise ValueError(f"variants: {name!r} is not one of {list(ALGORITHM_VARIANTS)}")
        for name in ("updates", "n_checkpoints", "exact_updates", "batch_size", "n_probes",
                     "n_truth", "n_regression"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.n_checkpoints > min(self.updates, self.exact_updates):
            raise ValueError(f"n_checkpoints={self.n_checkpoints} exceeds the updates")
        for n, g, s in self.settings():  # validates each value
            FidelitySetting(n, g, s)
        AlgorithmConfig(hidden=self.hidden)
        for name, kind, variant, _, _ in self.jobs(self.seeds[0]):
            try:  # a variant an algorithm cannot take (shared-draws on a Sobolev critic)
                algorithm_config(name, variant, self.gammas[0], self.hidden)
            except ValueError as err:
                raise ValueError(f"variants: {variant!r} with {name}: {err}") from None

    def settings(self) -> list[tuple[int, float, float]]:
        """Every `(n_locations, gamma, noise)` of the grid."""
        return [(n, g, s) for n in self.n_locations for g in self.gammas for s in self.noises]

    def jobs(self, seed: int) -> list[tuple[str, str, str, int, int]]:
        """Every `(algorithm, kind, variant, seed, updates)` of one setting and seed. The
        non-default variants (`paper`, the speed levers) only change the distributional critics
        (`DISTRIBUTIONAL`)."""
        jobs = [(a, "critic", v, seed, self.updates) for v in self.variants for a in self.algos
                if v == "default" or a in DISTRIBUTIONAL]
        if self.references:
            jobs.append((REFERENCE_ALGORITHM, "regression", "default", seed, self.updates))
            if seed in self.seeds[: self.exact_seeds]:
                jobs.append((REFERENCE_ALGORITHM, "exact_targets", "default", seed,
                             self.exact_updates))
        return jobs


def algorithm_config(name: str, variant: str, gamma: float, hidden: tuple[int, ...]) -> AlgorithmConfig:
    """The fidelity benchmark's config of one algorithm: its `variant`, γ and hidden sizes."""
    return AlgorithmConfig(name=name, gamma=gamma, hidden=hidden, **ALGORITHM_VARIANTS[variant])
