"""Experiment configs: one frozen `ExperimentConfig` of the four `dvg_core` component configs, its
JSON form, its run id, typed `key=value` overrides, and the named presets.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from dvg_core.agents import ALGORITHM_VARIANTS, AlgorithmConfig
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import POINT_MASS_ID, PointMassSpec
from dvg_core.util.validation import check_int_at_least
from workbench.names import ALIASES, did_you_mean

__all__ = [
    "ALIASES",
    "PRESETS",
    "SECTIONS",
    "ExperimentConfig",
    "apply_overrides",
    "identity_dict",
    "preset",
    "run_id",
]

SECTIONS: dict[str, type] = {
    "algorithm": AlgorithmConfig, "env": EnvConfig, "model": ModelConfig, "loop": LoopConfig,
}
"""Section name -> component config class."""

_TOP_LEVEL = ("seed", "device", "experiment", "run_root")
_NOT_IDENTITY = ("run_root", "device", "experiment")  # where and on what, not what
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
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
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        if (not isinstance(self.experiment, str) or not _DIR_NAME.fullmatch(self.experiment)
                or self.experiment in (".", "..")):
            raise ValueError("experiment must be a directory name of letters, digits, '-', '_' "
                             f"and '.', got {self.experiment!r}")
        if not isinstance(self.run_root, str) or not self.run_root:
            raise ValueError(f"run_root must be a non-empty path string, got {self.run_root!r}")
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


def identity_dict(config: ExperimentConfig) -> dict[str, Any]:
    """What a run *is*: `to_dict()` without `run_root`, `device` and `experiment`."""
    return {k: v for k, v in config.to_dict().items() if k not in _NOT_IDENTITY}


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
    if env_id != POINT_MASS_ID:
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
    """JSON value -> field value: lists to tuples for tuple fields, ints to floats for floats."""
    inner = _optional_inner(hint)
    if inner is not None:
        return None if value is None else _normalise(inner, value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _jsonable(value: Any) -> Any:
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
    return out


def _kwargs_normalised(env_id: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(_normalise(_kwarg_hint(env_id, k), v)) for k, v in kwargs.items()}


def _check_keys(where: str, data: Mapping[str, Any], valid: list[str]) -> None:
    for key in data:
        if key not in valid:
            raise ValueError(f"unknown {where} key {key!r}; valid keys: {valid}"
                             + did_you_mean(key, valid))


def _section_from_dict(name: str, data: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(data, Mapping):
        raise ValueError(f"{name} must be a mapping, got {data!r}")
    hints = _hints(cls)
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


# ----------------------------------------------------------------- overrides
def _describe(hint: Any) -> str:
    inner = _optional_inner(hint)
    if inner is not None:
        return f"{_describe(inner)} or 'none'"
    if typing.get_origin(hint) is tuple:
        return "comma-separated integers like '64,64'"
    if typing.get_origin(hint) is dict:
        return "a JSON object"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        hint, "a JSON literal")


def _parse(hint: Any, text: str, key: str) -> Any:
    """Parse override text into a value of type `hint`; a `ValueError` naming `key` if it fails."""
    text = text.strip()
    inner = _optional_inner(hint)
    if inner is not None:
        return None if text.lower() in ("none", "null") else _parse(inner, text, key)
    try:
        if hint is bool:
            return {"true": True, "1": True, "yes": True,
                    "false": False, "0": False, "no": False}[text.lower()]
        if hint in (int, float, str):
            return hint(text)
        if typing.get_origin(hint) is tuple:
            return tuple(int(x) for x in text.strip("()[] ").split(",") if x.strip())
        if typing.get_origin(hint) is dict:
            value = json.loads(text)
            if isinstance(value, dict):
                return value
            raise ValueError(text)
        try:  # untyped (a MuJoCo kwarg): a JSON literal, else the text itself
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    except (ValueError, KeyError):
        raise ValueError(f"{key} must be {_describe(hint)}, got {text!r}") from None


def _split(item: str) -> tuple[list[str], str]:
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"override {item!r} must look like key=value")
    return ALIASES.get(key, key).split("."), text


def apply_overrides(config: ExperimentConfig, overrides: Iterable[str]) -> ExperimentConfig:
    """A new config with `key=value` overrides applied (later ones win).

    Keys: `seed`, `device`, `experiment`, `run_root`; `SECTION.FIELD` for the sections of
    `SECTIONS`; `env.kwargs.NAME` for an env constructor kwarg; `algorithm.variant=paper` for the
    paper's critic settings (`dvg_core.agents.strategies.ALGORITHM_VARIANTS`, fields set in its place, so
    later overrides win); or an alias of `ALIASES`. Values
    are parsed by the field's declared type (`hidden=64,64`, `target_policy_noise=none`); toy
    kwargs by `PointMassSpec`'s. Changing `env.env_id` drops the old env's kwargs unless
    `env.kwargs` itself is set in the same call (the toy's `n_locations` means nothing to Ant).

    Raises:
      ValueError: an unknown key (listing the valid keys of its section), text that does not
        parse, or a value the component rejects (naming the field).
    """
    changes: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    kwarg_texts: dict[str, str] = {}
    for item in overrides:
        parts, text = _split(item)
        section = parts[0]
        if len(parts) == 1:
            _check_keys("top-level", {section: None}, [*_TOP_LEVEL, *ALIASES])
            top[section] = _parse(_hints(ExperimentConfig)[section], text, section)
        elif section not in SECTIONS:
            raise ValueError(f"unknown config section {section!r}; valid: {list(SECTIONS)}"
                             + did_you_mean(section, SECTIONS))
        elif parts == ["algorithm", "variant"]:  # a named set of algorithm fields
            if text.strip() not in ALGORITHM_VARIANTS:
                raise ValueError(f"algorithm.variant must be one of {list(ALGORITHM_VARIANTS)}, "
                                 f"got {text.strip()!r}")
            changes["algorithm"].update(ALGORITHM_VARIANTS[text.strip()])
        elif parts[:2] == ["env", "kwargs"] and len(parts) == 3:
            kwarg_texts[parts[2]] = text
        elif len(parts) == 2:
            hints = _hints(SECTIONS[section])
            _check_keys(section, {parts[1]: None}, list(hints))
            changes[section][parts[1]] = _parse(hints[parts[1]], text, ".".join(parts))
        else:
            raise ValueError(f"unknown config key {'.'.join(parts)!r}")
    _merge_kwargs(config.env, changes["env"], kwarg_texts)
    sections = {name: _construct(name, SECTIONS[name], values, getattr(config, name))
                for name, values in changes.items() if values}
    return replace(config, **sections, **top)


def _merge_kwargs(env: EnvConfig, changes: dict[str, Any], kwarg_texts: dict[str, str]) -> None:
    """Fold `env.kwargs.NAME` overrides into `changes` (in place), typed for the new env id."""
    env_id = changes.get("env_id", env.env_id)
    if "kwargs" in changes:
        kwargs = dict(changes["kwargs"])
    else:
        kwargs = dict(env.kwargs) if env_id == env.env_id else {}
    for name, text in kwarg_texts.items():
        kwargs[name] = _parse(_kwarg_hint(env_id, name), text, f"env.kwargs.{name}")
    for name in kwargs:
        _kwarg_hint(env_id, name)  # unknown toy kwarg -> ValueError (the toy raises TypeError)
    if kwargs != env.kwargs or "kwargs" in changes:
        changes["kwargs"] = kwargs


# ----------------------------------------------------------------- presets
def _toy_quick() -> ExperimentConfig:
    """Small and fast, the default of every command: a whole toy grid (6 algorithms x N in
    {1, 3, 5} x 2 seeds) in about 10 minutes on 2 CPU cores (see the README for the measured time).

    Tuned on N = 1 (see the issue notes): a slower actor (1e-4) and wide exploration noise (0.5)
    escape the "run through the bump into the wall" local optimum more often; one model gradient
    step per env step keeps the cVAE good enough for the model-based targets.
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(64, 64), gamma=0.9, actor_lr=1e-4,
                                  exploration_noise=0.5, slicing_steps=2, slicing_restarts=0),
        env=EnvConfig(env_id=POINT_MASS_ID, kwargs={"n_locations": 3}),
        model=ModelConfig(kind="cvae", hidden=(64, 64), fit_every=250, fit_steps=250,
                          warmup_fit_steps=1000),
        loop=LoopConfig(total_steps=2_000, warmup_steps=500, utd=2, batch_size=64,
                        eval_every=250, eval_episodes=5, log_every=250, checkpoint_every=500),
    )


def _toy_paper() -> ExperimentConfig:
    """Paper-like toy run: 290k updates (29k learning steps x UTD 10), a GPU job.

    Source: paper-notes §4.4 (M = 10 samples, UTD 10). GUESS: γ, widths, batch and budget (not
    recovered from the paper). Expected wall time per run on a 2-core CPU (2 threads), from the
    measured update cost (`python -m workbench bench --problems toy`, 2026-11-25): td3 0.3 h,
    mage 0.6 h, iqn 2.5 h, mmd 2.0 h, dsdpg_mmd 5.5 h, dsdpg_msmmd 7.2 h (updates only).
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(256, 256), gamma=0.95, n_samples=10,
                                  n_target_samples=10),
        env=EnvConfig(env_id=POINT_MASS_ID, kwargs={"n_locations": 3}),
        model=ModelConfig(kind="cvae", hidden=(256, 256)),
        loop=LoopConfig(total_steps=30_000, warmup_steps=1_000, utd=10, batch_size=256,
                        eval_every=1_000, eval_episodes=10),
    )


def _mujoco_100k() -> ExperimentConfig:
    """The MAGE-style budget: 100k env steps on a MuJoCo task (default HalfCheetah-v5).

    TD3's published hyper-parameters (Fujimoto et al. 2018, the authors' repo: 256-256 networks,
    Adam 3e-4, batch 256, γ 0.99, τ 0.005, exploration 0.1, policy delay 2), 10k random warm-up
    steps (the paper's, for HalfCheetah and Ant), one update per env step, evaluation every 5k
    steps over 10 episodes. Observations are standardised by running statistics (TD3's own
    validation run turns this off: `algorithm.normalize_obs=false`). GUESS: UTD 1 (the paper's 10
    is `mujoco-paper`'s; 1M Sobolev updates are a GPU job).
    """
    return ExperimentConfig(
        algorithm=AlgorithmConfig(hidden=(256, 256), gamma=0.99, normalize_obs=True),
        env=EnvConfig(env_id="HalfCheetah-v5"),
        model=ModelConfig(kind="cvae", hidden=(256, 256), fit_every=250, fit_steps=250,
                          warmup_fit_steps=2000),
        loop=LoopConfig(total_steps=100_000, warmup_steps=10_000, utd=1, batch_size=256,
                        eval_every=5_000, eval_episodes=10, log_every=1_000,
                        checkpoint_every=10_000),
    )


def _mujoco_paper() -> ExperimentConfig:
    """The paper's setting (paper-notes §4.4: M = 10, UTD 10), intended for a GPU.

    GUESS: 300k env steps (the paper's x-axes are not recovered); everything else as
    `mujoco-100k`.
    """
    base = _mujoco_100k()
    return replace(base, loop=replace(base.loop, total_steps=300_000, utd=10))


def _mujoco_smoke() -> ExperimentConfig:
    """A few thousand steps of one task with small networks: checks the MuJoCo path end to end
    (used by the test suite); not a result."""
    base = _mujoco_100k()
    return replace(
        base,
        algorithm=replace(base.algorithm, hidden=(64, 64), n_samples=4, n_target_samples=4,
                          slicing_steps=2, slicing_restarts=0),
        model=replace(base.model, hidden=(64, 64), fit_every=500, fit_steps=50,
                      warmup_fit_steps=100),
        loop=LoopConfig(total_steps=2_000, warmup_steps=1_000, utd=1, batch_size=64,
                        eval_every=1_000, eval_episodes=1, log_every=500, checkpoint_every=1_000),
    )


PRESETS: dict[str, Callable[[], ExperimentConfig]] = {
    "toy-quick": _toy_quick,
    "toy-paper": _toy_paper,
    "mujoco-smoke": _mujoco_smoke,
    "mujoco-100k": _mujoco_100k,
    "mujoco-paper": _mujoco_paper,
}
"""Named starting points; every budget of the workbench's presets is set here and nowhere else."""


def preset(name: str, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """The preset `name` with `apply_overrides(…, overrides)` applied.

    Raises:
      ValueError: an unknown preset (listing them) or a bad override.
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {list(PRESETS)}, got {name!r}"
                         + did_you_mean(name, PRESETS))
    return apply_overrides(PRESETS[name](), overrides)
