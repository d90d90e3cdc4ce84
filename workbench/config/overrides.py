"""Typed `key=value` overrides of an `ExperimentConfig` (`apply_overrides`): what `--set` and the
presets use. Text is parsed into the declared field types; the components validate the values."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from dvg_core.agents import ALGORITHM_VARIANTS, FLAT_KEYS, AlgorithmConfig, SlicingConfig
from dvg_core.configs import EnvConfig
from dvg_core.envs import POINT_MASS_IDS
from workbench.config.experiment_config import (
    _TOP_LEVEL, FLAT_SLICING, SECTIONS, ExperimentConfig, _check_keys, _construct, _hints, _kwarg_hint,
    _optional_inner,
)
from workbench.config.names import ALIASES, did_you_mean

__all__ = ["apply_overrides", "set_keys"]

_FLAT_NAME = {nested: flat for flat, nested in FLAT_KEYS.items()}
"""`(group, name)` -> the flat name of an `AlgorithmConfig` group field (`critic.lr` ->
`critic_lr`): nested and flat keys are one override, applied in order."""


def _algorithm_field(parts: list[str]) -> tuple[str, Any]:
    """`algorithm.NAME` or `algorithm.GROUP.NAME` (not slicing) -> the field's flat name (the
    constructor's keyword) and its type; a `ValueError` naming the valid keys."""
    if len(parts) == 3:
        group = _hints(AlgorithmConfig)[parts[1]]
        _check_keys(f"algorithm.{parts[1]}", {parts[2]: None}, list(_hints(group)))
        parts = ["algorithm", _FLAT_NAME[(parts[1], parts[2])]]
    if parts[1] in FLAT_KEYS:
        group, name = FLAT_KEYS[parts[1]]
        return parts[1], _hints(_hints(AlgorithmConfig)[group])[name]
    hints = _hints(AlgorithmConfig)
    valid = ["name", "gamma", *FLAT_KEYS, "hidden", "normalize_obs", "slicing",
             *(f"{g}.{n}" for g, n in FLAT_KEYS.values())]
    _check_keys("algorithm", {parts[1]: None}, valid)
    return parts[1], hints[parts[1]]


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
    `SECTIONS`; `env.kwargs.NAME` for an env constructor kwarg; `algorithm.GROUP.NAME` for a
    field of an `AlgorithmConfig` group (`algorithm.critic.lr`, or its flat name
    `algorithm.critic_lr`: `FLAT_KEYS`); `algorithm.slicing.NAME` for max-slicing's
    options (the older `algorithm.slicing_NAME` too); `algorithm.variant=paper` for the
    paper's critic settings (`dvg_core.agents.strategies.ALGORITHM_VARIANTS`, fields set in its place, so
    later overrides win); or an alias of `ALIASES`. Values
    are parsed by the field's declared type (`hidden=64,64`, `target_policy_noise=none`); toy
    kwargs by `PointMassSpec`'s. Changing `env.env_id` drops the old env's kwargs unless
    `env.kwargs` itself is set in the same call (the toy's `n_locations` means nothing to Ant), or
    the change is between versions of the toy, which share their kwargs.

    Raises:
      ValueError: an unknown key (listing the valid keys of its section), text that does not
        parse, or a value the component rejects (naming the field).
    """
    changes: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    kwarg_texts: dict[str, str] = {}
    slicing_texts: dict[str, str] = {}
    for item in overrides:
        parts, text = _split(item)
        if parts[0] == "algorithm" and len(parts) == 2 and parts[1] in FLAT_SLICING:
            parts = ["algorithm", "slicing", FLAT_SLICING[parts[1]]]  # the older flat names
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
        elif parts[:2] == ["algorithm", "slicing"] and len(parts) == 3:
            slicing_texts[parts[2]] = text
        elif parts[:2] == ["env", "kwargs"] and len(parts) == 3:
            kwarg_texts[parts[2]] = text
        elif section == "algorithm" and (len(parts) == 2 or (
                len(parts) == 3 and parts[1] in ("critic", "actor", "targets", "distance"))):
            name, hint = _algorithm_field(parts)
            changes["algorithm"][name] = _parse(hint, text, ".".join(parts))
        elif len(parts) == 2:
            hints = _hints(SECTIONS[section])
            _check_keys(section, {parts[1]: None}, list(hints))
            changes[section][parts[1]] = _parse(hints[parts[1]], text, ".".join(parts))
        else:
            raise ValueError(f"unknown config key {'.'.join(parts)!r}")
    _merge_kwargs(config.env, changes["env"], kwarg_texts)
    if slicing_texts:
        changes["algorithm"]["slicing"] = _slicing(
            changes["algorithm"].get("slicing", config.algorithm.slicing), slicing_texts)
    sections = {name: _construct(name, SECTIONS[name], values, getattr(config, name))
                for name, values in changes.items() if values}
    return replace(config, **sections, **top)


def _merge_kwargs(env: EnvConfig, changes: dict[str, Any], kwarg_texts: dict[str, str]) -> None:
    """Fold `env.kwargs.NAME` overrides into `changes` (in place), typed for the new env id."""
    env_id = changes.get("env_id", env.env_id)
    if "kwargs" in changes:
        kwargs = dict(changes["kwargs"])
    else:
        same_family = {env_id, env.env_id} <= set(POINT_MASS_IDS)  # toy versions share kwargs
        kwargs = dict(env.kwargs) if env_id == env.env_id or same_family else {}
    for name, text in kwarg_texts.items():
        kwargs[name] = _parse(_kwarg_hint(env_id, name), text, f"env.kwargs.{name}")
    for name in kwargs:
        _kwarg_hint(env_id, name)  # unknown toy kwarg -> ValueError (the toy raises TypeError)
    if kwargs != env.kwargs or "kwargs" in changes:
        changes["kwargs"] = kwargs


def _slicing(base: SlicingConfig, texts: dict[str, str]) -> SlicingConfig:
    """`base` with `algorithm.slicing.NAME` overrides applied (a `ValueError` naming the key)."""
    hints = _hints(SlicingConfig)
    _check_keys("algorithm.slicing", texts, list(hints))
    values = {k: _parse(hints[k], t, f"algorithm.slicing.{k}") for k, t in texts.items()}
    try:
        return replace(base, **values)
    except ValueError as err:
        raise ValueError(f"algorithm: {err}") from None


def set_keys(overrides: Iterable[str]) -> dict[str, str]:
    """The full key (aliases resolved) -> the text of each `key=value` override, the last one
    winning; an item that is no `key=value` is left out (`apply_overrides` names it)."""
    keys = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if sep and key.strip():
            keys[ALIASES.get(key.strip(), key.strip())] = text.strip()
    return keys
