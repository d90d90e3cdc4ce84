"""The noise sweep: noise-free row first, one row per scale, and more noise hurts a trained policy."""

from __future__ import annotations

import pytest

from workbench.config.presets import preset
from workbench.train.noise_sweep import noise_sweep
from workbench.train.training_run import train


@pytest.mark.slow
def test_noise_sweep_on_a_toy_policy(tmp_path):
    config = preset("toy-quick", ["algo=td3", "n_locations=1", f"run_root={tmp_path}",
                                  "device=cpu"])
    record = train(config, progress=False)
    table = noise_sweep(record, "dynamics", [0.0, 0.3, 1.0], episodes=20)
    assert list(table["scale"]) == [0.0, 0.3, 1.0]
    assert table["relative"].iloc[0] == pytest.approx(1.0)
    # The trained policy collects its bump noise-free (seeded: 7.7); position noise of std 1.0
    # per step (10x its own displacement) makes the point a random walk that rarely stays.
    assert table["mean"].iloc[0] > 5
    assert table["mean"].iloc[2] < 0.5 * table["mean"].iloc[0]
    again = noise_sweep(record, "dynamics", [0.0, 0.3, 1.0], episodes=20)
    assert again.equals(table)  # seeded episodes: reproducible


def test_noise_sweep_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="noise"):
        noise_sweep(tmp_path, "none", [0.1])
    with pytest.raises(ValueError, match="scales"):
        noise_sweep(tmp_path, "dynamics", [-0.1])


@pytest.mark.parametrize("env_id", ["Hopper-v5", "HalfCheetah-v5"])
def test_the_dynamics_noise_scales_are_the_measured_velocity_changes(env_id):
    from dvg_core.envs.factory import (
        DEFAULT_DYNAMICS_NOISE,
        DYNAMICS_NOISE_FRACTION,
        VELOCITY_CHANGE_RMS,
    )
    from workbench.train.noise_sweep import velocity_change_rms

    assert velocity_change_rms(env_id) == pytest.approx(VELOCITY_CHANGE_RMS[env_id], abs=1e-3)
    assert DEFAULT_DYNAMICS_NOISE[env_id] == pytest.approx(
        DYNAMICS_NOISE_FRACTION * VELOCITY_CHANGE_RMS[env_id], rel=0.05)
