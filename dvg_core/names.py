"""The names of the core's registries, importable without torch, numpy or gymnasium: the
algorithms, the environments and the noise settings.

The core takes them from here (`dvg_core.agents`, `dvg_core.envs`, `dvg_core.configs`), and so
does the workbench's command line, which answers `--help` and a typo without loading torch: one
list of each name, nowhere copied. Nothing here imports anything.
"""

from __future__ import annotations

__all__ = [
    "ALGORITHMS", "ENV_IDS", "FLOW_LAYOUTS", "MUJOCO_TASKS", "NOISE_SETTINGS", "PAPER_ALGORITHMS",
    "POINT_MASS_ID", "POINT_MASS_IDS", "POINT_MASS_V1_ID",
]

PAPER_ALGORITHMS = ("td3", "mage", "iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd")
"""The paper's six algorithms: what the grids (toy, MuJoCo, fidelity, bench) run by default."""

ALGORITHMS = (*PAPER_ALGORITHMS, "dsdpg_complete")
"""Every algorithm name: the paper's six and `dsdpg_complete` (the complete Sobolev operator,
ours: max-sliced MMD² on `(Z, ∇ₛZ, ∇ₐZ)`), which a grid runs when named (`--algos`)."""

POINT_MASS_ID = "dvg/PointMass-v0"
"""Gymnasium id of the first toy (kept as it was for its recorded results);
`gymnasium.make(POINT_MASS_ID, n_locations=5, ...)` takes any `PointMassSpec` field as a kwarg.
The env truncates itself after `horizon` steps."""
POINT_MASS_V1_ID = "dvg/PointMass-v1"
"""Gymnasium id of the calibrated toy, the presets' default (see `dvg_core.envs.point_mass`)."""
POINT_MASS_IDS = (POINT_MASS_ID, POINT_MASS_V1_ID)
"""Every version of the toy; code that treats "the toy" specially tests `env_id in POINT_MASS_IDS`."""

MUJOCO_TASKS = (
    "Ant-v5",
    "Humanoid-v5",
    "Walker2d-v5",
    "Hopper-v5",
    "HalfCheetah-v5",
    "InvertedDoublePendulum-v5",
)
"""The six MuJoCo tasks (paper-notes §4.2; the paper's v2 tasks, as gymnasium v5 envs)."""

ENV_IDS = (*POINT_MASS_IDS, *MUJOCO_TASKS)
"""Every env id the workbench runs (`make_env` accepts): the toy's versions and the six MuJoCo
tasks."""

NOISE_SETTINGS = ("none", "obs", "dynamics")
"""The paper's three settings: noise-free, multiplicative observation noise, dynamics noise."""

FLOW_LAYOUTS = ("two_pass", "coupling")
"""How each layer of the flow world model (`FlowWorldModel`, `model.flow_layout`) splits the
features: `two_pass` splines every feature in two masked blocks, `coupling` splines half."""
