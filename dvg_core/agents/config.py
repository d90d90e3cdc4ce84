"""The algorithms' configuration: `AlgorithmConfig`, its named variants and the algorithm names.

What distinguishes one algorithm run from another, validated on construction: the algorithm,
γ and the networks, and the groups of `dvg_core.agents.config_groups` (`critic`, `actor`,
`targets`, `distance`, `slicing`). The flat names the fields had before they were grouped
(`critic_lr`, `truncate`, ...: `FLAT_KEYS`) still construct and read a config, and
`flat_dict` / `nest_flat_keys` convert between the nested dict and the flat one that run ids,
records and fingerprints are made of. The strategies that read it are in
`dvg_core.agents.strategies` (which re-exports everything here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dvg_core.agents.config_groups import (
    CRITIC_NOISES, ActorConfig, CriticConfig, DistanceConfig, SlicingConfig, TargetConfig,
)
from dvg_core.names import ALGORITHMS, PAPER_ALGORITHMS
from dvg_core.util.validation import check_choice, check_probability

__all__ = [
    "ALGORITHMS", "ALGORITHM_VARIANTS", "CRITIC_NOISES", "FLAT_KEYS", "PAPER_ALGORITHMS",
    "PAPER_SETTINGS", "SHARED_DRAW_ALGORITHMS", "ActorConfig", "AlgorithmConfig", "CriticConfig",
    "DistanceConfig", "SlicingConfig", "TargetConfig", "flat_dict", "nest_flat_keys",
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


FLAT_KEYS: dict[str, tuple[str, str]] = {
    "lam": ("distance", "lam"), "lam_state": ("distance", "lam_state"),
    "n_samples": ("critic", "n_samples"), "n_target_samples": ("targets", "n_samples"),
    "shared_target_draws": ("targets", "shared_draws"), "truncate": ("targets", "truncate"),
    "kernel": ("distance", "kernel"), "bandwidth": ("distance", "bandwidth"),
    "unbiased": ("distance", "unbiased"), "xi_dim": ("critic", "xi_dim"),
    "critic_noise": ("critic", "noise"), "critic_activation": ("critic", "activation"),
    "critic_lr": ("critic", "lr"), "actor_lr": ("actor", "lr"), "tau": ("targets", "tau"),
    "policy_delay": ("actor", "policy_delay"), "exploration_noise": ("actor", "exploration_noise"),
    "actor_saturation_penalty": ("actor", "saturation_penalty"),
    "target_policy_noise": ("targets", "policy_noise"),
    "target_noise_clip": ("targets", "noise_clip"), "huber_delta": ("distance", "huber_delta"),
}
"""The flat name each grouped field had (`critic_lr`) -> its group and name (`critic.lr`), in the
order of the ungrouped fields: still taken by `AlgorithmConfig(...)` and `--set
algorithm.critic_lr=...` (an error names both), read as attributes, and the names of the flat
dict that run ids and fingerprints hash."""

_GROUPS = {"critic": CriticConfig, "actor": ActorConfig, "targets": TargetConfig,
           "distance": DistanceConfig, "slicing": SlicingConfig}


@dataclass(frozen=True, init=False)
class AlgorithmConfig:
    """What distinguishes one algorithm run from another; validated on construction.

    Takes the groups (`critic=CriticConfig(lr=1e-3)`) and, on top of them, any of the flat
    names of `FLAT_KEYS` (`critic_lr=1e-3`), which also read as attributes.
    """

    name: str = "dsdpg_msmmd"
    """One of `ALGORITHMS`."""
    gamma: float = 0.99
    """Discount γ in [0, 1)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of actor and critic."""
    normalize_obs: bool = False
    """Standardise states by running statistics of the real observations before actor and
    critics (MuJoCo); the world models standardise their own inputs regardless."""
    critic: CriticConfig = field(default_factory=CriticConfig)
    """The critic's samples, noise, activation and learning rate (`--set algorithm.critic.lr=...`)."""
    actor: ActorConfig = field(default_factory=ActorConfig)
    """The actor's learning rate, exploration, saturation penalty and policy delay."""
    targets: TargetConfig = field(default_factory=TargetConfig)
    """The targets' model draws, truncation, Polyak rate and policy smoothing."""
    distance: DistanceConfig = field(default_factory=DistanceConfig)
    """The MMD kernel and estimator, the Huber threshold and the gradient weights λ, λₛ."""
    slicing: SlicingConfig = field(default_factory=SlicingConfig)
    """Max-slicing's own options (`dsdpg_msmmd`, `dsdpg_complete`; `--set
    algorithm.slicing.steps=2`, or the older flat names `algorithm.slicing_steps=2`)."""

    def __init__(self, name: str = "dsdpg_msmmd", gamma: float = 0.99,
                 hidden: tuple[int, ...] = (256, 256), normalize_obs: bool = False,
                 critic: CriticConfig | None = None, actor: ActorConfig | None = None,
                 targets: TargetConfig | None = None, distance: DistanceConfig | None = None,
                 slicing: SlicingConfig | None = None, **flat: Any) -> None:
        given = {"critic": critic, "actor": actor, "targets": targets, "distance": distance,
                 "slicing": slicing}
        for group, value in given.items():
            if value is not None and not isinstance(value, _GROUPS[group]):
                raise ValueError(f"{group} must be a {_GROUPS[group].__name__}, got {value!r}")
        unknown = [k for k in flat if k not in FLAT_KEYS]
        if unknown:
            raise TypeError(f"AlgorithmConfig got unexpected keyword arguments {unknown}")
        changes: dict[str, dict[str, Any]] = {group: {} for group in given}
        for key, value in flat.items():
            group, name_in_group = FLAT_KEYS[key]
            changes[group][name_in_group] = value
        for group, value in given.items():
            value = _GROUPS[group]() if value is None else value
            try:
                object.__setattr__(self, group, replace(value, **changes[group]))
            except ValueError as err:  # name the flat key the caller used, and its nested one
                text = str(err)
                for key in flat:
                    nested = ".".join(FLAT_KEYS[key])
                    if FLAT_KEYS[key][0] == group and nested in text:
                        text = f"{text.replace(nested, key)} ({key}: {nested})"
                raise ValueError(text) from None
        for key, value in (("name", name), ("gamma", gamma), ("hidden", hidden),
                           ("normalize_obs", normalize_obs)):
            object.__setattr__(self, key, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        check_choice("name", self.name, ALGORITHMS)
        check_probability("gamma", self.gamma)
        if not isinstance(self.normalize_obs, bool):
            raise ValueError(f"normalize_obs must be a bool, got {self.normalize_obs!r}")
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden must be a non-empty tuple of ints >= 1, got {self.hidden!r}")
        if self.targets.shared_draws and self.name not in SHARED_DRAW_ALGORITHMS:
            raise ValueError(
                f"shared_target_draws (targets.shared_draws) is for the return-only targets "
                f"({', '.join(SHARED_DRAW_ALGORITHMS)}), not {self.name}: "
                "a Sobolev target's per-draw gradient needs each target critic's own backward "
                "pass through the model, so sharing the draws saves almost nothing")

    @property
    def state_lam(self) -> float:
        """λₛ in force: `distance.lam_state`, or λ when it is None."""
        return self.distance.lam if self.distance.lam_state is None else self.distance.lam_state

    @property
    def smoothing(self) -> float:
        """The target policy smoothing std in force."""
        if self.targets.policy_noise is not None:
            return self.targets.policy_noise
        return 0.2 if self.name in ("td3", "mage") else 0.0


class _FlatName:
    """A grouped field under its flat name (`FLAT_KEYS`), read-only: on a config its value, on
    the class its default (`AlgorithmConfig.critic_noise == "quantile"`, as before grouping)."""

    def __init__(self, key: str) -> None:
        self.group, self.name = FLAT_KEYS[key]
        self.__doc__ = f"`{self.group}.{self.name}` under its flat name (read-only)."

    def __get__(self, config: AlgorithmConfig | None, owner: type) -> Any:
        if config is None:
            return getattr(_GROUPS[self.group], self.name)
        return getattr(getattr(config, self.group), self.name)


for _key in FLAT_KEYS:
    setattr(AlgorithmConfig, _key, _FlatName(_key))


def flat_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """An `AlgorithmConfig` as a (JSON-ready) nested dict -> the flat dict of its ungrouped form:
    every grouped field under its `FLAT_KEYS` name, `slicing` left nested (what run ids and
    records hold)."""
    out = {k: v for k, v in data.items() if k not in ("critic", "actor", "targets", "distance")}
    for key, (group, name) in FLAT_KEYS.items():
        if group in data and name in data[group]:
            out[key] = data[group][name]
    return out


def nest_flat_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `flat_dict`: the `FLAT_KEYS` names of `data` folded into their groups'
    mappings (a group given as a mapping too is updated, the flat names winning)."""
    out = {k: v for k, v in data.items() if k not in FLAT_KEYS}
    for key, value in data.items():
        if key in FLAT_KEYS:
            group, name = FLAT_KEYS[key]
            out[group] = {**out.get(group, {}), name: value}
    return out


