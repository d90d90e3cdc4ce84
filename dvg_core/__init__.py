"""dvg_core: a compact torch core for distributional value gradients (DSDPG and baselines).

Importing it registers the workbench's gymnasium environments (`dvg/PointMass-v0`).
"""

from __future__ import annotations

from dvg_core import envs
from dvg_core.envs import POINT_MASS_ID

__all__ = ["POINT_MASS_ID", "envs"]
