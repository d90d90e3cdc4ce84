"""workbench.config: validation by field, JSON round trip, run ids, typed overrides, presets."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest

from dvg_core.agents import FLAT_KEYS, AlgorithmConfig, SlicingConfig
from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
from dvg_core.envs import POINT_MASS_V1_ID, PointMassSpec
from workbench.config import _LATER_FIELDS, ALIASES, SECTIONS, ExperimentConfig, run_id
from workbench.overrides import apply_overrides
from workbench.presets import PRESETS, preset


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


def test_overrides_parse_by_field_type_and_aliases():
    config = apply_overrides(base(), [
        "algo=mage", "lam=0.5", "gamma=0.8", "samples=4", "steps=2000", "n_locations=5",
        "noise=dynamics", "noise_scale=0.02", "model=oracle", "seed=3",
        "algorithm.hidden=32, 16", "algorithm.target_policy_noise=none", "algorithm.critic_lr=1",
        "env.kwargs.width=0.5", "device=cuda:1", "algorithm.slicing_axes=true",
    ])
    assert config.algorithm == dataclasses.replace(
        base().algorithm, name="mage", lam=0.5, gamma=0.8, n_samples=4, hidden=(32, 16),
        target_policy_noise=None, critic_lr=1.0,
        slicing=dataclasses.replace(base().algorithm.slicing, axes=True))
    assert isinstance(config.algorithm.critic_lr, float)
    assert config.loop.total_steps == 2000
    assert config.env == EnvConfig(noise="dynamics", noise_scale=0.02,
                                   kwargs={"n_locations": 5, "width": 0.5})
    assert (config.model.kind, config.seed, config.device) == ("oracle", 3, "cuda:1")
    assert set(ALIASES) >= {"algo", "lam", "gamma", "samples", "steps", "n_locations", "noise",
                            "noise_scale", "model"}


def test_later_override_wins_and_input_config_is_unchanged():
    original = base()
    config = apply_overrides(original, ["lam=0.5", "algorithm.lam=0.25"])
    assert config.algorithm.lam == 0.25
    assert original == base()


def test_changing_env_id_drops_the_old_envs_kwargs():
    config = apply_overrides(base(), ["env=HalfCheetah-v5"])
    assert config.env.kwargs == {}
    kept = apply_overrides(base(), ["env=dvg/PointMass-v0"])
    assert kept.env.kwargs == base().env.kwargs  # the toy's versions share their kwargs
    assert apply_overrides(config, ["env=dvg/PointMass-v1"]).env.kwargs == {}


def _custom() -> ExperimentConfig:
    return apply_overrides(base(), [
        "algorithm.hidden=32,16", "algorithm.target_policy_noise=none", "noise=dynamics",
        "noise_scale=0.05", "env.kwargs.horizon=20", "seed=7", "experiment=exp.1",
        "run_root=/tmp/somewhere",
    ])


def test_json_round_trip_gives_an_equal_config_and_run_id():
    config = _custom()
    back = ExperimentConfig.from_json(config.to_json())
    assert back == config
    assert back.algorithm.hidden == (32, 16) and isinstance(back.algorithm.hidden, tuple)
    assert back.algorithm.target_policy_noise is None
    assert back.env.kwargs == {"n_locations": 3, "horizon": 20}
    assert run_id(back) == run_id(config)
    assert json.loads(config.to_json()) == config.to_dict()


def test_from_dict_rejects_unknown_keys_by_name():
    data = base().to_dict()
    with pytest.raises(ValueError, match="'colour'"):
        ExperimentConfig.from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="'lamda'"):
        ExperimentConfig.from_dict({**data, "algorithm": {**data["algorithm"], "lamda": 1.0}})


def test_from_dict_fills_missing_keys_with_defaults():
    config = ExperimentConfig.from_dict({"algorithm": {"name": "td3"}})
    assert config.algorithm == AlgorithmConfig(name="td3")
    assert config.loop == LoopConfig() and config.seed == 0


def test_int_in_a_float_field_does_not_change_the_run_id():
    as_int = _top(algorithm=dataclasses.replace(base().algorithm, lam=1))
    as_float = _top(algorithm=dataclasses.replace(base().algorithm, lam=1.0))
    assert run_id(as_int) == run_id(as_float)
    assert isinstance(as_int.to_dict()["algorithm"]["lam"], float)


@pytest.mark.parametrize("section, field, on", [
    ("loop", "compile", "loop.compile=true"),
    ("algorithm", "shared_target_draws", "algorithm.variant=shared-draws"),
    ("model", "prior_components", "model.prior_components=4"),
])
def test_a_later_field_at_its_default_keeps_the_run_id_of_a_record_written_before_it(
    section, field, on
):
    config = apply_overrides(base(), ["model.prior_components=1"])  # every later field neutral
    config = config if section != "algorithm" else apply_overrides(config, ["algo=mmd"])
    before = config.to_dict()
    del before[section][field]  # a params.json from before the field (and the later ones)
    for later_section, later_field in _LATER_FIELDS:
        before[later_section].pop(later_field, None)
    old_text = json.dumps({k: v for k, v in before.items()
                           if k not in ("run_root", "device", "experiment")},
                          sort_keys=True, separators=(",", ":"))
    old_digest = hashlib.sha256(old_text.encode()).hexdigest()[:12]
    assert run_id(config).endswith(old_digest)
    assert run_id(ExperimentConfig.from_dict(before)) == run_id(config)
    assert run_id(apply_overrides(config, [on])) != run_id(config)


@pytest.mark.parametrize("override", [
    "lam=0.5", "seed=1", "algo=td3", "n_locations=4", "loop.total_steps=3001", "model=ensemble",
    "algorithm.hidden=64,65", "env.kwargs.horizon=51",
])
def test_run_id_changes_with_a_training_relevant_field(override):
    assert run_id(apply_overrides(base(), [override])) != run_id(base())


@pytest.mark.parametrize("override", ["run_root=/elsewhere", "device=cpu", "experiment=other"])
def test_run_id_ignores_where_and_on_what_a_run_is_stored(override):
    assert run_id(apply_overrides(base(), [override])) == run_id(base())


def test_run_id_is_readable_and_stable():
    rid = run_id(base())
    assert re.fullmatch(r"dsdpg_msmmd-PointMass-s0-[0-9a-f]{12}", rid)
    assert run_id(preset("toy-quick")) == rid


def test_toy_quick_is_the_small_preset():
    quick, paper = preset("toy-quick"), preset("toy-paper")
    assert quick.env.env_id == paper.env.env_id == POINT_MASS_V1_ID
    assert quick.model.kind == paper.model.kind == "cvae"  # a learned model, the paper's setting
    assert quick.loop.total_steps < paper.loop.total_steps
    assert quick.algorithm.hidden == (64, 64) and paper.algorithm.hidden == (256, 256)
    assert (paper.loop.utd, paper.algorithm.n_samples, paper.algorithm.gamma) == (10, 10, 0.95)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips(name):
    config = preset(name)
    assert ExperimentConfig.from_json(config.to_json()) == config


def test_preset_applies_overrides_and_rejects_unknown_names():
    assert preset("toy-paper", ["seed=4"]).seed == 4
    with pytest.raises(ValueError, match="toy-quick"):
        preset("toy-slow")


def test_variant_override_sets_the_papers_critic_fields_and_later_overrides_win():
    paper = preset("toy-quick", ["variant=paper"]).algorithm
    assert (paper.truncate, paper.unbiased, paper.critic_noise, paper.bandwidth) == (
        0.1, False, "input", 100.0)
    later = preset("toy-quick", ["algorithm.variant=paper", "algorithm.truncate=0.2"]).algorithm
    assert later.truncate == 0.2 and later.unbiased is False
    default = preset("toy-quick").algorithm
    assert (default.truncate, default.unbiased, default.critic_noise) == (0.0, True, "quantile")
    with pytest.raises(ValueError, match="algorithm.variant must be one of"):
        preset("toy-quick", ["variant=papr"])


def test_max_slicing_options_nest_and_the_older_flat_names_still_work():
    nested = apply_overrides(base(), ["algorithm.slicing.steps=7", "algorithm.slicing.axes=true"])
    flat = apply_overrides(base(), ["algorithm.slicing_steps=7", "algorithm.slicing_axes=true"])
    assert nested == flat
    assert nested.algorithm.slicing == SlicingConfig(steps=7, step_size=0.5, restarts=0, axes=True)
    assert ExperimentConfig.from_dict(nested.to_dict()) == nested  # JSON round trip, nested
    old = nested.to_dict()  # a record written before the nesting: flat keys in params.json
    slicing = old["algorithm"].pop("slicing")
    old["algorithm"] |= {f"slicing_{k}": v for k, v in slicing.items()
                         if k != "fresh_search"}  # added after the nesting: never flat
    assert ExperimentConfig.from_dict(old) == nested
    with pytest.raises(ValueError, match="algorithm.slicing.*'stepz'"):
        apply_overrides(base(), ["algorithm.slicing.stepz=1"])
