"""World models: oracle = simulator, reparameterised gradients, batching, checkpoints,
termination and input validation; the cVAE, the Gaussian ensemble and the flow through the same
tests (how well each fits the toy's law: test_world_model_fits.py)."""

from __future__ import annotations

import io

import pytest
import torch

from dvg_core.models.world_models.learned import transition_targets
from dvg_core.models.world_models import (
    CVAEWorldModel,
    EnsembleNoise,
    FlowWorldModel,
    GaussianEnsembleWorldModel,
    OracleWorldModel,
    diag_gaussian_kl,
)
from world_model_data import LEARNED, SPEC, DYN, fitted_model, learned_model, toy_batch


# ---------------------------------------------------------------- oracle


def test_oracle_sample_equals_simulator_step_and_passes_action_gradients():
    model = OracleWorldModel(DYN).double()
    g = torch.Generator().manual_seed(0)
    state = torch.rand(5, 3, 2, generator=g, dtype=torch.float64) - 0.5
    action = (torch.rand(5, 3, 2, generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    noise = model.sample_noise((5, 3), generator=g)
    assert noise.gaussian.dtype == torch.float64 and noise.location.shape == (5, 3)
    next_state, reward, done = model.sample(state, action, noise)
    want_state, want_reward = DYN.step(state, action, noise)
    torch.testing.assert_close(next_state, want_state, rtol=0, atol=0)
    torch.testing.assert_close(reward, want_reward, rtol=0, atol=0)
    assert done.dtype == torch.float64 and not done.any()
    # Inside the box s' = s + dt·a + σε, so ∂s'_0/∂a = (dt, 0) exactly.
    (grad,) = torch.autograd.grad(next_state[..., 0].sum(), action, retain_graph=True)
    torch.testing.assert_close(grad, torch.tensor([SPEC.dt, 0.0]).double().expand(5, 3, 2))
    (grad_r,) = torch.autograd.grad(reward.sum(), action)
    assert grad_r.abs().min() > 0


def test_oracle_has_no_state_and_fit_is_a_validated_no_op():
    model = OracleWorldModel(DYN)
    assert model.optimizer is None and list(model.parameters()) == []
    assert model.state_dict() == {}
    assert model.fit(*toy_batch(8, torch.Generator().manual_seed(0))) == {}
    with pytest.raises(ValueError, match="reward"):
        s, a, r, s2 = toy_batch(8, torch.Generator().manual_seed(0))
        model.fit(s, a, r[:, None], s2)


# ---------------------------------------------------------------- reparameterisation, batching


def _stack_outputs(model, state, action, noise):
    next_state, reward, _ = model.sample(state, action, noise)
    return torch.cat([next_state, reward.unsqueeze(-1)], -1)  # [B, d_s+1]


@pytest.mark.parametrize("kind", LEARNED)
@pytest.mark.parametrize("wrt", ["action", "state"])
def test_sample_jacobian_matches_central_finite_differences(kind, wrt):
    model = fitted_model(kind, dtype=torch.float64)  # fitted: non-trivial normaliser and weights
    g = torch.Generator().manual_seed(1)
    state, action, _, _ = toy_batch(6, g, torch.float64)
    noise = model.sample_noise((6,), generator=g)
    inputs = {"state": state, "action": action}
    x = inputs[wrt].clone().requires_grad_()

    def f(v):
        return _stack_outputs(model, **{**inputs, wrt: v}, noise=noise)

    out = f(x)
    # Rows are independent, so the gradient of a column sum is that column's per-row Jacobian.
    autograd_jac = torch.stack(
        [torch.autograd.grad(out[:, j].sum(), x, retain_graph=True)[0] for j in range(3)], 1
    )  # [B, d_s+1, d]
    eps = 1e-6
    fd_jac = torch.stack(
        [(f(x.detach() + eps * e) - f(x.detach() - eps * e)) / (2 * eps) for e in torch.eye(2)],
        -1,
    ).double()  # [B, d_s+1, d]
    torch.testing.assert_close(autograd_jac, fd_jac, rtol=1e-6, atol=1e-7)
    assert autograd_jac.abs().max() > 1e-3


@pytest.mark.parametrize("kind", ["flow", "flow_coupling"])
@pytest.mark.parametrize("wrt", ["action", "state"])
def test_flow_samples_pass_gradcheck_in_the_conditioning(wrt, kind):
    # A tiny fitted flow in float64; samples [B, M, d_s+1] = [2, 3, 3] at fixed base noise.
    model = fitted_model(kind, dtype=torch.float64, hidden=(8,), transforms=2, bins=4)
    g = torch.Generator().manual_seed(3)
    state, action, _, _ = toy_batch(6, g, torch.float64)
    inputs = {"state": state.reshape(2, 3, 2), "action": action.reshape(2, 3, 2)}
    noise = model.sample_noise((2, 3), generator=g)  # [B, M, d_s+1]

    def samples(v):
        return _stack_outputs(model, **{**inputs, wrt: v}, noise=noise)  # [B, M, d_s+1]

    assert samples(inputs[wrt]).shape == (2, 3, 3)
    assert torch.autograd.gradcheck(samples, (inputs[wrt].clone().requires_grad_(),))


@pytest.mark.parametrize("kind", ["flow", "flow_coupling"])
def test_flow_sample_inverts_the_density_transform(kind):
    # Two formulations agree: the forward transform that `log_prob` uses maps a sample back to
    # its base noise, and zuko's log-density of the sample is the change of variables.
    model = fitted_model(kind, dtype=torch.float64)
    g = torch.Generator().manual_seed(4)
    state, action, _, _ = toy_batch(16, g, torch.float64)
    noise = model.sample_noise((16,), generator=g)
    next_state, reward, _ = model.sample(state, action, noise)
    y = model.target_norm.normalize(transition_targets(state, reward, next_state))  # [B, d_s+1]
    flow = model.flow(model.input_norm.normalize(torch.cat([state, action], -1)))
    torch.testing.assert_close(flow.transform(y), noise)
    ladj = flow.transform.log_abs_det_jacobian(y, noise)  # [B]
    base = torch.distributions.Normal(0.0, 1.0).log_prob(noise).sum(-1)
    torch.testing.assert_close(flow.log_prob(y), base + ladj)


@pytest.mark.parametrize("kind", ["oracle", *LEARNED])
def test_sample_on_batch_of_sample_sets_equals_flattened_batch(kind):
    model = OracleWorldModel(DYN) if kind == "oracle" else fitted_model(kind)
    g = torch.Generator().manual_seed(2)
    state, action, _, _ = toy_batch(4 * 7, g)
    noise = model.sample_noise((4, 7), generator=g)
    nested = model.sample(state.reshape(4, 7, 2), action.reshape(4, 7, 2), noise)
    flat_noise = type(noise)(*(n.reshape(28, *n.shape[2:]) for n in noise)) \
        if isinstance(noise, tuple) else noise.reshape(28, -1)
    flat = model.sample(state, action, flat_noise)
    for a, b in zip(nested, flat):
        assert a.shape[:2] == (4, 7)
        torch.testing.assert_close(a.reshape(b.shape), b)


@pytest.mark.parametrize("kind", LEARNED)
def test_noise_is_reproducible_from_a_generator(kind):
    model = learned_model(kind).double()
    a = model.sample_noise((3, 2), generator=torch.Generator().manual_seed(5))
    b = model.sample_noise((3, 2), generator=torch.Generator().manual_seed(5))
    for x, y in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b]):
        assert torch.equal(x, y) and x.shape[:2] == (3, 2)
    expected = {"cvae": (3, 2, 8), "cvae_mix": (3, 2, 9), "ensemble": (3, 2, 3),
                "flow": (3, 2, 3), "flow_coupling": (3, 2, 3)}[kind]
    noise = a.normal if kind == "ensemble" else a
    assert noise.shape == expected and noise.dtype == torch.float64


# ---------------------------------------------------------------- checkpoints, fit, normaliser


@pytest.mark.parametrize("kind", LEARNED)
def test_state_dict_round_trip_restores_samples_normaliser_and_optimiser(kind):
    model = fitted_model(kind, steps=10, seed=0)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optim": model.optimizer.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)
    assert {"input_norm.mean", "input_norm.var", "input_norm.count",
            "target_norm.mean", "target_norm.var"} <= set(checkpoint["model"])
    restored = fitted_model(kind, steps=0, seed=99)
    restored.load_state_dict(checkpoint["model"])
    restored.optimizer.load_state_dict(checkpoint["optim"])
    assert int(restored.input_norm.count) == 10 * 64
    torch.testing.assert_close(restored.target_norm.var, model.target_norm.var, rtol=0, atol=0)
    g = torch.Generator().manual_seed(3)
    state, action, _, _ = toy_batch(16, g)
    noise = model.sample_noise((16,), generator=g)
    for a, b in zip(model.sample(state, action, noise), restored.sample(state, action, noise)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    batch = toy_batch(64, g)
    for m in (model, restored):  # one more identical step: Adam's moments were restored too
        torch.manual_seed(4)
        m.fit(*batch)
    for p, q in zip(model.parameters(), restored.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("kind", LEARNED)
def test_fit_takes_one_step_and_returns_detached_scalars(kind):
    model = learned_model(kind)
    for p in model.parameters():
        p.grad = torch.full_like(p, 1e6)  # stale gradients from a caller must not leak in
    before = [p.detach().clone() for p in model.parameters()]
    metrics = model.fit(*toy_batch(32, torch.Generator().manual_seed(0)))
    assert "loss" in metrics and {"cvae": {"recon", "kl", "mean_fit"},
                                 "cvae_mix": {"recon", "kl", "mean_fit"},
                                 "ensemble": {"nll", "mse"}, "flow": {"nll"},
                                 "flow_coupling": {"nll"}}[kind] \
        <= set(metrics)
    for value in metrics.values():
        assert value.shape == () and not value.requires_grad and torch.isfinite(value)
    steps = [(p - b).abs().max() for p, b in zip(model.parameters(), before)]
    assert max(steps) > 0 and max(steps) < 2e-3  # Adam's first step moves each weight <= lr


def test_diag_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, ls_q, mu_p, ls_p = torch.randn(4, 5, 3, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu_q, ls_q.exp())
    p = torch.distributions.Normal(mu_p, ls_p.exp())
    want = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(diag_gaussian_kl(mu_q, ls_q, mu_p, ls_p), want)


# ---------------------------------------------------------------- termination


@pytest.mark.parametrize("kind", LEARNED)
def test_done_is_the_termination_function_of_the_next_state_as_float(kind):
    def right_half(next_state):
        return next_state[..., 0] > 0

    model = fitted_model(kind, terminated_fn=right_half)
    g = torch.Generator().manual_seed(0)
    state, action, _, _ = toy_batch(200, g)
    next_state, _, done = model.sample(state, action, model.sample_noise((200,), generator=g))
    assert done.dtype == next_state.dtype and done.shape == (200,)
    torch.testing.assert_close(done, right_half(next_state).float())
    assert 0 < done.sum() < 200
    default = learned_model(kind)
    assert not default.sample(state, action, default.sample_noise((200,)))[2].any()


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("kind", "kwargs", "name"), [
    ("cvae", dict(latent_dim=0), "latent_dim"),
    ("cvae", dict(beta=0.0), "beta"),
    ("cvae", dict(decoder_std=-1.0), "decoder_std"),
    ("cvae", dict(lr=0.0), "lr"),
    ("cvae", dict(hidden=(64, 0)), "hidden"),
    ("cvae", dict(hidden="wide"), "hidden"),
    ("cvae", dict(min_log_std=2.0, max_log_std=1.0), "min_log_std"),
    ("cvae", dict(activation="sigmoid"), "activation"),
    ("cvae", dict(terminated_fn=3), "terminated_fn"),
    ("ensemble", dict(n_members=0), "n_members"),
    ("ensemble", dict(min_logvar=1.0, max_logvar=0.5), "min_logvar"),
    ("ensemble", dict(logvar_bound_weight=-0.1), "logvar_bound_weight"),
    ("flow", dict(transforms=0), "transforms"),
    ("flow", dict(bins=1), "bins"),
    ("flow", dict(target_noise=-0.1), "target_noise"),
    ("flow", dict(hidden=(0,)), "hidden"),
    ("flow", dict(activation="sigmoid"), "activation"),
    ("flow", dict(lr=0.0), "lr"),
    ("flow", dict(layout="masked"), "layout"),
])
def test_bad_hyper_parameters_raise(kind, kwargs, name):
    with pytest.raises(ValueError, match=name):
        learned_model(kind, **kwargs)


@pytest.mark.parametrize("cls", [CVAEWorldModel, GaussianEnsembleWorldModel, FlowWorldModel])
@pytest.mark.parametrize(("dims", "name"), [((0, 2), "state_dim"), ((2, 0), "action_dim"),
                                            ((2.0, 2), "state_dim")])
def test_bad_dims_raise(cls, dims, name):
    with pytest.raises(ValueError, match=name):
        cls(*dims)


def test_bad_shapes_raise_naming_the_argument():
    cvae, ens, flow = learned_model("cvae"), learned_model("ensemble"), learned_model("flow")
    s, a, r, s2 = toy_batch(4, torch.Generator().manual_seed(0))
    for model in (cvae, ens, flow, OracleWorldModel(DYN)):
        noise = model.sample_noise((4,))
        with pytest.raises(ValueError, match="state"):
            model.sample(s[:, :1], a, noise)
        with pytest.raises(ValueError, match="action"):
            model.sample(s, a[:3], noise)
    with pytest.raises(ValueError, match="noise"):
        cvae.sample(s, a, cvae.sample_noise((3,)))
    with pytest.raises(ValueError, match="noise"):
        flow.sample(s, a, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="noise.member"):
        ens.sample(s, a, EnsembleNoise(torch.zeros(4), ens.sample_noise((4,)).normal))
    with pytest.raises(ValueError, match="EnsembleNoise"):
        ens.sample(s, a, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="noise.normal"):
        ens.sample(s, a, EnsembleNoise(torch.zeros(4, dtype=torch.long), torch.zeros(4, 2)))
    with pytest.raises(ValueError, match="next_state"):
        cvae.fit(s, a, r, s2[:, :1])
    with pytest.raises(ValueError, match="reward"):
        ens.fit(s, a, r[:2], s2)
    with pytest.raises(ValueError, match="state"):
        cvae.fit(s[None], a[None], r[None], s2[None])


def test_frozen_normalizer_is_only_moved_by_update_normalizer():
    model = learned_model("cvae", update_normalizer_in_fit=False)
    batch = toy_batch(32, torch.Generator().manual_seed(0))
    model.fit(*batch)
    assert int(model.input_norm.count) == 0
    model.update_normalizer(*batch)
    torch.testing.assert_close(model.input_norm.mean, torch.cat(batch[:2], -1).mean(0))
