"""Component configs of an experiment besides the algorithm's (`dvg_core.agents.strategies`).

Frozen dataclasses that validate themselves on construction, raising `ValueError` naming the
field and what is allowed, so a bad value stops a run before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from dvg_core.names import ENV_IDS, FLOW_LAYOUTS, NOISE_SETTINGS, POINT_MASS_IDS, POINT_MASS_V1_ID
from dvg_core.envs.point_mass import PointMassSpec, point_mass_spec
from dvg_core.util.validation import (
    check_choice,
    check_int_at_least,
    check_nonnegative,
    check_positive,
)

__all__ = ["ENV_IDS", "MODEL_KINDS", "EnvConfig", "LoopConfig", "ModelConfig"]

MODEL_KINDS = ("cvae", "ensemble", "flow", "oracle")
"""World models: the paper's cVAE, a MAGE-style Gaussian ensemble, a conditional normalising flow
(the paper's ablation of the cVAE), or the toy's own simulator."""


@dataclass(frozen=True)
class EnvConfig:
    """Which environment, with which noise."""

    env_id: str = POINT_MASS_V1_ID
    """One of `ENV_IDS`."""
    noise: str = "none"
    """`none`, `obs` (multiplicative U[1-s, 1+s]) or `dynamics` (additive Gaussian)."""
    noise_scale: float | None = None
    """Scale of the noise; None takes the env's default (see `dvg_core.envs.factory`)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra constructor kwargs of the env (the toy's `n_locations`, `width`, ...)."""

    def __post_init__(self) -> None:
        check_choice("env_id", self.env_id, ENV_IDS)
        check_choice("noise", self.noise, NOISE_SETTINGS)
        if self.noise_scale is not None:
            check_nonnegative("noise_scale", self.noise_scale)
            if self.noise == "none":
                raise ValueError("noise_scale must be None when noise is 'none'")
        if not isinstance(self.kwargs, dict):
            raise ValueError(f"kwargs must be a dict, got {type(self.kwargs).__name__}")
        if self.env_id in POINT_MASS_IDS:
            allowed = [f.name for f in fields(PointMassSpec) if f.name != "dynamics_noise"]
            unknown = sorted(set(self.kwargs) - set(allowed))
            if unknown:
                raise ValueError(f"kwargs {unknown} are not parameters of {self.env_id}; "
                                 f"allowed: {allowed} (dynamics noise: set noise='dynamics')")
            point_mass_spec(self.env_id, **self.kwargs)  # validates every toy parameter by name


@dataclass(frozen=True)
class ModelConfig:
    """The world model and its fitting schedule."""

    kind: str = "cvae"
    """One of `MODEL_KINDS`; `oracle` only for the toy."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes."""
    latent_dim: int = 8
    """cVAE latent size."""
    prior_components: int = 1
    """cVAE prior: a diagonal Gaussian (1, the paper's) or a mixture of this many, its
    component picked by inverse CDF of a uniform noise (`CVAEWorldModel`)."""
    beta: float = 1.0
    """cVAE KL weight."""
    n_members: int = 5
    """Ensemble members."""
    flow_layout: str = "two_pass"
    """Flow layers (`FlowWorldModel`): `two_pass` (`zuko.flows.NSF`, every feature splined in
    every layer) or `coupling` (half the features splined per layer: about 0.4 of the cost to
    sample, but in the Dyna loop at N = 3 no better than the cVAE; docs/lab/world-models.md)."""
    lr: float = 1e-3
    """Adam learning rate."""
    fit_every: int = 250
    """Env steps between model fits."""
    fit_steps: int = 250
    """Gradient steps per fit."""
    warmup_fit_steps: int = 1000
    """Gradient steps when the random warm-up ends."""
    batch_size: int = 256
    """Model batch size."""

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, MODEL_KINDS)
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden must be a non-empty tuple of ints >= 1, got {self.hidden!r}")
        check_int_at_least("latent_dim", self.latent_dim, 1)
        check_int_at_least("prior_components", self.prior_components, 1)
        check_positive("beta", self.beta)
        check_int_at_least("n_members", self.n_members, 1)
        check_choice("flow_layout", self.flow_layout, FLOW_LAYOUTS)
        check_positive("lr", self.lr)
        check_int_at_least("fit_every", self.fit_every, 1)
        check_int_at_least("fit_steps", self.fit_steps, 0)
        check_int_at_least("warmup_fit_steps", self.warmup_fit_steps, 0)
        check_int_at_least("batch_size", self.batch_size, 1)


@dataclass(frozen=True)
class LoopConfig:
    """The Dyna training loop's budget and schedule."""

    total_steps: int = 20_000
    """Env steps of training."""
    warmup_steps: int = 1_000
    """Env steps of uniformly random actions before learning starts."""
    utd: int = 10
    """Critic updates per env step (update-to-data ratio; paper: 10)."""
    batch_size: int = 256
    """Replay batch size of the agent's updates."""
    replay_capacity: int = 1_000_000
    """Transitions kept in the replay buffer."""
    eval_every: int = 2_000
    """Env steps between deterministic evaluations."""
    eval_episodes: int = 5
    """Episodes per evaluation."""
    log_every: int = 500
    """Env steps between training-metric rows."""
    checkpoint_every: int = 5_000
    """Env steps between checkpoints (taken at the first episode end after each multiple)."""
    divergence_bound: float = 1e6
    """A critic value beyond ± this stops the run as diverged."""
    fidelity_probes: int = 16
    """On the toy, after each evaluation: the critic's fidelity at this many states of the
    policy's own first evaluation episode, against Monte-Carlo truth (a `fidelity` metric row,
    `dvg_core.training.FidelityMonitor`); 0 turns it off. Ignored where there is no
    differentiable simulator (MuJoCo, observation noise)."""
    fidelity_truth_samples: int = 64
    """Monte-Carlo samples of `(G, ∇ₐG)` per probe state for the fidelity row."""
    compile: bool = False
    """Run the agent's critic and actor losses under `torch.compile` (`dvg_core.agents.compiled`):
    the same updates to float32 rounding after a compile of about a minute per algorithm (kernels
    cached in `~/.cache/dvg-workbench/inductor`); 1.8x faster for dsdpg_msmmd on the toy, but
    slower at MuJoCo sizes, where forward-mode ∇ₐZ costs one pass per action coordinate
    (docs/guide/speed.md, "A compiled update"). One seed per process only (not with seed-vectorised
    groups). Off, it leaves a run's id as before the field existed."""

    def __post_init__(self) -> None:
        check_int_at_least("total_steps", self.total_steps, 1)
        check_int_at_least("warmup_steps", self.warmup_steps, 1)
        check_int_at_least("utd", self.utd, 1)
        check_int_at_least("batch_size", self.batch_size, 1)
        check_int_at_least("replay_capacity", self.replay_capacity, 1)
        if self.batch_size > self.replay_capacity:
            raise ValueError(f"batch_size must be <= replay_capacity ({self.replay_capacity}): "
                             f"every batch is drawn from the replay, got {self.batch_size}")
        check_int_at_least("eval_every", self.eval_every, 1)
        check_int_at_least("eval_episodes", self.eval_episodes, 1)
        check_int_at_least("log_every", self.log_every, 1)
        check_int_at_least("checkpoint_every", self.checkpoint_every, 1)
        check_positive("divergence_bound", self.divergence_bound)
        check_int_at_least("fidelity_probes", self.fidelity_probes, 0)
        check_int_at_least("fidelity_truth_samples", self.fidelity_truth_samples, 2)
        if not isinstance(self.compile, bool):
            raise ValueError(f"compile must be a bool, got {self.compile!r}")
