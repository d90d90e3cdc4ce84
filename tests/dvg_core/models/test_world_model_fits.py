"""World models against the toy's transition law: MMD² between model and simulator samples of
`(s', r)` at fixed probes, before and after a fit (the rows of docs/lab/results.md), and the reward
modes near a goal."""

from __future__ import annotations

import pytest
import torch

from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.losses.distances import mmd2
from dvg_core.losses.kernels import make_kernel
from dvg_core.models.world_models import (
    CVAEWorldModel, FlowWorldModel, GaussianEnsembleWorldModel, OracleWorldModel,
)
from world_model_data import REGION, SPEC, DYN, toy_batch


# ---------------------------------------------------------------- fitting the toy's law


PROBES, M = 32, 64


@pytest.fixture(scope="module")
def probe_sets():
    """32 probe pairs (16 uniform in the region, 16 within 0.15 of a goal, where the reward is
    bimodal: ≈ 0.7-1 w.p. 1/3, ≈ 0 w.p. 2/3), the simulator's sets at them, and baselines."""
    g = torch.Generator().manual_seed(1234)
    state = (torch.rand(PROBES, 2, generator=g) * 2 - 1) * REGION
    near = torch.arange(PROBES // 2) % SPEC.n_locations
    offset = (torch.rand(PROBES // 2, 2, generator=g) * 2 - 1) * 0.15
    state[PROBES // 2:] = SPEC.locations()[near] + offset
    action = torch.rand(PROBES, 2, generator=g) * 2 - 1
    sim = [_law_samples(OracleWorldModel(DYN), state, action, g, n) for n in (M, M, 4096)]
    # Standardise each coordinate by its within-probe (conditional) std pooled over probes: the
    # scale of the randomness the model has to reproduce (≈ 0.05 for s', ≈ 0.29 for r).
    scale = sim[2].var(1).mean(0).sqrt()
    mean_model = sim[2].mean(1, keepdim=True).expand(-1, M, -1)  # best deterministic model
    return dict(state=state, action=action, sim=sim[0], scale=scale,
                floor=_mmd(sim[1], sim[0], scale), mean_model=_mmd(mean_model, sim[0], scale))


def _law_samples(model, state, action, g, n=M):
    """`[P, n, 3]` samples of `(s', r)` at each of the P probe pairs."""
    expand = lambda x: x[:, None].expand(-1, n, -1)  # noqa: E731
    with torch.no_grad():
        next_state, reward, _ = model.sample(
            expand(state), expand(action), model.sample_noise((state.shape[0], n), generator=g))
    return torch.cat([next_state, reward.unsqueeze(-1)], -1)


def _mmd(x, y, scale):
    """Mean over probes of the V-statistic MMD² with an RBF mixture on standardised samples."""
    kernel = make_kernel("rbf", bandwidths=(0.5, 1.0, 2.0, 4.0))
    return mmd2(x / scale, y / scale, kernel).mean()


def _fit_and_measure(model, probe_sets, steps, *, anneal=None):
    """Fit `steps` batches of 256 fresh toy transitions (from step `anneal[0]` on at learning
    rate `anneal[1]`); return the samples at the probes and the MMD² after and before."""
    g_eval = torch.Generator().manual_seed(7)
    args = (probe_sets["state"], probe_sets["action"], g_eval)
    untrained = _mmd(_law_samples(model, *args), probe_sets["sim"], probe_sets["scale"])
    g = torch.Generator().manual_seed(8)
    for step in range(steps):
        if anneal is not None and step == anneal[0]:
            model.optimizer.param_groups[0]["lr"] = anneal[1]
        model.fit(*toy_batch(256, g))
    samples = _law_samples(model, *args)
    trained = _mmd(samples, probe_sets["sim"], probe_sets["scale"])
    print(f"{type(model).__name__}: MMD² trained {trained:.4f}, untrained {untrained:.4f}, "
          f"floor {probe_sets['floor']:.4f}, conditional-mean model {probe_sets['mean_model']:.4f}")
    return samples, trained, untrained


def _reward_modes(samples):
    """At the near-goal probes (reward ≈ 0 w.p. 2/3, in ≈ [0.6, 1] w.p. 1/3): the fraction of
    reward samples on the high mode (> 0.6) and *between* the modes (in (0.2, 0.6))."""
    reward = samples[PROBES // 2:, :, 2]
    return (reward > 0.6).double().mean(), ((reward > 0.2) & (reward < 0.6)).double().mean()


def _report_modes(name, samples, probe_sets):
    (high, between), (sim_high, sim_between) = _reward_modes(samples), _reward_modes(
        probe_sets["sim"])
    print(f"{name}: reward high mode {high:.3f} (sim {sim_high:.3f}), "
          f"between modes {between:.3f} (sim {sim_between:.3f})")
    return high, between


def test_cvae_fit_reproduces_the_toy_transition_law(probe_sets):
    # Measured: trained ≈ 0.028, floor ≈ 0.018, untrained ≈ 0.42, conditional-mean model ≈ 0.40.
    torch.manual_seed(0)
    model = CVAEWorldModel(2, 2, hidden=(128, 128))
    samples, trained, untrained = _fit_and_measure(model, probe_sets, steps=3000)
    # V-statistics: model-vs-sim ≈ floor + true MMD², so "< 2 × floor" means the remaining error
    # is below what two 64-sample sets of the *same* law show; the best deterministic model (the
    # conditional mean, MAGE's view) is ~20× the floor, so spread must be reproduced to pass.
    assert trained < 2 * probe_sets["floor"]
    assert trained < 0.1 * untrained and trained < 0.1 * probe_sets["mean_model"]
    high, between = _report_modes("gaussian prior", samples, probe_sets)
    # Both reward modes are reached, but a Gaussian prior leaves holes between the encoder's
    # clusters: ≈ 0.15-0.2 of the samples land between the modes (sim ≈ 0.01; see the docstring).
    assert high > 0.08  # measured ≈ 0.12 (sim 0.34), between modes ≈ 0.19 (sim 0.001)


def test_cvae_with_mixture_prior_reproduces_the_multimodal_reward(probe_sets):
    # Measured: MMD² ≈ 0.023 (floor ≈ 0.018), high mode ≈ 0.44 (sim 0.34), between modes ≈ 0.05
    # (sim 0.001; Gaussian prior ≈ 0.19). Seeds 1-2 on another probe set: MMD² 0.015-0.020,
    # high mode 0.27-0.33 (sim 0.31), between 0.06-0.08: the weights of the modes are noisy.
    torch.manual_seed(0)
    model = CVAEWorldModel(2, 2, hidden=(128, 128), prior_components=4, lr=2e-3)
    # Annealing the learning rate lets the mixture weights (learned from the ~10% of transitions
    # near a goal) settle.
    samples, trained, untrained = _fit_and_measure(model, probe_sets, 5000, anneal=(3000, 3e-4))
    assert trained < 1.5 * probe_sets["floor"] and trained < 0.1 * untrained
    high, between = _report_modes("mixture prior", samples, probe_sets)
    assert 0.2 < high < 0.5 and between < 0.1


def _shifted_region_batch(n, g, region):
    """`n` transitions of the calibrated toy (N = 1, bump at (0.6, 0)) in one region: `warm`
    (random states in [-1, 1]², random actions), `wall` (pushing into x = 2: reward 0) or `bump`
    (running through the bump at full speed: reward ≈ 0.9)."""
    u = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    if region == "warm":
        state, action = u(n, 2) * 2 - 1, u(n, 2) * 2 - 1
    elif region == "wall":
        state = torch.stack([1.9 + 0.1 * u(n), u(n) * 2 - 1], -1)
        action = torch.stack([0.5 + 0.5 * u(n), 0.4 * u(n) - 0.2], -1)
    else:
        state = torch.stack([0.3 + 0.4 * u(n), 0.2 * u(n) - 0.1], -1)
        action = torch.stack([0.8 + 0.2 * u(n), 0.4 * u(n) - 0.2], -1)
    dyn = PointMassDynamics(PointMassSpec(n_locations=1, radius=0.6, width=0.25))
    next_state, reward = dyn.step(state, action, dyn.sample_noise((n,), generator=g))
    return state, action, reward, next_state


def test_cvae_prior_samples_predict_the_reward_after_the_data_moves():
    # The Dyna schedule in miniature: a fit on a random warm-up, then data mostly at a
    # zero-reward wall and some through the reward bump. Without the mean path the encoder
    # learned the new data through z and prior samples missed the bump's
    # reward by ≈ 0.6 (predicted 0.3-0.4 against 0.87, seeds 0-2); with it ≈ 0.12 (0.85-0.88).
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = CVAEWorldModel(2, 2, hidden=(64, 64))
    data = [_shifted_region_batch(500, g, "warm")]
    for steps, more in ((400, []), (600, [(800, "wall"), (150, "bump")])):
        data += [_shifted_region_batch(n, g, region) for n, region in more]
        state, action, reward, next_state = (torch.cat(x) for x in zip(*data))
        for _ in range(steps):
            i = torch.randint(reward.shape[0], (256,), generator=g)
            model.fit(state[i], action[i], reward[i], next_state[i])
    g_eval = torch.Generator().manual_seed(1)
    for region in ("wall", "bump"):
        state, action, reward, _ = _shifted_region_batch(64, g_eval, region)
        expand = lambda x: x.expand(64, -1, -1)  # noqa: E731
        with torch.no_grad():
            _, predicted, _ = model.sample(expand(state), expand(action),
                                           model.sample_noise((64, 64), generator=g_eval))
        error = (predicted - reward).abs().mean()
        print(f"{region}: prior-sample |reward error| {error:.3f}, predicted mean "
              f"{predicted.mean():.3f}, true {reward.mean():.3f}")
        assert error < 0.25 and (predicted.mean() - reward.mean()).abs() < 0.1, region


def test_gaussian_ensemble_fit_matches_the_toy_law_but_not_the_reward_modes(probe_sets):
    # Measured: trained ≈ 0.042, untrained ≈ 0.43 (floor ≈ 0.018, mean model ≈ 0.40). A Gaussian
    # per member smears the bimodal reward: few samples land on the high mode (≈ 0.03 vs 0.31).
    torch.manual_seed(0)
    model = GaussianEnsembleWorldModel(2, 2, n_members=3, hidden=(128, 128))
    samples, trained, untrained = _fit_and_measure(model, probe_sets, steps=1500)
    assert trained < 4 * probe_sets["floor"]
    assert trained < 0.15 * untrained and trained < 0.15 * probe_sets["mean_model"]
    _report_modes("ensemble", samples, probe_sets)  # reported, not asserted: a known limitation


def test_flow_short_fit_beats_the_untrained_model(probe_sets):
    # Measured: 300 steps of a 64×64 flow take MMD² from ≈ 0.45 to ≈ 0.045 (floor ≈ 0.018),
    # about 8 s on one thread of a loaded 2-core machine.
    torch.manual_seed(0)
    model = FlowWorldModel(2, 2, hidden=(64, 64))
    _, trained, untrained = _fit_and_measure(model, probe_sets, steps=300)
    assert trained < 0.5 * untrained


@pytest.mark.slow
def test_flow_fit_reproduces_the_toy_transition_law(probe_sets):
    # Measured: trained ≈ 0.030, untrained ≈ 0.44 (floor ≈ 0.018, mean model ≈ 0.40), the cVAE's
    # level at the same budget (≈ 0.028), in ~1.8× its wall time. A continuous bijection of a
    # Gaussian keeps a connected support, so the gap between the two reward modes only empties as
    # the splines steepen: high mode ≈ 0.10 (sim 0.34), between modes ≈ 0.31 (sim 0.001); more
    # bins, a wider spline domain or a 4th layer did not change that at 2000 steps. Reported, not
    # asserted, like the ensemble's.
    torch.manual_seed(0)
    model = FlowWorldModel(2, 2, hidden=(128, 128))
    samples, trained, untrained = _fit_and_measure(model, probe_sets, steps=3000)
    _report_modes("flow", samples, probe_sets)
    assert trained < 2 * probe_sets["floor"]
    assert trained < 0.1 * untrained and trained < 0.1 * probe_sets["mean_model"]
