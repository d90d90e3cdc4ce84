"""The names the command line offers, importable without torch, and "did you mean" suggestions.

`python -m workbench --help` must not wait for torch (about 5 s), so the parser's choices live
here as plain tuples; `tests/workbench/cli/test_cli.py` checks that each equals the registry it mirrors
(`dvg_core.agents.ALGORITHMS`, `workbench.config.presets.PRESETS`, `dvg_core.configs.ENV_IDS`,
`workbench.grid.batch.EXPERIMENTS`, ...). Nothing here imports torch, numpy or the `dvg_core` layer.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ALGORITHMS", "ALIASES", "COMMANDS", "ENV_IDS", "EXPERIMENTS", "NOISE_SETTINGS",
    "PAPER_ALGORITHMS", "PRESETS", "check_choice", "did_you_mean",
]

PAPER_ALGORITHMS = ("td3", "mage", "iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd")
"""The paper's six, the grids' default (mirrors `dvg_core.agents.PAPER_ALGORITHMS`)."""
ALGORITHMS = (*PAPER_ALGORITHMS, "dsdpg_complete")
"""Every algorithm, the six and `dsdpg_complete` (mirrors `dvg_core.agents.ALGORITHMS`)."""
PRESETS = ("toy-quick", "toy-paper", "mujoco-smoke", "mujoco-100k", "mujoco-paper")
"""The named starting configs (mirrors `workbench.config.presets.PRESETS`)."""
ENV_IDS = ("dvg/PointMass-v0", "dvg/PointMass-v1", "Ant-v5", "Humanoid-v5", "Walker2d-v5", "Hopper-v5",
           "HalfCheetah-v5", "InvertedDoublePendulum-v5")
"""The toy's two versions and the six MuJoCo tasks (mirrors `dvg_core.configs.ENV_IDS`)."""
NOISE_SETTINGS = ("none", "obs", "dynamics")
"""The paper's noise settings (mirrors `dvg_core.envs.factory.NOISE_SETTINGS`)."""
EXPERIMENTS = ("toy", "mujoco")
"""The registered grids (mirrors `workbench.grid.batch.EXPERIMENTS`)."""
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
