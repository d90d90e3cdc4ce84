"""`build_world_model`: every `model.kind` builds its model; an unknown kind is refused."""

from __future__ import annotations

import pytest

from dvg_core.configs import MODEL_KINDS, EnvConfig, ModelConfig
from dvg_core.models.world_models import (
    CVAEWorldModel, FlowWorldModel, GaussianEnsembleWorldModel, OracleWorldModel,
)
from dvg_core.training.build import build_envs, build_world_model

CLASSES = {"cvae": CVAEWorldModel, "ensemble": GaussianEnsembleWorldModel,
           "flow": FlowWorldModel, "oracle": OracleWorldModel}


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_each_model_kind_builds_its_world_model_for_the_toy(kind):
    env_config = EnvConfig()
    env, _ = build_envs(env_config, seed=0)
    model = build_world_model(ModelConfig(kind=kind, hidden=(8,)), env_config, env)
    assert type(model) is CLASSES[kind]
    assert (model.state_dim, model.action_dim) == (2, 2)


def test_an_unknown_kind_is_refused_by_the_config_and_by_the_builder():
    with pytest.raises(ValueError, match="kind"):
        ModelConfig(kind="gan")
    bad = ModelConfig()
    object.__setattr__(bad, "kind", "gan")  # past the config's own check
    env_config = EnvConfig()
    env, _ = build_envs(env_config, seed=0)
    with pytest.raises(ValueError, match="model kind must be one of"):
        build_world_model(bad, env_config, env)
