"""The paper's ablations as data: each is a named toy grid whose cells differ in one setting
(`python -m workbench reproduce ablation NAME`).

An `Ablation` names the config key(s) it varies and the values it sets them to; its cells are the
toy grid's (`workbench.experiments.registry`), one per value x algorithm x N x seed, the value's `--set`
overrides last, so nothing else changes between values. Its records go to the experiment
directory `ablation-<name>`, and the value of a run is read back from its config
(`variant`, `workbench.report.record_frames.load_metrics`), so the report draws one series per value.

Nothing here imports torch: the command line lists and checks ablations at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dvg_core.names import ALGORITHMS
from workbench.config.names import ALIASES, did_you_mean
from workbench.experiments.grid_options import GridOptions

__all__ = [
    "ABLATIONS", "ABLATION_PREFIX", "MODEL_BASED", "Ablation", "ablation_cells", "ablation_for",
    "ablation_value", "format_ablations", "get_ablation",
]

ABLATION_PREFIX = "ablation-"
"""An ablation's experiment directory is `ablation-<name>`."""
MODEL_BASED = ("mage", "iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd")
"""The paper's algorithms whose critic loss bootstraps through the world model (all of its six
but td3; `dsdpg_complete` is not the paper's: `--algos` adds it; a test checks
`uses_world_model` agrees)."""


@dataclass(frozen=True)
class Ablation:
    """One setting varied over a few values, everything else as the preset has it."""

    name: str
    """Its name on the command line."""
    description: str
    """What changes, in words."""
    keys: tuple[str, ...]
    """The full dotted config keys it varies (`config --list`); each value sets all of them."""
    values: tuple[str, ...]
    """The values as `--set` text, written as the report shows them (`0.1`, not `0.10`)."""
    algos: tuple[str, ...] | None = ("dsdpg_msmmd",)
    """Default algorithms; None when the ablation varies `algorithm.name` itself."""
    base: tuple[str, ...] = ()
    """`key=value` overrides of every cell that the values need (`env.noise=dynamics`)."""
    n_locations: tuple[int, ...] = (3,)
    """Default numbers of reward locations N of the toy."""

    def __post_init__(self) -> None:
        if not self.keys or not self.values or len(set(self.values)) != len(self.values):
            raise ValueError(f"ablation {self.name}: keys and distinct values are required")
        if (self.algos is None) != ("algorithm.name" in self.keys):
            raise ValueError(f"ablation {self.name}: algos must be None exactly when it varies "
                             "algorithm.name")

    @property
    def setting(self) -> str:
        """The varied keys, comma-separated: what the report names as changed."""
        return ", ".join(self.keys)

    def overrides(self, value: str) -> list[str]:
        """The cell overrides of `value`: `base`, then every key set to `value`."""
        return [*self.base, *(f"{key}={value}" for key in self.keys)]

    def default_value(self, preset_name: str = "toy-quick") -> str:
        """The value the workbench's preset has, what the other values are compared with (the
        first value if the preset has none of them)."""
        from workbench.config.presets import preset  # the config layer; `--list` does not need it

        algo = [] if self.algos is None else [f"algorithm.name={self.algos[0]}"]
        value = self.label(preset(preset_name, [*self.base, *algo]).to_dict())
        return value if value in self.values else self.values[0]

    def label(self, config: Mapping[str, Any]) -> str:
        """A run's value, read from its config dict (`params.json`'s `config`) at `keys`, in
        the text of `values` (`1.0` -> `1`); keys that disagree are joined by `/`."""
        found = [_text(_lookup(config, key)) for key in self.keys]
        return "/".join(dict.fromkeys(found))


def _lookup(config: Mapping[str, Any], key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


ABLATIONS: dict[str, Ablation] = {a.name: a for a in (
    Ablation("truncation", "TQC truncation of the pooled targets: off (the workbench's default) "
             "against the paper's top 10%", ("algorithm.truncate",), ("0", "0.1")),
    Ablation("msmmd-vs-mmd", "the Sobolev critic's distance: max-sliced MMD² against MMD² of "
             "the joint samples", ("algorithm.name",), ("dsdpg_msmmd", "dsdpg_mmd"), algos=None),
    Ablation("bandwidth", "the multiquadric kernel's bandwidth h", ("algorithm.bandwidth",),
             ("1", "10", "100")),
    Ablation("samples", "samples per state-action pair: M online = M' model draws per target "
             "critic", ("algorithm.n_samples", "algorithm.n_target_samples"), ("5", "10", "20")),
    Ablation("lambda", "λ, the weight of the action-gradient in the joint samples (0: returns "
             "only)", ("algorithm.lam",), ("0", "0.1", "1", "10")),
    Ablation("noise", "std of the toy's additive dynamics noise on the position",
             ("env.noise_scale",), ("0", "0.05", "0.1"), base=("env.noise=dynamics",)),
    Ablation("world-model", "the world model: the toy's own simulator, the paper's cVAE, a "
             "Gaussian ensemble, the conditional flow", ("model.kind",),
             ("oracle", "cvae", "ensemble", "flow"), algos=MODEL_BASED),
)}
"""The registered ablations, in the order `--list` prints them."""


def get_ablation(name: str) -> Ablation:
    """The ablation `name`; `ValueError` listing them, with a did-you-mean."""
    if name not in ABLATIONS:
        raise ValueError(f"unknown ablation {name!r}{did_you_mean(name, ABLATIONS)} "
                         f"(ablations: {', '.join(ABLATIONS)}; "
                         "python -m workbench reproduce ablations --list)")
    return ABLATIONS[name]


def ablation_for(experiment: str) -> Ablation | None:
    """The ablation whose experiment directory is named `experiment`, or None."""
    if not isinstance(experiment, str) or not experiment.startswith(ABLATION_PREFIX):
        return None
    return ABLATIONS.get(experiment.removeprefix(ABLATION_PREFIX))


def ablation_value(config: Mapping[str, Any]) -> str | None:
    """The ablation value of a run's config dict; None outside an ablation's experiment."""
    ablation = ablation_for(config.get("experiment"))
    return None if ablation is None else ablation.label(config)


def _check_options(ablation: Ablation, options: GridOptions) -> None:
    """Options that would undo the ablation are a `ValueError`, before any cell is built."""
    varied = {key.split("=")[0] for key in ablation.overrides(ablation.values[0])}
    for item in options.overrides:
        key = item.partition("=")[0].strip()
        key = ALIASES.get(key, key)
        if key == "env.env_id":
            raise ValueError(f"--set {item!r}: an ablation runs on the toy, "
                             "dvg/PointMass-v1 (choose its N with --n-locations)")
        if key in varied:
            raise ValueError(f"--set {item!r} changes {key}, which ablation {ablation.name} "
                             f"sets itself (to {', '.join(ablation.values)})")
    if options.algos is not None and ablation.algos is None:
        raise ValueError(f"ablation {ablation.name} varies the algorithm itself; --algos does "
                         "not apply")
    for algo in options.algos or ():
        if algo not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {list(ALGORITHMS)}, got {algo!r}"
                             + did_you_mean(algo, ALGORITHMS))


def ablation_cells(ablation: Ablation, options: GridOptions, preset: str,
                   seeds: Sequence[int]) -> list[dict[str, Any]]:
    """values x algorithms x N x seeds on the toy: train.ipynb parameters of every cell, the
    grid's `--set` overrides first and the value's last (see `Ablation.overrides`)."""
    _check_options(ablation, options)
    return [{**({} if algo is None else {"algo": algo}), "n_locations": n, "seed": seed,
             "preset": preset, "overrides": [*options.overrides, *ablation.overrides(value)]}
            for value in ablation.values
            for algo in options.algos or ablation.algos or (None,)
            for n in options.n_locations or ablation.n_locations
            for seed in seeds]


def format_ablations() -> str:
    """Every ablation: name, what changes, the key(s) and values, default algorithms and N."""
    lines = []
    for a in ABLATIONS.values():
        algos = ", ".join(a.algos) if a.algos else "(the values)"
        lines += [f"{a.name}: {a.description}",
                  f"    sets {a.setting} to {', '.join(a.values)}"
                  + (f" (with {', '.join(a.base)})" if a.base else ""),
                  f"    algorithms: {algos}; N: {', '.join(map(str, a.n_locations))}"]
    return "\n".join(lines)
