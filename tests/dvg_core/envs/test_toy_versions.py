"""The toy's versions (`dvg/PointMass-v0`, `-v1`) and the reference policies that calibrate v1."""

from __future__ import annotations

import math

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from dvg_core.envs import (
    POINT_MASS_ID,
    POINT_MASS_IDS,
    POINT_MASS_V1_ID,
    PointMassSpec,
    point_mass_spec,
)
from dvg_core.envs.reference_policies import REFERENCE_POLICIES, reference_returns

V1 = point_mass_spec(POINT_MASS_V1_ID)


def test_v0_is_the_spec_defaults_and_v1_the_calibrated_toy():
    assert point_mass_spec(POINT_MASS_ID) == PointMassSpec()
    assert (V1.radius, V1.width, V1.init_range) == (0.6, 0.25, 0.3)
    assert point_mass_spec(POINT_MASS_V1_ID, n_locations=5, width=0.2).width == 0.2
    with pytest.raises(ValueError, match="env_id must be one of"):
        point_mass_spec("dvg/PointMass-v9")


@pytest.mark.parametrize("env_id", POINT_MASS_IDS)
def test_gymnasium_make_gives_the_versions_spec_and_passes_the_checker(env_id):
    env = gymnasium.make(env_id, n_locations=3)
    assert env.unwrapped.spec_params == point_mass_spec(env_id, n_locations=3)
    check_env(env.unwrapped, skip_render_check=True)


def test_v1_gives_signal_where_episodes_start():
    """The expected reward at the origin is exp(-R²/2w²) for every N; v0's was 0.004."""
    assert math.exp(-(V1.radius**2) / (2 * V1.width**2)) > 0.05
    assert math.exp(-(PointMassSpec().radius ** 2) / (2 * PointMassSpec().width ** 2)) < 0.005


def test_stay_at_centre_earns_the_closed_form_centre_reward():
    """From |s| <= 0.3 the controller reaches the origin within 3 steps (dt = 0.1, |a| <= 1),
    then earns exp(-R²/2w²) per step whatever location is drawn."""
    mean, _ = reference_returns(V1, episodes=64)["stay_at_centre"]
    at_centre = math.exp(-(V1.radius**2) / (2 * V1.width**2))
    assert (V1.horizon - 3) * at_centre <= mean <= V1.horizon * at_centre + 3


@pytest.mark.parametrize("n_locations", [1, 3, 5, 8])
def test_on_v1_going_to_a_location_beats_random_which_beats_the_centre(n_locations):
    spec = point_mass_spec(POINT_MASS_V1_ID, n_locations=n_locations)
    assert spec.width < spec.radius / math.sqrt(2 * math.log(max(n_locations, 2)))
    returns = reference_returns(spec, episodes=256)
    means = [returns[policy][0] for policy in ("stay_at_centre", "random", "go_to_location")]
    errors = max(returns[policy][1] for policy in REFERENCE_POLICIES)
    assert means[0] + 3 * errors < means[1] < means[2] - 3 * errors


def test_go_to_location_returns_shrink_like_one_over_n():
    """At location 0 the drawn bump is there with probability 1/N, so the return falls with N."""
    go = [reference_returns(point_mass_spec(POINT_MASS_V1_ID, n_locations=n),
                            episodes=128)["go_to_location"][0] for n in (1, 3, 5, 8)]
    assert go[0] > 0.9 * V1.horizon
    assert go == sorted(go, reverse=True)
    assert go[1] == pytest.approx(go[0] / 3, rel=0.15)
