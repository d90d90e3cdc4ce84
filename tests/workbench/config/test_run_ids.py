"""workbench.config.experiment_config: the JSON round trip and the run ids (what changes one, what
leaves it, and the records written before a field was added)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest

from dvg_core.agents import AlgorithmConfig
from dvg_core.configs import LoopConfig
from workbench.config.experiment_config import _LATER_FIELDS, ExperimentConfig, run_id
from workbench.config.overrides import apply_overrides
from workbench.config.presets import preset
from tests.workbench.config.test_config import _top, base


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
    ("model", "flow_layout", "model.flow_layout=coupling"),
])
def test_a_later_field_at_its_default_keeps_the_run_id_of_a_record_written_before_it(
    section, field, on
):
    config = apply_overrides(base(), ["model.prior_components=1", "model.flow_layout=two_pass"])
    # every later field neutral
    config = config if section != "algorithm" else apply_overrides(config, ["algo=mmd"])
    config = config if field != "flow_layout" else apply_overrides(config, ["model=flow"])
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


def test_the_flow_layout_is_part_of_the_id_of_a_flow_run_only():
    flow = apply_overrides(base(), ["model=flow"])
    assert run_id(apply_overrides(flow, ["model.flow_layout=two_pass"])) \
        != run_id(apply_overrides(flow, ["model.flow_layout=coupling"]))
    cvae = apply_overrides(base(), ["model=cvae"])
    assert run_id(apply_overrides(cvae, ["model.flow_layout=two_pass"])) \
        == run_id(apply_overrides(cvae, ["model.flow_layout=coupling"]))


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
