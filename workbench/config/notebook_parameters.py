"""The parameters of `notebooks/train.ipynb` as a validated `ExperimentConfig`: what the notebook
runs, and what the batch runner (`workbench.grid`) checks in the parent before it executes a cell,
so both take one path (`config_from_parameters`)."""

from __future__ import annotations

from typing import Any

from dvg_core.envs import POINT_MASS_V1_ID
from dvg_core.util.validation import check_int_at_least
from workbench.config.experiment_config import ExperimentConfig
from workbench.config.presets import preset

__all__ = ["TRAIN_PARAMETERS", "config_from_parameters"]

TRAIN_PARAMETERS: dict[str, Any] = {
    "algo": "dsdpg_msmmd", "env_id": POINT_MASS_V1_ID, "n_locations": None, "noise": "none",
    "noise_scale": None, "lam": None, "gamma": None, "samples": None, "seed": 0,
    "preset": "toy-quick", "steps": None, "model": None, "run_root": "runs",
    "experiment": "default", "overrides": [], "interactive": True, "threads": 1,
    "video": False, "device": "auto",
}
"""The parameters of `train.ipynb` and their defaults (a test checks the notebook agrees).
`None` keeps the preset's value (`noise_scale`: the env's default scale); `overrides` are
`key=value` strings applied last; `interactive` (JupyterLab: a progress bar and plotly's own
renderer; the batch runner passes False); `threads` is torch's thread count in the kernel (1: tiny
networks run ~12x faster than with one thread per core; None leaves torch's default); `video`
(MuJoCo only) records and shows one episode of the trained policy (rendering is opt-in);
`device` is `auto` (`cuda` when torch sees a GPU, else `cpu`), `cpu`, `cuda` or `cuda:N`."""

_KEYS = {
    "algo": "algorithm.name", "env_id": "env.env_id", "n_locations": "env.kwargs.n_locations",
    "noise": "env.noise", "noise_scale": "env.noise_scale", "lam": "algorithm.lam",
    "gamma": "algorithm.gamma", "samples": "algorithm.n_samples", "seed": "seed",
    "steps": "loop.total_steps", "model": "model.kind", "run_root": "run_root",
    "experiment": "experiment", "device": "device",
}
_ALWAYS = ("noise_scale",)  # None means something (the env's default scale), so it is passed

def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def config_from_parameters(**parameters: Any) -> ExperimentConfig:
    """The `ExperimentConfig` of `train.ipynb`'s parameters: the preset, then one `key=value`
    override per non-None parameter (`_KEYS`), then `overrides`; missing ones take their
    `TRAIN_PARAMETERS` default.

    Raises:
      ValueError: an unknown parameter, a bad `interactive`/`threads`/`overrides`, or any value
        the config rejects (its message names the field and the allowed range).
    """
    unknown = sorted(set(parameters) - set(TRAIN_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; valid: {list(TRAIN_PARAMETERS)}")
    p = {**TRAIN_PARAMETERS, **parameters}
    for flag in ("interactive", "video"):
        if not isinstance(p[flag], bool):
            raise ValueError(f"{flag} must be true or false, got {p[flag]!r}")
    if p["threads"] is not None:
        check_int_at_least("threads", p["threads"], 1)
    overrides = p["overrides"]
    if not isinstance(overrides, (list, tuple)) or not all(isinstance(o, str) for o in overrides):
        raise ValueError(f"overrides must be a list of 'key=value' strings, got {overrides!r}")
    named = [f"{key}={_text(p[name])}" for name, key in _KEYS.items()
             if p[name] is not None or name in _ALWAYS]
    return preset(p["preset"], [*named, *overrides])
