"""workbench.config.overrides and presets: typed `key=value` overrides, later ones winning, the
presets, the algorithm variants and the nested max-slicing keys (with their older flat names)."""

from __future__ import annotations

import dataclasses

import pytest

from dvg_core.agents import SlicingConfig
from dvg_core.configs import EnvConfig
from dvg_core.envs import POINT_MASS_V1_ID
from workbench.config.experiment_config import ALIASES, ExperimentConfig
from workbench.config.overrides import apply_overrides
from workbench.config.presets import PRESETS, preset
from tests.workbench.config.test_config import base


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
