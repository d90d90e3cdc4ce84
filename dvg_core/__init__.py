"""dvg_core: a compact torch core for distributional value gradients (DSDPG and baselines).

Importing `dvg_core.envs` registers the workbench's gymnasium environments (`dvg/PointMass-v0`,
`dvg/PointMass-v1`); every module that builds an environment imports it. This package itself
loads nothing on import, so `dvg_core.names` (the names of the algorithms, environments and noise
settings) is importable without torch; `dvg_core.envs` and `dvg_core.POINT_MASS_ID` load on first
use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["POINT_MASS_ID", "envs"]


def __getattr__(name: str) -> Any:
    """`envs` (the subpackage, registering the toy) and `POINT_MASS_ID`, imported on first access."""
    if name == "envs":
        return importlib.import_module("dvg_core.envs")
    if name == "POINT_MASS_ID":
        return importlib.import_module("dvg_core.names").POINT_MASS_ID
    raise AttributeError(f"module 'dvg_core' has no attribute {name!r}")
