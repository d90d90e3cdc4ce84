"""Experiment configs: one frozen `ExperimentConfig` of the four `dvg_core` component configs, its
JSON form and its run id (typed `key=value` overrides: `workbench.config.overrides`; the named presets:
`workbench.config.presets`).

Validation lives in the component dataclasses (`__post_init__`); this module only parses text into
the declared field types and constructs them, so a bad value raises the component's `ValueError`
naming the field, prefixed with its section (`algorithm: gamma must be in [0.0, 1.0), got 1.5`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from dvg_core.agents import AlgorithmConfig
from dvg_core.agents.config import flat_dict, nest_flat_keys
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import POINT_MASS_IDS, PointMassSpec
from dvg_core.util.device import check_device_name
from dvg_core.util.validation import check_int_at_least
from workbench.config.names import ALIASES, did_you_mean
from workbench.host.paths import NAME_MAX, PATH_MAX

__all__ = [
    "ALIASES",
    "SECTIONS",
    "ExperimentConfig",
    "identity_dict",
    "run_id",
]

SECTIONS: dict[str, type] = {
    "algorithm": AlgorithmConfig, "env": EnvConfig, "model": ModelConfig, "loop": LoopConfig,
}
"""Section name -> component config class."""

_TOP_LEVEL = ("seed", "device", "experiment", "run_root")
_NOT_IDENTITY = ("run_root", "device", "experiment")  # where and on what, not what
_DIR_NAME = re.compile(r"[A-Za-z0-9_.-]+")



@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines one run, plus where it is stored and on which device."""

    algorithm: AlgorithmConfig
    """The algorithm and its hyper-parameters."""
    env: EnvConfig
    """The environment and its noise."""
    model: ModelConfig
    """The world model and its fitting schedule."""
    loop: LoopConfig
    """Training budget and schedule."""
    seed: int = 0
    """Seeds torch, numpy and the envs (integer >= 0)."""
    device: str = "auto"
    """`auto`, `cpu`, `cuda` or `cuda:N`; whether the GPU exists is checked when the run starts."""
    experiment: str = "default"
    """Name of the experiment directory (letters, digits, `-`, `_`, `.`)."""
    run_root: str = "runs"
    """Directory holding the experiment directories."""

    def __post_init__(self) -> None:
        for name, cls in SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name} must be a {cls.__name__}, got {getattr(self, name)!r}")
        check_int_at_least("seed", self.seed, 0)
        check_device_name(self.device)
        if (not isinstance(self.experiment, str) or not _DIR_NAME.fullmatch(self.experiment)
                or self.experiment in (".", "..")):
            raise ValueError("experiment must be a directory name of letters, digits, '-', '_' "
                             f"and '.', got {self.experiment!r}")
        if not isinstance(self.run_root, str) or not self.run_root:
            raise ValueError(f"run_root must be a non-empty path string, got {self.run_root!r}")
        _check_path_lengths(self.run_root, self.experiment)
        try:
            json.dumps(self.env.kwargs, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(f"env.kwargs must be JSON-serialisable, got {self.env.kwargs!r}") from None
        _check_episode_bound(self.env, self.loop)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: tuples as lists, ints in float fields as floats."""
        out: dict[str, Any] = {name: _section_to_dict(getattr(self, name)) for name in SECTIONS}
        return out | {name: getattr(self, name) for name in _TOP_LEVEL}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentConfig:
        """Inverse of `to_dict`; a missing key takes its default, an unknown one is a `ValueError`."""
        if not isinstance(data, Mapping):
            raise ValueError(f"config must be a mapping, got {type(data).__name__}")
        _check_keys("config", data, [*SECTIONS, *_TOP_LEVEL])
        sections = {name: _section_from_dict(name, data.get(name, {})) for name in SECTIONS}
        return cls(**sections, **{k: data[k] for k in _TOP_LEVEL if k in data})

    def to_json(self) -> str:
        """`to_dict` as indented JSON with sorted keys."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))


_RECORD_TAIL = 100
"""Room a record takes below its experiment directory: `/<run id>/<file>` (a run id is about 40
characters, its longest file a temp file of about 40)."""


def _check_path_lengths(run_root: str, experiment: str) -> None:
    """`ValueError` for a name longer than the file system allows (`NAME_MAX` bytes per name,
    `PATH_MAX` per path), before any directory is made."""
    if len(experiment.encode()) > NAME_MAX:
        raise ValueError(f"experiment must be at most {NAME_MAX} characters (the file system's "
                         f"limit on one file name, NAME_MAX), got {len(experiment.encode())}")
    for part in Path(run_root).parts:
        if len(part.encode()) > NAME_MAX:
            raise ValueError(f"run_root has a directory name of {len(part.encode())} characters; "
                             f"the file system allows {NAME_MAX} (NAME_MAX): {part[:40]}...")
    room = PATH_MAX - len(experiment.encode()) - 1 - _RECORD_TAIL
    if len(run_root.encode()) > room:
        raise ValueError(f"run_root must be at most {room} characters, got "
                         f"{len(run_root.encode())}: the record files below it must fit in the "
                         f"file system's {PATH_MAX}-character limit on a path (PATH_MAX)")


def _check_episode_bound(env: EnvConfig, loop: LoopConfig) -> None:
    """An episode must end within the run: a longer `horizon` (or `max_episode_steps`) means
    evaluation episodes outlast the whole training and no checkpoint is ever taken (checkpoints
    wait for an episode end)."""
    for key in ("horizon", "max_episode_steps"):
        value = env.kwargs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > loop.total_steps:
            raise ValueError(f"env.kwargs.{key} must be <= loop.total_steps ({loop.total_steps}) "
                             "so that episodes end within the run (evaluation and checkpoints "
                             f"wait for episode ends), got {value}")


_LATER_FIELDS = {("loop", "compile"): False, ("algorithm", "shared_target_draws"): False,
                 ("model", "prior_components"): 1, ("model", "flow_layout"): "two_pass"}
"""Section fields added after runs were recorded, with the value that changes nothing: at it, a
field is left out of the identity, so the existing runs keep their ids (as
`workbench.fidelity.critic_grid._LATER_FIELDS` keeps the fidelity rows' fingerprints)."""


def identity_dict(config: ExperimentConfig) -> dict[str, Any]:
    """What a run *is*: `to_dict()` without `run_root`, `device` and `experiment`, without the
    later fields at their neutral values, and without `model.flow_layout` unless the model is
    the flow."""
    out = {k: v for k, v in config.to_dict().items() if k not in _NOT_IDENTITY}
    for (section, name), neutral in _LATER_FIELDS.items():
        if out[section][name] == neutral:
            del out[section][name]
    if out["model"]["kind"] != "flow":  # the flow's layout says nothing about another model
        out["model"].pop("flow_layout", None)
    return out


def run_id(config: ExperimentConfig) -> str:
    """`{algo}-{env}-s{seed}-{hash}`, the hash the first 12 hex digits of the sha256 of the
    canonical (sorted, compact) JSON of `identity_dict(config)`."""
    text = json.dumps(identity_dict(config), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    env = re.sub(r"-v\d+$", "", config.env.env_id.rsplit("/", 1)[-1])
    return f"{config.algorithm.name}-{env}-s{config.seed}-{digest}"


# ----------------------------------------------------------------- field types
@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _kwarg_hint(env_id: str, name: str) -> Any:
    """Type of an env constructor kwarg: the toy's from `PointMassSpec`, anything else untyped."""
    if env_id not in POINT_MASS_IDS:
        return Any
    spec_fields = [f.name for f in fields(PointMassSpec)]
    if name not in spec_fields:
        raise ValueError(f"unknown env.kwargs key {name!r} for {env_id}; valid: {spec_fields}")
    return _hints(PointMassSpec)[name]


def _optional_inner(hint: Any) -> Any | None:
    """`X` for `X | None`, else None."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return None


def _normalise(hint: Any, value: Any) -> Any:
    """JSON value -> field value: lists to tuples for tuple fields, ints to floats for floats,
    a mapping to the nested config of a dataclass field (`algorithm.slicing`)."""
    if is_dataclass(hint) and isinstance(value, Mapping):
        hints = _hints(hint)
        _check_keys(hint.__name__, value, list(hints))
        return hint(**{k: _normalise(hints[k], v) for k, v in value.items()})
    inner = _optional_inner(hint)
    if inner is not None:
        return None if value is None else _normalise(inner, value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _section_to_dict(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _section_to_dict(section: Any) -> dict[str, Any]:
    hints = _hints(type(section))
    out = {f.name: _jsonable(_normalise(hints[f.name], getattr(section, f.name)))
           for f in fields(section)}
    if isinstance(section, EnvConfig):
        out["kwargs"] = _kwargs_normalised(section.env_id, section.kwargs)
    if isinstance(section, AlgorithmConfig):  # its groups under their flat names, as before
        out = flat_dict(out)  # they were grouped: records and run ids unchanged
    return out


def _kwargs_normalised(env_id: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(_normalise(_kwarg_hint(env_id, k), v)) for k, v in kwargs.items()}


def _check_keys(where: str, data: Mapping[str, Any], valid: list[str]) -> None:
    for key in data:
        if key not in valid:
            raise ValueError(f"unknown {where} key {key!r}; valid keys: {valid}"
                             + did_you_mean(key, valid))


FLAT_SLICING = {"slicing_steps": "steps", "slicing_step_size": "step_size",
                "slicing_restarts": "restarts", "slicing_axes": "axes"}
"""The flat names max-slicing's options had before `AlgorithmConfig.slicing` (records written
then, `--set algorithm.slicing_steps=2`): still read, mapped to `slicing.<name>`."""


def nest_flat_slicing(data: Mapping[str, Any]) -> dict[str, Any]:
    """An algorithm dict with the flat `slicing_*` keys folded into its `slicing` mapping."""
    flat = {FLAT_SLICING[k]: v for k, v in data.items() if k in FLAT_SLICING}
    out = {k: v for k, v in data.items() if k not in FLAT_SLICING}
    if flat:
        out["slicing"] = {**out.get("slicing", {}), **flat}
    return out


def _section_from_dict(name: str, data: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(data, Mapping):
        raise ValueError(f"{name} must be a mapping, got {data!r}")
    hints = _hints(cls)
    if name == "algorithm":
        data = nest_flat_keys(nest_flat_slicing(data))
    _check_keys(name, data, list(hints))
    values = {k: _normalise(hints[k], v) for k, v in data.items()}
    if name == "env" and isinstance(values.get("kwargs"), Mapping):
        env_id = values.get("env_id", EnvConfig.env_id)
        values["kwargs"] = {k: _normalise(_kwarg_hint(env_id, k), v)
                            for k, v in values["kwargs"].items()}
    return _construct(name, cls, values)


def _construct(name: str, cls: type, values: dict[str, Any], base: Any = None) -> Any:
    """`cls(**values)` (or `replace(base, ...)`), its `ValueError` prefixed with the section."""
    try:
        return cls(**values) if base is None else replace(base, **values)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
