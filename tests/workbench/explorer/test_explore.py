"""The toy explorer: one exploration (`workbench.explorer.exploration`) on tiny budgets, its figures
(`workbench.report.plots`), and the widgets (`workbench.explorer.toy_explorer`) without a browser."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.explorer import figures as plots
from workbench.explorer.exploration import (
    Exploration,
    ExploreSettings,
    explore,
    figures,
    probe_window_pairs,
    summary,
)

TINY = dict(n_updates=20, warm_updates=10, batch_size=16, hidden=(16, 16), n_samples=4,
            n_truth=32, n_probe_samples=8, grid=4)


@pytest.fixture(scope="module")
def tiny() -> Exploration:
    return explore(ExploreSettings(algorithm="dsdpg_mmd", n_locations=2, **TINY))


def test_an_exploration_returns_every_array_with_its_documented_shape(tiny):
    assert tiny.samples.shape == (2 * 8, 3)  # two critic members x n_probe_samples
    assert tiny.truth.shape == (32, 3)
    assert tiny.locations.shape == (2, 2)
    assert tiny.grid.shape == (4,) and tiny.value.shape == (4, 4) and tiny.grad.shape == (4, 4, 2)
    assert tiny.losses.shape == (20,)
    assert np.allclose(tiny.probe_state, (0.8, 0.3))
    for x in (tiny.samples, tiny.truth, tiny.value, tiny.grad, tiny.losses):
        assert np.isfinite(x).all()
    assert math.isfinite(tiny.mmd) and tiny.mmd >= 0 and tiny.start_mmd >= 0


def test_a_deterministic_critic_gives_one_point_per_member():
    result = explore(ExploreSettings(algorithm="mage", **TINY))
    assert result.samples.shape == (2, 3)


def test_the_truth_at_gamma_zero_is_the_closed_form_one_step_reward_and_its_gradient():
    # N = 1, σ = 0, γ = 0: G = exp(-|s + dt a - g|² / 2w²), ∇ₐG = -dt (s' - g) / w² G, g = (R, 0).
    result = explore(ExploreSettings(gamma=0.0, n_locations=1, **TINY))
    s, a = result.probe_state.astype(np.float64), result.probe_action.astype(np.float64)
    next_state, goal, width, dt = s + 0.1 * a, np.array([1.0, 0.0]), 0.3, 0.1
    g = math.exp(-np.sum((next_state - goal) ** 2) / (2 * width**2))
    expected = np.array([g, *(-dt * (next_state - goal) / width**2 * g)])
    assert np.allclose(result.truth, expected[None], atol=1e-5)


def test_a_trained_critic_is_closer_to_the_truth_than_the_untrained_one():
    result = explore(ExploreSettings(n_updates=150, batch_size=32, n_truth=128,
                                     n_probe_samples=32, grid=3))
    assert result.mmd < 0.5 * result.start_mmd


def test_an_exploration_is_deterministic_and_leaves_the_global_rng_alone():
    settings = ExploreSettings(algorithm="dsdpg_msmmd", **TINY)
    torch.manual_seed(7)
    first = explore(settings)
    after = torch.rand(3)
    torch.manual_seed(7)
    expected = torch.rand(3)
    second = explore(settings)
    assert torch.equal(after, expected)
    for name in ("samples", "truth", "value", "grad", "losses"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert first.mmd == second.mmd


def test_progress_is_reported_up_to_the_number_of_updates():
    seen = []
    explore(ExploreSettings(algorithm="mage", **TINY), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (20, 20) and all(t == 20 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_window_pairs_draw_near_the_probe_with_the_local_fraction_and_stay_in_the_box():
    probe = torch.tensor([1.8, -1.9])
    g = torch.Generator().manual_seed(0)
    state, action = probe_window_pairs(2.0, probe, window=0.5, local_fraction=0.7)(4000, g)
    assert state.shape == (4000, 2) and action.shape == (4000, 2)
    assert bool((state.abs() <= 2.0).all()) and bool((action.abs() <= 1.0).all())
    near = ((state - probe).abs() <= 0.5).all(-1).float().mean()
    uniform_share = 0.3 * (0.7 * 0.6) / 16  # the uniform draws that fall in the clipped window
    assert float(near) == pytest.approx(0.7 + uniform_share, abs=0.03)
    local, _ = probe_window_pairs(2.0, probe, window=0.5, local_fraction=1.0)(500, g)
    assert bool(((local - probe).abs() <= 0.5).all())


@pytest.mark.parametrize(("changes", "named"), [
    ({"algorithm": "nope"}, "algorithm must be one of"),
    ({"probe": (2.5, 0.0)}, "probe x must be in"),
    ({"probe": (0.0,)}, "probe must be a pair"),
    ({"n_locations": 0}, "n_locations"),
    ({"gamma": 1.0}, "gamma"),
    ({"lam": -1.0}, "lam must be >= 0"),
    ({"noise": -0.1}, "dynamics_noise"),
    ({"grid": 1}, "grid"),
    ({"local_fraction": 1.5}, "local_fraction"),
    ({"n_updates": 0}, "n_updates"),
    ({"warm_updates": 0}, "warm_updates"),
])
def test_bad_settings_raise_a_value_error_naming_them(changes, named):
    with pytest.raises(ValueError, match=named):
        ExploreSettings(**changes)


# ----------------------------------------------------------------- figures
def test_the_exploration_figures_carry_setting_probe_and_mmd_in_their_titles(tiny):
    found = figures(tiny)
    assert list(found) == ["samples", "plane", "loss"]
    title = found["samples"].layout.title.text
    assert "s=(0.80, 0.30)" in title and "dsdpg_mmd, λ=1, γ=0.5, N=2" in title
    assert title.endswith(f"joint MMD² to truth: {tiny.mmd:.4f}")
    assert "dsdpg_mmd" in found["plane"].layout.title.text
    line = summary(tiny)
    assert f"{tiny.mmd:.4f}" in line and f"(untrained {tiny.start_mmd:.4f})" in line


def test_joint_samples_figure_draws_critic_and_truth_in_three_projections():
    samples = np.arange(12.0).reshape(4, 3)
    truth = -np.arange(15.0).reshape(5, 3)
    figure = plots.joint_samples_vs_truth(samples, truth, mmd=0.123456, title="At s")
    assert figure.layout.title.text == "At s<br>joint MMD² to truth: 0.1235"
    assert [t.name for t in figure.data] == ["truth", "critic"] * 3
    assert [t.showlegend for t in figure.data] == [True, True] + [False] * 4
    for panel, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        truth_trace, critic_trace = figure.data[2 * panel], figure.data[2 * panel + 1]
        assert np.array_equal(critic_trace.x, samples[:, i])
        assert np.array_equal(critic_trace.y, samples[:, j])
        assert np.array_equal(truth_trace.x, truth[:, i])
    with pytest.raises(ValueError, match="samples must have shape"):
        plots.joint_samples_vs_truth(samples[:, :2], truth, mmd=0.0, title="x")


def test_plane_figure_draws_value_arrows_locations_and_probe():
    grid = np.array([-1.0, 0.0, 1.0])
    value = np.arange(9.0).reshape(3, 3)
    grad = np.zeros((3, 3, 2))
    grad[2, 0] = (0.0, 4.0)  # the longest arrow, at (x, y) = (-1, 1), pointing up
    grad[0, 1] = (-2.0, 0.0)  # half as long, at (0, -1), pointing left
    locations = np.array([[0.5, 0.0], [-0.5, 0.0]])
    figure = plots.toy_plane(grid, value, grad, locations, probe=np.array([0.2, 0.3]),
                             title="Plane")
    assert figure.layout.title.text == "Plane"
    assert [t.name for t in figure.data] == ["mean value", "mean ∇ₐZ", "reward locations",
                                             "probe"]
    assert np.array_equal(np.asarray(figure.data[0].z), value)
    xs, ys = np.asarray(figure.data[1].x, float), np.asarray(figure.data[1].y, float)
    starts, tips = np.stack([xs[0::3], ys[0::3]], -1), np.stack([xs[1::3], ys[1::3]], -1)
    assert np.isnan(xs[2::3]).all()
    # arrow of grid point (row y=1, col x=-1) is index 2*3+0; the longest spans 0.9 cells
    assert np.allclose(starts[6], (-1.0, 1.0)) and np.allclose(tips[6], (-1.0, 1.9))
    assert np.allclose(tips[1] - starts[1], (-0.45, 0.0))
    assert np.array_equal(figure.data[2].x, locations[:, 0])
    with pytest.raises(ValueError, match="value and grad"):
        plots.toy_plane(grid, value[:2], grad, locations, title="x")


def test_loss_curve_draws_the_losses_and_their_moving_average():
    losses = np.arange(40.0)
    figure = plots.loss_curve(losses, title="Loss")
    assert figure.layout.title.text == "Loss"
    assert [t.name for t in figure.data] == ["loss", "moving average"]
    assert np.array_equal(figure.data[0].y, losses)
    smooth = figure.data[1]  # window 40 // 20 = 2: mean of consecutive pairs, from update 2
    assert list(smooth.x[:2]) == [2, 3] and np.allclose(smooth.y[:2], [0.5, 1.5])
    with pytest.raises(ValueError, match="losses"):
        plots.loss_curve(np.zeros((2, 2)), title="x")


# ----------------------------------------------------------------- widgets (no browser)
def test_moving_a_control_retrains_and_updates_the_figures_in_place():
    pytest.importorskip("anywidget")
    from workbench.explorer.toy_explorer import ToyExplorer

    explorer = ToyExplorer(ExploreSettings(algorithm="dsdpg_mmd", **TINY))
    samples = explorer.figures["samples"]
    before = samples.layout.title.text
    explorer.controls["lam"].value = 2.5
    assert explorer.figures["samples"] is samples  # the same FigureWidget, updated
    assert explorer.result.settings.lam == 2.5 and "λ=2.5" in samples.layout.title.text
    assert samples.layout.title.text != before
    assert np.array_equal(samples.data[1].x, explorer.result.samples[:, 0])
    # a move warm-starts from the previous critic: warm_updates (10), not n_updates (20)
    assert explorer.result.warm and explorer.progress.value == explorer.progress.max == 10
    assert explorer.progress.bar_style == "success"
    assert explorer.status.value.startswith("dsdpg_mmd: 10 critic updates")


def test_an_algorithm_change_or_an_unticked_warm_start_trains_a_fresh_critic():
    pytest.importorskip("anywidget")
    from workbench.explorer.toy_explorer import ToyExplorer

    explorer = ToyExplorer(ExploreSettings(algorithm="dsdpg_mmd", **TINY))
    assert not explorer.result.warm  # the first run has nothing to start from
    explorer.controls["algorithm"].value = "mage"
    assert not explorer.result.warm and len(explorer.result.losses) == 20
    explorer.controls["lam"].value = 2.0
    assert explorer.result.warm and len(explorer.result.losses) == 10
    explorer.warm.value = False
    explorer.controls["lam"].value = 3.0
    cold = explore(explorer.result.settings)
    assert not explorer.result.warm and np.array_equal(explorer.result.samples, cold.samples)


def test_a_click_on_the_plane_moves_the_probe_once_snapped_to_the_slider_step():
    pytest.importorskip("anywidget")
    from workbench.explorer.toy_explorer import ToyExplorer

    explorer = ToyExplorer(ExploreSettings(algorithm="mage", **TINY))
    runs = []
    original = explorer.refresh
    explorer.refresh = lambda: runs.append(1) or original()

    class Points:
        point_inds, xs, ys = [5], [-0.53], [1.02]

    explorer._on_plane_click(explorer.figures["plane"].data[0], Points, None)
    assert len(runs) == 1
    assert explorer.result.settings.probe == (-0.55, 1.0)
    assert list(explorer.figures["plane"].data[3].x) == pytest.approx([-0.55])
