"""`AlgorithmConfig`'s groups (dvg_core.agents.config_groups): the flat names map onto them one
to one, construct and read a config, and convert to and from the flat dict that run ids and
fingerprints hash; errors name the key the caller used."""

from __future__ import annotations

import dataclasses

import pytest

from dvg_core.agents import FLAT_KEYS, AlgorithmConfig, CriticConfig, TargetConfig
from dvg_core.agents.config import flat_dict, nest_flat_keys

GROUPS = ("critic", "actor", "targets", "distance")


def test_every_grouped_field_has_one_flat_name():
    config = AlgorithmConfig()
    nested = {(g, f.name) for g in GROUPS for f in dataclasses.fields(getattr(config, g))}
    assert sorted(FLAT_KEYS.values()) == sorted(nested)
    assert len(set(FLAT_KEYS.values())) == len(FLAT_KEYS)


def test_flat_names_construct_replace_and_read_the_groups():
    config = AlgorithmConfig(name="mmd", critic_lr=1e-3, truncate=0.1, lam=0.5, tau=0.01)
    assert config.critic.lr == config.critic_lr == 1e-3
    assert config.targets.truncate == 0.1 and config.distance.lam == 0.5
    assert config == AlgorithmConfig(name="mmd", critic=CriticConfig(lr=1e-3), lam=0.5,
                                     targets=TargetConfig(truncate=0.1, tau=0.01))
    moved = dataclasses.replace(config, gamma=0.5, n_target_samples=4)
    assert (moved.gamma, moved.targets.n_samples, moved.targets.truncate) == (0.5, 4, 0.1)
    for key, (group, name) in FLAT_KEYS.items():
        assert getattr(config, key) == getattr(getattr(config, group), name), key
    assert AlgorithmConfig.critic_noise == "quantile" and AlgorithmConfig.tau == 0.005


def test_the_flat_dict_is_the_ungrouped_config_and_nests_back():
    config = AlgorithmConfig(name="iqn", critic_noise="input", huber_delta=2.0)
    nested = dataclasses.asdict(config)
    flat = flat_dict(nested)
    assert set(flat) == {"name", "gamma", "hidden", "normalize_obs", "slicing", *FLAT_KEYS}
    assert flat["critic_noise"] == "input" and flat["huber_delta"] == 2.0
    assert flat["slicing"] == nested["slicing"]
    assert nest_flat_keys(flat) == nested


def test_errors_name_the_flat_and_the_nested_key_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match=r"^critic_lr must be > 0, got 0.0 \(critic_lr: critic\.lr\)"):
        AlgorithmConfig(critic_lr=0.0)
    with pytest.raises(ValueError, match=r"^critic\.lr must be > 0"):
        AlgorithmConfig(critic=CriticConfig(lr=0.0))
    with pytest.raises(ValueError, match="targets must be a TargetConfig"):
        AlgorithmConfig(targets={"tau": 0.1})
    with pytest.raises(TypeError, match="'critic_rate'"):
        AlgorithmConfig(critic_rate=1e-3)
    with pytest.raises(ValueError, match="shared_target_draws"):
        AlgorithmConfig(name="dsdpg_mmd", shared_target_draws=True)
