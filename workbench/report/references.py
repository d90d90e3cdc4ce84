"""The toy's reference returns for a run's setting, the lines the report draws under the learned
policies' returns (`dvg_core.envs.reference_policies`)."""

from __future__ import annotations

import functools
import math
import json

from dvg_core.envs import POINT_MASS_IDS, default_noise_scale, point_mass_spec
from dvg_core.envs.reference_policies import reference_returns

__all__ = ["REFERENCE_LABELS", "setting_references"]

REFERENCE_LABELS = {"random": "random policy", "stay_at_centre": "stay at the centre",
                    "go_to_location": "go to a location"}
"""How the report names each reference policy."""


@functools.cache
def _cached(env_id: str, noise: str, noise_scale: float | None,
            env_kwargs: str) -> dict[str, tuple[float, float]]:
    kwargs = json.loads(env_kwargs)
    if noise == "dynamics":  # the toy's own position noise (dvg_core.envs.make_env)
        scale = default_noise_scale(env_id, noise) if noise_scale is None else noise_scale
        kwargs["dynamics_noise"] = float(scale)
    return reference_returns(point_mass_spec(env_id, **kwargs))


def setting_references(env_id: str, noise: str, noise_scale: float | None,
                       env_kwargs: str) -> dict[str, tuple[float, float]]:
    """`{policy: (mean, standard error)}` of the reference policies on a run's toy, {} off the
    toy; cached per setting (each costs well under a second).

    Observation noise leaves them as they are: the reference policies see the true position.

    Args:
      env_id, noise, noise_scale: the run's environment (`workbench.report.record_frames.load_metrics` columns).
      env_kwargs: the run's env kwargs as JSON (the `env_kwargs` column), `n_locations` included.
    """
    if env_id not in POINT_MASS_IDS:
        return {}
    scale = None if noise_scale is None or math.isnan(noise_scale) else float(noise_scale)
    return _cached(env_id, noise, scale, env_kwargs)
