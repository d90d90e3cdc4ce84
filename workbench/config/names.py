"""The workbench's own names that the command line offers, importable without torch, and "did you
mean" suggestions.

`python -m workbench --help` must not wait for torch (about 5 s), so the parser's choices are
plain tuples, each kept once: the presets' names here (`workbench.config.presets.PRESETS` maps
each to its config), the sub-commands and the override aliases here; the core's algorithms,
environments and noise settings in `dvg_core.names`, the grids in
`workbench.experiments.registry`. Nothing here imports anything of torch, numpy or `dvg_core`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ALIASES", "COMMANDS", "PRESET_NAMES", "check_choice", "did_you_mean",
]

PRESET_NAMES = ("toy-quick", "toy-paper", "mujoco-smoke", "mujoco-100k", "mujoco-paper")
"""The named starting configs, in the order `workbench.config.presets.PRESETS` builds them."""
COMMANDS = ("train", "reproduce", "report", "config", "bench", "fidelity", "model-fidelity")
"""The sub-commands of `python -m workbench`."""

ALIASES: dict[str, str] = {
    "algo": "algorithm.name", "lam": "algorithm.lam", "gamma": "algorithm.gamma",
    "samples": "algorithm.n_samples", "steps": "loop.total_steps", "env": "env.env_id",
    "n_locations": "env.kwargs.n_locations", "noise": "env.noise",
    "noise_scale": "env.noise_scale", "model": "model.kind", "variant": "algorithm.variant",
}
"""Short override keys -> full dotted keys (`workbench.config.experiment_config` re-exports it)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` for the closest of `choices` (`difflib`, cutoff 0.6, case-blind),
    or `""` when none is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def check_choice(what: str, value: str, choices: Iterable[str]) -> None:
    """Raise `ValueError("{what} must be one of [...], got 'v'; did you mean 'x'?")` unless
    `value` is one of `choices`."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{what} must be one of {choices}, got {value!r}"
                         + did_you_mean(value, choices))
