"""Every `--set` key of a config, with its type, its value and its doc line
(`python -m workbench config --list`).

The doc line is the docstring under the dataclass field (the CleanRL/tyro habit), read from the
class source with `ast`, so the listing cannot drift from the code.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import textwrap
import typing
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from dvg_core.agents import ALGORITHM_VARIANTS, FLAT_KEYS
from dvg_core.envs import POINT_MASS_IDS, point_mass_spec
from workbench.config.experiment_config import _TOP_LEVEL, ALIASES, SECTIONS, ExperimentConfig

__all__ = ["ConfigKey", "config_keys", "field_docs", "format_keys"]


@dataclass(frozen=True)
class ConfigKey:
    """One `--set` key."""

    key: str
    """Dotted key, e.g. `algorithm.lam`."""
    type: str
    """Its declared type, e.g. `float`, `int | None`."""
    value: str
    """Its value in the config listed (JSON)."""
    doc: str
    """The first line of the field's docstring."""


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Field name -> first line of the string literal right under it in `cls`'s source
    (`""` for a field without one)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # the class statement's body
    docs = {}
    for stmt, after in zip(body, [*body[1:], None]):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            text = ""
            if (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                text = inspect.cleandoc(after.value.value).split("\n\n")[0].replace("\n", " ")
            docs[stmt.target.id] = text
    return docs


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def _value(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _section_keys(prefix: str, obj: Any, names: tuple[str, ...] | None = None
                  ) -> list[ConfigKey]:
    hints, docs = typing.get_type_hints(type(obj)), field_docs(type(obj))
    keys = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if names is not None and f.name not in names:
            continue
        if is_dataclass(value):  # a nested config (algorithm.slicing): its own keys
            keys += _section_keys(f"{prefix}{f.name}.", value)
        else:
            keys.append(ConfigKey(f"{prefix}{f.name}", _type_name(hints[f.name]), _value(value),
                                  docs.get(f.name, "")))
    return keys


def config_keys(config: ExperimentConfig) -> list[ConfigKey]:
    """Every key `apply_overrides` takes for `config`: the top-level fields, every field of
    every section, `algorithm.variant`, and (on the toy) each `env.kwargs.NAME` of
    `PointMassSpec` but `dynamics_noise` (set by `env.noise`); values are `config`'s own."""
    keys = _section_keys("", config, _TOP_LEVEL)
    for name in SECTIONS:
        keys += _section_keys(f"{name}.", getattr(config, name))
    variants = "|".join(ALGORITHM_VARIANTS)
    keys.append(ConfigKey("algorithm.variant", variants, '"default"',
                          "a named set of algorithm fields: the workbench's or the paper's "
                          "critic settings (later keys win)"))
    if config.env.env_id in POINT_MASS_IDS:
        spec = point_mass_spec(config.env.env_id, **config.env.kwargs)
        keys += [k for k in _section_keys("env.kwargs.", spec)
                 if k.key != "env.kwargs.dynamics_noise"]
    return keys


def format_keys(keys: list[ConfigKey]) -> str:
    """A plain-text table (key, type, value, doc), then the aliases, then the flat names the
    grouped algorithm keys had (`algorithm.lam` for `algorithm.distance.lam`), which `--set`
    still takes."""
    rows = [("KEY", "TYPE", "VALUE", "DOC")] + [(k.key, k.type, k.value, k.doc) for k in keys]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    aliases = ", ".join(f"{short}={full}" for short, full in ALIASES.items())
    flat = ", ".join(f"algorithm.{name}=algorithm.{group}.{field}"
                     for name, (group, field) in FLAT_KEYS.items())
    return "\n".join([*lines, "", f"aliases: {aliases}", f"flat names: {flat}"])
