"""workbench.config.experiment_config: validation by field, unknown keys named (the JSON round trip
and run ids: test_run_ids.py; overrides and presets: test_overrides_and_presets.py)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from dvg_core.agents import FLAT_KEYS, AlgorithmConfig, SlicingConfig
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import PointMassSpec
from workbench.config.experiment_config import SECTIONS, ExperimentConfig
from workbench.config.overrides import apply_overrides
from workbench.config.presets import preset


def base() -> ExperimentConfig:
    return preset("toy-quick")


def _toy(**kwargs) -> EnvConfig:
    return EnvConfig(kwargs=kwargs)


def _top(**values) -> ExperimentConfig:
    return dataclasses.replace(base(), **values)


# (field named in the error, overrides, direct construction)
INVALID = [
    # AlgorithmConfig
    ("name", ["algorithm.name=ddpg"], lambda: AlgorithmConfig(name="ddpg")),
    ("gamma", ["algorithm.gamma=1.5"], lambda: AlgorithmConfig(gamma=1.5)),
    ("lam", ["algorithm.lam=-1"], lambda: AlgorithmConfig(lam=-1.0)),
    ("lam_state", ["algorithm.lam_state=-1"], lambda: AlgorithmConfig(lam_state=-1.0)),
    ("actor_saturation_penalty", ["algorithm.actor_saturation_penalty=-1"],
     lambda: AlgorithmConfig(actor_saturation_penalty=-1.0)),
    ("n_samples", ["algorithm.n_samples=1"], lambda: AlgorithmConfig(n_samples=1)),
    ("n_target_samples", ["algorithm.n_target_samples=0"],
     lambda: AlgorithmConfig(n_target_samples=0)),
    ("truncate", ["algorithm.truncate=1.0"], lambda: AlgorithmConfig(truncate=1.0)),
    ("truncate", ["algorithm.truncate=0.99"], lambda: AlgorithmConfig(truncate=0.99)),
    ("kernel", ["algorithm.kernel=cosine"], lambda: AlgorithmConfig(kernel="cosine")),
    ("bandwidth", ["algorithm.bandwidth=0"], lambda: AlgorithmConfig(bandwidth=0.0)),
    ("slicing.steps", ["algorithm.slicing.steps=-1"], lambda: SlicingConfig(steps=-1)),
    ("slicing.step_size", ["algorithm.slicing_step_size=0"],  # the older flat name, mapped
     lambda: SlicingConfig(step_size=0.0)),
    ("slicing.restarts", ["algorithm.slicing.restarts=-1"], lambda: SlicingConfig(restarts=-1)),
    ("slicing.axes", ["algorithm.slicing.axes=maybe"], lambda: SlicingConfig(axes=1)),
    ("slicing.fresh_search", ["algorithm.slicing.fresh_search=maybe"],
     lambda: SlicingConfig(fresh_search=1)),
    ("normalize_obs", ["algorithm.normalize_obs=maybe"],
     lambda: AlgorithmConfig(normalize_obs="yes")),
    ("critic_noise", ["algorithm.critic_noise=middle"],
     lambda: AlgorithmConfig(critic_noise="middle")),
    ("xi_dim", ["algorithm.xi_dim=0"], lambda: AlgorithmConfig(xi_dim=0)),
    ("critic_activation", ["algorithm.critic_activation=sigmoid"],
     lambda: AlgorithmConfig(critic_activation="sigmoid")),
    ("unbiased", ["algorithm.unbiased=maybe"], lambda: AlgorithmConfig(unbiased=1)),
    ("shared_target_draws", ["algorithm.shared_target_draws=true"],
     lambda: AlgorithmConfig(shared_target_draws=1)),
    ("hidden", ["algorithm.hidden=64,0"], lambda: AlgorithmConfig(hidden=(64, 0))),
    ("hidden", ["algorithm.hidden=64.5"], lambda: AlgorithmConfig(hidden=())),
    ("critic_lr", ["algorithm.critic_lr=0"], lambda: AlgorithmConfig(critic_lr=0.0)),
    ("actor_lr", ["algorithm.actor_lr=-1e-3"], lambda: AlgorithmConfig(actor_lr=-1e-3)),
    ("tau", ["algorithm.tau=0"], lambda: AlgorithmConfig(tau=0.0)),
    ("policy_delay", ["algorithm.policy_delay=0"], lambda: AlgorithmConfig(policy_delay=0)),
    ("exploration_noise", ["algorithm.exploration_noise=-0.1"],
     lambda: AlgorithmConfig(exploration_noise=-0.1)),
    ("target_policy_noise", ["algorithm.target_policy_noise=-1"],
     lambda: AlgorithmConfig(target_policy_noise=-1.0)),
    ("target_noise_clip", ["algorithm.target_noise_clip=-1"],
     lambda: AlgorithmConfig(target_noise_clip=-1.0)),
    ("huber_delta", ["algorithm.huber_delta=0"], lambda: AlgorithmConfig(huber_delta=0.0)),
    # EnvConfig (and the toy's kwargs, validated by PointMassSpec)
    ("env_id", ["env.env_id=Pong-v5"], lambda: EnvConfig(env_id="Pong-v5")),
    ("noise", ["env.noise=loud"], lambda: EnvConfig(noise="loud")),
    ("noise_scale", ["env.noise=obs", "env.noise_scale=-0.1"],
     lambda: EnvConfig(noise="obs", noise_scale=-0.1)),
    ("noise_scale", ["env.noise_scale=0.1"], lambda: EnvConfig(noise_scale=0.1)),
    ("kwargs", ["env.kwargs=[1]"], lambda: EnvConfig(kwargs=[1])),
    ("n_locations", ["env.kwargs.n_locations=0"], lambda: _toy(n_locations=0)),
    ("radius", ["env.kwargs.radius=0"], lambda: _toy(radius=0.0)),
    ("width", ["env.kwargs.width=-1"], lambda: _toy(width=-1.0)),
    ("box", ["env.kwargs.box=0.5"], lambda: _toy(box=0.5)),
    ("dt", ["env.kwargs.dt=0"], lambda: _toy(dt=0.0)),
    ("dynamics_noise", ["env.kwargs.dynamics_noise=-1"], lambda: _toy(dynamics_noise=-1.0)),
    ("horizon", ["env.kwargs.horizon=0"], lambda: _toy(horizon=0)),
    ("init_range", ["env.kwargs.init_range=3"], lambda: _toy(init_range=3.0)),
    # ModelConfig
    ("kind", ["model.kind=gan"], lambda: ModelConfig(kind="gan")),
    ("hidden", ["model.hidden=,"], lambda: ModelConfig(hidden=())),
    ("latent_dim", ["model.latent_dim=0"], lambda: ModelConfig(latent_dim=0)),
    ("prior_components", ["model.prior_components=0"], lambda: ModelConfig(prior_components=0)),
    ("flow_layout", ["model.flow_layout=masked"], lambda: ModelConfig(flow_layout="masked")),
    ("beta", ["model.beta=0"], lambda: ModelConfig(beta=0.0)),
    ("n_members", ["model.n_members=0"], lambda: ModelConfig(n_members=0)),
    ("lr", ["model.lr=0"], lambda: ModelConfig(lr=0.0)),
    ("fit_every", ["model.fit_every=0"], lambda: ModelConfig(fit_every=0)),
    ("fit_steps", ["model.fit_steps=-1"], lambda: ModelConfig(fit_steps=-1)),
    ("warmup_fit_steps", ["model.warmup_fit_steps=-1"], lambda: ModelConfig(warmup_fit_steps=-1)),
    ("batch_size", ["model.batch_size=0"], lambda: ModelConfig(batch_size=0)),
    # LoopConfig
    ("total_steps", ["loop.total_steps=0"], lambda: LoopConfig(total_steps=0)),
    ("total_steps", ["loop.total_steps=3000.0"], lambda: LoopConfig(total_steps=3000.0)),
    ("warmup_steps", ["loop.warmup_steps=0"], lambda: LoopConfig(warmup_steps=0)),
    ("utd", ["loop.utd=0"], lambda: LoopConfig(utd=0)),
    ("batch_size", ["loop.batch_size=0"], lambda: LoopConfig(batch_size=0)),
    ("replay_capacity", ["loop.replay_capacity=10"], lambda: LoopConfig(replay_capacity=10)),
    ("eval_every", ["loop.eval_every=0"], lambda: LoopConfig(eval_every=0)),
    ("eval_episodes", ["loop.eval_episodes=0"], lambda: LoopConfig(eval_episodes=0)),
    ("log_every", ["loop.log_every=0"], lambda: LoopConfig(log_every=0)),
    ("checkpoint_every", ["loop.checkpoint_every=0"], lambda: LoopConfig(checkpoint_every=0)),
    ("divergence_bound", ["loop.divergence_bound=0"], lambda: LoopConfig(divergence_bound=0.0)),
    ("fidelity_probes", ["loop.fidelity_probes=-1"], lambda: LoopConfig(fidelity_probes=-1)),
    ("fidelity_truth_samples", ["loop.fidelity_truth_samples=1"],
     lambda: LoopConfig(fidelity_truth_samples=1)),
    ("compile", ["loop.compile=2"], lambda: LoopConfig(compile=2)),
    # ExperimentConfig
    ("seed", ["seed=-1"], lambda: _top(seed=-1)),
    ("seed", ["seed=1.5"], lambda: _top(seed=1.5)),
    ("device", ["device=gpu"], lambda: _top(device="gpu")),
    ("device", ["device=cuda:x"], lambda: _top(device="cuda:x")),
    ("experiment", ["experiment=a/b"], lambda: _top(experiment="a/b")),
    ("experiment", ["experiment=.."], lambda: _top(experiment="..")),
    ("run_root", ["run_root="], lambda: _top(run_root="")),
]


@pytest.mark.parametrize(("name", "overrides", "construct"), INVALID,
                         ids=[f"{c[0]}:{'|'.join(c[1])}" for c in INVALID])
def test_invalid_field_raises_value_error_naming_it(name, overrides, construct):
    pattern = rf"\b{re.escape(name)}\b"
    with pytest.raises(ValueError, match=pattern):
        apply_overrides(base(), overrides)
    with pytest.raises(ValueError, match=pattern):
        construct()


def test_invalid_cases_cover_every_validated_field():
    covered = {name for name, _, _ in INVALID}
    groups = {"slicing", "critic", "actor", "targets", "distance"}  # AlgorithmConfig's groups
    expected = {f.name for cls in SECTIONS.values() for f in dataclasses.fields(cls)} - groups
    expected |= {f"slicing.{f.name}" for f in dataclasses.fields(SlicingConfig)}
    default = AlgorithmConfig()
    grouped = {(name, f.name) for name in groups - {"slicing"}
               for f in dataclasses.fields(getattr(default, name))}
    assert grouped == set(FLAT_KEYS.values())  # every grouped field has its flat key
    expected |= set(FLAT_KEYS)  # the grouped fields, named by their flat keys
    expected |= {f.name for f in dataclasses.fields(PointMassSpec)}
    expected |= {"seed", "device", "experiment", "run_root"}
    assert expected - covered == set()


def test_unknown_key_is_named_with_the_valid_keys_of_its_section():
    with pytest.raises(ValueError, match=r"'lamda'.*'lam'.*'n_samples'"):
        apply_overrides(base(), ["algorithm.lamda=0.5"])
    with pytest.raises(ValueError, match=r"'bogus'.*'n_locations'"):
        apply_overrides(base(), ["env.kwargs.bogus=1"])
    with pytest.raises(ValueError, match=r"'optim'.*'algorithm'"):
        apply_overrides(base(), ["optim.lr=1"])
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides(base(), ["lam"])
