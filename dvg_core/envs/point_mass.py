"""`dvg/PointMass-v0` and `-v1`: a 2-D point mass with stochastic, multimodal rewards.

The paper's toy (paper-notes §4.1) is described only as "a 2D point-mass with N stochastic reward
locations"; its exact specification is unknown, so this module *defines* ours:

* **State** `s ∈ [-L, L]²`, the position (`box = L`, default 2).
* **Action** `a ∈ [-1, 1]²`, a velocity. The gymnasium env clips actions to the box; the torch step
  does not clip (a tanh policy is already inside it, and clipping would zero gradients).
* **Dynamics** `s' = reflect(s + dt·a + σ·ε)`, `ε ~ N(0, I)` (`dt` default 0.1,
  `dynamics_noise = σ` default 0). `reflect` folds the position back into the box like an elastic
  wall (a triangle wave of period 4L). Choice: unlike clamping, which zeroes ∂s'/∂a at the walls,
  reflection keeps |∂s'/∂a| = dt everywhere (the sign flips at the wall), so action-gradients stay
  meaningful; it is the identity inside the box and non-differentiable only on the wall itself
  (a set of measure zero).
* **Reward** N locations `g_k = R·(cos 2πk/N, sin 2πk/N)` on a circle of radius `R` (default 1).
  Every step one location `k ~ U{0..N-1}` is drawn and `r = exp(-|s' - g_k|² / (2w²))`
  (`width = w` default 0.3). N = 1 is the deterministic-reward case; the return and its
  action-gradient become multimodal as N grows, since the gradient of each step's reward points
  towards the location drawn at that step.
* **Episodes** never terminate; they truncate after `horizon` steps (default 50).
* **Initial state** uniform in `[-init_range, init_range]²` (default 0.1): near the origin, which
  is at distance R from every location, so no location is favoured at the start.

**Versions** (gymnasium's convention: a behaviour change gets a new id; every `PointMassSpec` field
stays a kwarg of both). `v0` is the spec's defaults above. It turned out to be an exploration
problem: where episodes start the expected reward is 0.0045 and its action-gradient about 5e-3, so
learners see no signal. `v1` (`POINT_MASS_VERSIONS`) is the calibrated toy, `radius = 0.6`,
`width = 0.25`, `init_range = 0.3`: the reward at the origin is 0.056 (N = 1) and its gradient
about 0.5 per step, while going to a location still beats every other reference policy, since
`width < radius / sqrt(2 ln N)` holds up to N = 8 (0.25 < 0.29). Reference returns
(undiscounted, 50 steps, `reference_returns`, 1024 episodes; s.e. <= 0.1, random's at N = 1 0.3):

| v1 policy | N = 1 | N = 3 | N = 5 | N = 8 |
|---|---|---|---|---|
| go to location 0 and stay | 47.4 | 16.0 | 10.0 | 8.3 |
| uniformly random | 6.6 | 6.3 | 6.3 | 6.3 |
| stay at the centre | 2.8 | 2.8 | 2.8 | 2.8 |

One batched, differentiable torch function, `point_mass_step`, is the physics: the gymnasium env,
the oracle world model and the Monte-Carlo ground truth all call it. Its randomness is an explicit
input (`PointMassNoise`: the location index and the standard-normal dynamics noise), so gradients
flow through everything continuous with the noise held fixed (reparameterisation).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch

from dvg_core.names import POINT_MASS_ID, POINT_MASS_V1_ID
from dvg_core.util.validation import check_int_at_least, check_nonnegative, check_positive, check_shape

__all__ = [
    "POINT_MASS_VERSIONS",
    "PointMassDynamics",
    "PointMassEnv",
    "PointMassNoise",
    "PointMassSpec",
    "point_mass_spec",
    "point_mass_step",
    "reflect_into_box",
]

STATE_DIM = 2
ACTION_DIM = 2
MAX_LOCATIONS = 1024
"""The most reward locations N the toy takes (`PointMassSpec.n_locations`)."""


@dataclass(frozen=True)
class PointMassSpec:
    """Parameters of the point-mass toy; validated on construction."""

    n_locations: int = 3
    """N, the number of reward locations (>= 1); one is drawn uniformly at every step."""
    radius: float = 1.0
    """R, radius of the circle the reward locations lie on."""
    width: float = 0.3
    """w, width of each Gaussian reward bump."""
    box: float = 2.0
    """L, half-side of the square the position lives in; must exceed `radius`."""
    dt: float = 0.1
    """Time step: s' = s + dt·a."""
    dynamics_noise: float = 0.0
    """σ, standard deviation of the Gaussian noise added to the position each step."""
    horizon: int = 50
    """Steps before the episode is truncated."""
    init_range: float = 0.1
    """Initial positions are uniform in [-init_range, init_range]²."""

    def __post_init__(self) -> None:
        check_int_at_least("n_locations", self.n_locations, 1)
        if self.n_locations > MAX_LOCATIONS:
            raise ValueError(
                f"n_locations must be <= {MAX_LOCATIONS}, got {self.n_locations!r}: beyond a few "
                "dozen, neighbouring reward bumps (2πR/N apart) overlap so much that the reward "
                "is no longer multimodal, and every step indexes the [N, 2] table of locations"
            )
        check_positive("radius", self.radius)
        check_positive("width", self.width)
        check_positive("box", self.box)
        if self.radius >= self.box:
            raise ValueError(f"radius must be < box (= {self.box}), got {self.radius!r}")
        check_positive("dt", self.dt)
        check_nonnegative("dynamics_noise", self.dynamics_noise)
        check_int_at_least("horizon", self.horizon, 1)
        check_nonnegative("init_range", self.init_range)
        if self.init_range > self.box:
            raise ValueError(f"init_range must be <= box (= {self.box}), got {self.init_range!r}")

    def locations(self, *, dtype: torch.dtype = torch.float32, device: Any = None) -> torch.Tensor:
        """The reward locations `g_k`, shape `[N, 2]`: computed once per spec, dtype and device
        (every step reads them; under `torch.compile` they are traced, not cached). Treat the
        tensor as read-only."""
        if torch.compiler.is_compiling():
            return self._compute_locations(dtype, device)
        key = (dtype, str(torch.device("cpu") if device is None else torch.device(device)))
        cache = self.__dict__.setdefault("_locations_cache", {})  # not a field: eq, hash unchanged
        if key not in cache:
            cache[key] = self._compute_locations(dtype, device)
        return cache[key]

    def _compute_locations(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        angle = 2 * math.pi * torch.arange(self.n_locations, dtype=dtype, device=device)
        angle = angle / self.n_locations
        return self.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)


POINT_MASS_VERSIONS: dict[str, dict[str, float]] = {
    POINT_MASS_ID: {},
    POINT_MASS_V1_ID: {"radius": 0.6, "width": 0.25, "init_range": 0.3},
}
"""Gymnasium id of each version of the toy -> its `PointMassSpec` fields that differ from the
spec's defaults (see the module docstring); explicit kwargs override them."""


def point_mass_spec(env_id: str, **kwargs: Any) -> PointMassSpec:
    """The spec of toy version `env_id` (a key of `POINT_MASS_VERSIONS`) with `kwargs` applied."""
    if env_id not in POINT_MASS_VERSIONS:
        raise ValueError(f"env_id must be one of {list(POINT_MASS_VERSIONS)}, got {env_id!r}")
    return PointMassSpec(**{**POINT_MASS_VERSIONS[env_id], **kwargs})


class PointMassNoise(NamedTuple):
    """The exogenous randomness of one step, for any leading shape `[*]`."""

    location: torch.Tensor
    """Index of the reward location drawn, integer `[*]` in `{0..N-1}`."""
    gaussian: torch.Tensor
    """Standard-normal dynamics noise `[*, 2]` (scaled by `dynamics_noise` inside the step)."""


def reflect_into_box(x: torch.Tensor, box: float) -> torch.Tensor:
    """Fold `x` into `[-box, box]` like an elastic wall (a triangle wave of period `4·box`).

    Identity inside the box; gradient ±1 everywhere else (never 0), see the module docstring.
    """
    period = 4 * box
    y = torch.remainder(x + box, period)  # [0, 4L)
    y = torch.where(y > 2 * box, period - y, y)  # [0, 2L]
    return y - box


def point_mass_step(
    spec: PointMassSpec,
    state: torch.Tensor,
    action: torch.Tensor,
    noise: PointMassNoise,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One differentiable step of the toy, batched over any leading shape.

    Args:
      spec: the toy's parameters.
      state: positions `[*, 2]`.
      action: velocities `[*, 2]` (not clipped here).
      noise: `location [*]` integer indices and `gaussian [*, 2]` standard normals.

    Returns:
      `(next_state [*, 2], reward [*])`, differentiable in `state` and `action`.
    """
    check_shape("state", state, ["...", STATE_DIM])
    check_shape("action", action, ["...", ACTION_DIM])
    check_shape("noise.gaussian", noise.gaussian, ["...", STATE_DIM])
    lead = state.shape[:-1]
    if action.shape[:-1] != lead or noise.gaussian.shape[:-1] != lead:
        raise ValueError(
            "state, action and noise.gaussian must share leading dims, got "
            f"{list(state.shape)}, {list(action.shape)}, {list(noise.gaussian.shape)}"
        )
    if noise.location.shape != lead or noise.location.dtype.is_floating_point:
        raise ValueError(
            f"noise.location must be an integer tensor of shape {list(lead)}, "
            f"got {noise.location.dtype} {list(noise.location.shape)}"
        )
    moved = state + spec.dt * action + spec.dynamics_noise * noise.gaussian
    next_state = reflect_into_box(moved, spec.box)
    goal = spec.locations(dtype=state.dtype, device=state.device)[noise.location]  # [*, 2]
    reward = torch.exp(-((next_state - goal) ** 2).sum(-1) / (2 * spec.width**2))
    return next_state, reward


class PointMassDynamics:
    """The toy as a differentiable simulator: `sample_noise`, then `step`.

    The interface every oracle model and Monte-Carlo estimator uses:
    `noise = dyn.sample_noise(shape, generator=g)`, `s', r = dyn.step(s, a, noise)`,
    `done = dyn.terminated(s')`.
    """

    state_dim = STATE_DIM
    action_dim = ACTION_DIM

    def __init__(self, spec: PointMassSpec) -> None:
        self.spec = spec

    def sample_noise(
        self,
        batch_shape: tuple[int, ...],
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: Any = None,
    ) -> PointMassNoise:
        """Draw the randomness of one step for `batch_shape` independent transitions."""
        shape = tuple(batch_shape)
        location = torch.randint(
            self.spec.n_locations, shape, generator=generator, device=device
        )
        gaussian = torch.randn(
            (*shape, STATE_DIM), generator=generator, dtype=dtype, device=device
        )
        return PointMassNoise(location, gaussian)

    def step(
        self, state: torch.Tensor, action: torch.Tensor, noise: PointMassNoise
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`point_mass_step` with this simulator's spec; see there."""
        return point_mass_step(self.spec, state, action, noise)

    def terminated(self, next_state: torch.Tensor) -> torch.Tensor:
        """The toy never terminates: boolean zeros `[*]`."""
        return torch.zeros(next_state.shape[:-1], dtype=torch.bool, device=next_state.device)


class PointMassEnv(gymnasium.Env):
    """Gymnasium wrapper of `point_mass_step`; every `PointMassSpec` field is a constructor kwarg.

    Observations are the position (float32); randomness comes from `self.np_random`, so
    `reset(seed=...)` makes an episode reproducible. The step is computed in float64 by the same
    torch function the learners differentiate.
    """

    metadata = {"render_modes": []}

    def __init__(self, **kwargs: Any) -> None:
        self.spec_params = PointMassSpec(**kwargs)
        self.dynamics = PointMassDynamics(self.spec_params)
        box = self.spec_params.box
        self.observation_space = gymnasium.spaces.Box(-box, box, (STATE_DIM,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
        self._state = np.zeros(STATE_DIM)
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        r = self.spec_params.init_range
        self._state = self.np_random.uniform(-r, r, size=STATE_DIM)
        self._t = 0
        return self._state.astype(np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if action.shape != (ACTION_DIM,):
            raise ValueError(f"action must have shape [{ACTION_DIM}], got {list(action.shape)}")
        location = int(self.np_random.integers(self.spec_params.n_locations))
        gaussian = self.np_random.standard_normal(STATE_DIM)
        noise = PointMassNoise(torch.tensor(location), torch.from_numpy(gaussian))
        with torch.no_grad():
            next_state, reward = point_mass_step(
                self.spec_params, torch.from_numpy(self._state), torch.from_numpy(action), noise
            )
        self._state = next_state.numpy()
        self._t += 1
        truncated = self._t >= self.spec_params.horizon
        info = {"location": location}
        return self._state.astype(np.float32), float(reward), False, truncated, info

    def config(self) -> dict[str, Any]:
        """The env's parameters as a plain dict."""
        return asdict(self.spec_params)
