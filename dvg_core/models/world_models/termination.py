"""Termination functions `done(s')` of the MuJoCo v5 tasks, as batched torch functions of the
observation, for learned world models (`terminated_fn` of `CVAEWorldModel` and
`GaussianEnsembleWorldModel`).

Each function reproduces gymnasium v5's own `terminated = not is_healthy` (InvertedDoublePendulum:
`y_tip <= 1`) from the *next observation* alone, for the env built with its default constructor
kwargs (`gymnasium/envs/mujoco/*_v5.py`; checked with gymnasium 1.4.0, mujoco 4.0.0). The four
locomotion observations drop the root `x` (and `y`) position
(`exclude_current_positions_from_observation=True`), so the entries read are shifted against
`qpos`: the root height (`qpos[1]` in 2D, `qpos[2]` in 3D) is always `next_obs[..., 0]`.

Where the observation cannot reproduce the env exactly (documented per task):

* Hopper: the env also requires every entry of `state_vector()[2:] = (qpos[2:], qvel)` in
  (-100, 100), but the observation holds `clip(qvel, -10, 10)`, so a velocity beyond ±100 is
  invisible and such a step is predicted "not done". That needs a blow-up of the simulation; it
  was not seen in the measured rollouts (tests/test_termination.py). The check is still applied to
  the observed entries, so a world model predicting a velocity beyond ±100 is marked done.
* Ant: the env requires the whole state `(qpos, qvel)` finite; the observation lacks `qpos[0:2]`
  (x, y), so a state non-finite only there is missed (a diverged simulation is non-finite
  throughout, so in practice never).
* InvertedDoublePendulum: the env's tip height comes from the kinematics MuJoCo's RK4 integrator
  left at an intermediate stage of the last substep, the observation holds the final angles; the
  heights differ by ~1e-4, so steps ending within that of the threshold can disagree.
* Observation noise (`make_env(noise="obs")`) scales every entry by U[0.8, 1.2], thresholds
  included in effect, so a function of the noisy observation misjudges states near them: measured
  on 5000 random-action transitions per task, 3.4% (Hopper), 3.7% (Walker2d), 1.2% (Ant), 11%
  (Humanoid) and 19% (InvertedDoublePendulum) disagree with the env's flag. Nothing in one noisy
  observation can fix that; the env's own flag (stored in the replay) stays exact for real
  transitions, so the cost falls on model rollouts only. Dynamics noise (`noise="dynamics"`)
  perturbs `qvel` after the env's check and leaves the agreement as noise-free (measured: none).
* Float32 observations (the replay's dtype) round the thresholds' neighbourhood by ~1e-7.

All functions take `next_obs [..., d_s]` in raw (unnormalised) observation units, check the
trailing dim, and return a bool tensor `[...]`. NaN is treated as the env treats it: an
`is_healthy` check fails (every comparison with NaN is false), so NaN is done for Hopper, Walker2d,
Ant and Humanoid, and not done for InvertedDoublePendulum (`y <= 1` is false).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from dvg_core.envs import POINT_MASS_IDS
from dvg_core.util.validation import check_shape
from dvg_core.models.world_models import never_terminates

__all__ = [
    "IDP_POLE_LENGTHS",
    "OBS_DIMS",
    "TERMINATION_FNS",
    "TERMINATION_KWARGS",
    "ant_terminated",
    "hopper_terminated",
    "humanoid_terminated",
    "inverted_double_pendulum_terminated",
    "inverted_double_pendulum_tip_height",
    "termination_fn",
    "walker2d_terminated",
]

TerminationFn = Callable[[torch.Tensor], torch.Tensor]

OBS_DIMS: dict[str, int] = {
    "Hopper-v5": 11,
    "Walker2d-v5": 17,
    "Ant-v5": 105,
    "Humanoid-v5": 348,
    "InvertedDoublePendulum-v5": 9,
}
"""Observation size `d_s` of each terminating task with default kwargs (the layout read below)."""

IDP_POLE_LENGTHS = (0.6, 0.6)
"""InvertedDoublePendulum's `(hinge -> hinge2, hinge2 -> tip)` lengths, from
`assets/inverted_double_pendulum.xml`: body `pole2` at `pos="0 0 0.6"` in `pole`, site `tip` at
`pos="0 0 .6"` in `pole2`; both hinges sit at the cart's height z = 0 and turn about the y axis."""


def _between(x: torch.Tensor, low: float, high: float, *, closed: bool = False) -> torch.Tensor:
    """`low < x < high` (or `<=` when `closed`) elementwise; NaN gives False."""
    if closed:
        return (low <= x) & (x <= high)
    return (low < x) & (x < high)


def hopper_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """Hopper-v5: done unless `0.7 < z`, `-0.2 < angle < 0.2` and `|state_vector()[2:]| < 100`.

    Observation `[..., 11]` = `qpos[1:6]` (z, torso angle, thigh, leg, foot) then
    `clip(qvel[0:6], -10, 10)`. Reads `z = obs[0]`, `angle = obs[1]`, and `obs[1:11]`
    (= `qpos[2:]` and the clipped `qvel`) for the state range; the env's `state_vector()[2:]` is
    `(qpos[2:], qvel)` unclipped, so a `|qvel| >= 100` is missed (module docstring).

    Args:
      next_obs: `[..., 11]`.

    Returns:
      `[...]` bool.
    """
    check_shape("next_obs", next_obs, ["...", OBS_DIMS["Hopper-v5"]])
    healthy_z = next_obs[..., 0] > 0.7  # healthy_z_range (0.7, inf)
    healthy_angle = _between(next_obs[..., 1], -0.2, 0.2)
    healthy_state = _between(next_obs[..., 1:], -100.0, 100.0).all(-1)
    return ~(healthy_z & healthy_angle & healthy_state)


def walker2d_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """Walker2d-v5: done unless `0.8 < z < 2.0` and `-1 < angle < 1`.

    Observation `[..., 17]` = `qpos[1:9]` then `clip(qvel, -10, 10)`; reads `z = obs[0]`,
    `angle = obs[1]` (`qpos[1:3]`, exact in the observation).

    Args:
      next_obs: `[..., 17]`.

    Returns:
      `[...]` bool.
    """
    check_shape("next_obs", next_obs, ["...", OBS_DIMS["Walker2d-v5"]])
    healthy_z = _between(next_obs[..., 0], 0.8, 2.0)
    healthy_angle = _between(next_obs[..., 1], -1.0, 1.0)
    return ~(healthy_z & healthy_angle)


def ant_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """Ant-v5: done unless the state is finite and `0.2 <= z <= 1.0` (closed, as in the env).

    Observation `[..., 105]` = `qpos[2:15]` (z, quaternion, 8 joints), `qvel[0:14]`, then the
    external contact forces `clip(cfrc_ext[1:], -1, 1)` (78). Reads `z = obs[0]` and checks
    `obs[0:27]` (the state without x, y) finite; the contact forces are not part of the env's
    `state_vector()` and are not read.

    Args:
      next_obs: `[..., 105]`.

    Returns:
      `[...]` bool.
    """
    check_shape("next_obs", next_obs, ["...", OBS_DIMS["Ant-v5"]])
    finite = torch.isfinite(next_obs[..., :27]).all(-1)
    healthy_z = _between(next_obs[..., 0], 0.2, 1.0, closed=True)
    return ~(finite & healthy_z)


def humanoid_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """Humanoid-v5: done unless `1.0 < z < 2.0`.

    Observation `[..., 348]` = `qpos[2:24]` (22), `qvel` (23), `cinert[1:]` (130), `cvel[1:]` (78),
    `qfrc_actuator[6:]` (17), `cfrc_ext[1:]` (78); reads only `z = obs[0]` (= `qpos[2]`, exact).

    Args:
      next_obs: `[..., 348]`.

    Returns:
      `[...]` bool.
    """
    check_shape("next_obs", next_obs, ["...", OBS_DIMS["Humanoid-v5"]])
    return ~_between(next_obs[..., 0], 1.0, 2.0)


def inverted_double_pendulum_tip_height(next_obs: torch.Tensor) -> torch.Tensor:
    """InvertedDoublePendulum-v5: the height of the second pole's tip (site `tip`) from `obs[1:5]`.

    Observation `[..., 9]` = cart x, `sin(q1)`, `sin(q2)`, `cos(q1)`, `cos(q2)`,
    `clip(qvel, -10, 10)` (3), a constraint force (1); `q1` is the first pole's angle from
    vertical, `q2` the second's relative to the first. Both hinges turn about y, the first at
    height 0, so with `IDP_POLE_LENGTHS = (l1, l2)` the tip is at
    `l1 cos(q1) + l2 cos(q1 + q2)`, `cos(q1 + q2) = cos q1 cos q2 - sin q1 sin q2` (no clipped
    entry involved; equals MuJoCo's forward kinematics of the same `qpos` to rounding).

    Args:
      next_obs: `[..., 9]`.

    Returns:
      `[...]`, in the dtype of `next_obs`.
    """
    check_shape("next_obs", next_obs, ["...", OBS_DIMS["InvertedDoublePendulum-v5"]])
    sin_q1, sin_q2, cos_q1, cos_q2 = next_obs[..., 1:5].unbind(-1)
    l1, l2 = IDP_POLE_LENGTHS
    return l1 * cos_q1 + l2 * (cos_q1 * cos_q2 - sin_q1 * sin_q2)


def inverted_double_pendulum_terminated(next_obs: torch.Tensor) -> torch.Tensor:
    """InvertedDoublePendulum-v5: done when the tip's height `y_tip <= 1` (as the env).

    Reads `obs[1:5]` through `inverted_double_pendulum_tip_height`. Not exact: the env reads
    `data.site_xpos` right after `mj_step`, and with this model's RK4 integrator those positions
    are MuJoCo's kinematics of an intermediate stage of the last physics substep, not of the final
    `qpos` the observation holds. Measured on perturbed states, the two heights differ by 8e-5 on
    average (1.6e-2 at most), so a step whose tip ends within that of `y = 1` can disagree
    (measured: 0 to 15 in 20000 perturbed transitions, none in random ones;
    tests/test_termination.py).

    Args:
      next_obs: `[..., 9]`.

    Returns:
      `[...]` bool.
    """
    return inverted_double_pendulum_tip_height(next_obs) <= 1.0  # NaN -> False, as in the env


TERMINATION_FNS: dict[str, TerminationFn] = {
    "Hopper-v5": hopper_terminated,
    "Walker2d-v5": walker2d_terminated,
    "Ant-v5": ant_terminated,
    "Humanoid-v5": humanoid_terminated,
    "InvertedDoublePendulum-v5": inverted_double_pendulum_terminated,
    "HalfCheetah-v5": never_terminates,
    **{env_id: never_terminates for env_id in POINT_MASS_IDS},
}
"""`done(next_obs [..., d_s]) -> bool [...]` for every workbench env id (`WORKBENCH_ENV_IDS`);
HalfCheetah and the toy never terminate (the toy truncates at its horizon)."""


TERMINATION_KWARGS = (
    "terminate_when_unhealthy",
    "healthy_z_range",
    "healthy_angle_range",
    "healthy_state_range",
    "exclude_current_positions_from_observation",
    "include_cinert_in_observation",
    "include_cvel_in_observation",
    "include_qfrc_actuator_in_observation",
    "include_cfrc_ext_in_observation",
    "xml_file",
)
"""Constructor kwargs of the v5 tasks that change their termination or the observation entries
these functions read; `termination_fn` refuses them for a terminating task (defaults assumed)."""


def termination_fn(env_id: str, *, env_kwargs: Mapping[str, Any] | None = None) -> TerminationFn:
    """The termination function of `env_id` (see `TERMINATION_FNS`), for default env kwargs.

    Args:
      env_id: one of `TERMINATION_FNS`.
      env_kwargs: the constructor kwargs the env was made with (e.g. `EnvConfig.kwargs`), if any;
        for a terminating task none may be one of `TERMINATION_KWARGS`.

    Raises:
      ValueError: `env_id` is not one of `TERMINATION_FNS` (naming the allowed ids), or
        `env_kwargs` changes what a terminating task's function assumes.
    """
    if env_id not in TERMINATION_FNS:
        raise ValueError(f"env_id must be one of {list(TERMINATION_FNS)}, got {env_id!r}")
    fn = TERMINATION_FNS[env_id]
    changed = sorted(set(env_kwargs or {}) & set(TERMINATION_KWARGS))
    if fn is not never_terminates and changed:
        raise ValueError(f"env_kwargs must not set {changed} for {env_id}: its termination "
                         f"function assumes gymnasium's defaults of {list(TERMINATION_KWARGS)}")
    return fn
