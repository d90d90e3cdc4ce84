"""workbench.records.tensorboard_events: every record gets TensorBoard event files with CleanRL-style tags, read
back here through TensorBoard's own event reader."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from workbench.config.presets import preset
from workbench.records.run_record import read_metrics
from workbench.records.tensorboard_events import (
    EVENT_GLOB, RecordSinks, TensorBoardWriter, scalar_tag, write_fidelity_events,
)
from workbench.train.training_run import train

TINY = [
    "loop.total_steps=150", "loop.warmup_steps=50", "loop.utd=1", "loop.batch_size=16",
    "loop.eval_every=50", "loop.eval_episodes=1", "loop.log_every=50",
    "loop.checkpoint_every=50", "algorithm.hidden=8,8", "algorithm.n_samples=2",
    "algorithm.n_target_samples=2", "model.hidden=8,8", "model.fit_every=50",
    "model.fit_steps=2", "model.warmup_fit_steps=2", "model.batch_size=16",
    "env.kwargs.horizon=10", "device=cpu",
]


def _read(log_dir) -> EventAccumulator:
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return events


@pytest.mark.parametrize(("key", "tag"), [
    ("episode_return", "charts/episodic_return"), ("eval_return_mean", "charts/eval_return"),
    ("critic_loss", "losses/critic_loss"), ("model_loss", "losses/model_loss"),
    ("updates_per_s", "charts/updates_per_s"), ("fidelity_mmd2", "fidelity/mmd2"),
    ("slicing_gain", "charts/slicing_gain"),
])
def test_metric_keys_get_cleanrl_style_namespaced_tags(key, tag):
    assert scalar_tag(key) == tag


def test_rows_read_back_as_scalars_at_their_steps_and_the_config_as_text(tmp_path):
    writer = TensorBoardWriter(tmp_path, config_text='{\n  "seed": 3\n}')
    writer.write({"step": 10, "kind": "episode", "episode_return": 1.5, "episode_length": 10})
    writer.write({"step": 20, "kind": "train", "critic_loss": 0.25, "actor_loss": None,
                  "updates_per_s": float("nan")})
    writer.write({"step": 30, "kind": "episode", "episode_return": 2.5, "episode_length": 10})
    writer.close()
    events = _read(tmp_path)
    scalars = events.Tags()["scalars"]
    assert sorted(scalars) == ["charts/episodic_length", "charts/episodic_return",
                               "losses/critic_loss"]  # None and NaN are not plotted
    assert [(e.step, e.value) for e in events.Scalars("charts/episodic_return")] == [
        (10, 1.5), (30, 2.5)]
    assert events.Tags()["tensors"] == ["config/text_summary"]
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"seed": 3' in text


def test_a_short_run_writes_event_files_beside_its_csv_with_the_tags(tmp_path):
    config = preset("toy-quick", [*TINY, "algo=td3", f"run_root={tmp_path}"])
    record = train(config, progress=False)
    assert list(record.path.glob(EVENT_GLOB))
    events = _read(record.path)
    tags = set(events.Tags()["scalars"])
    assert {"charts/episodic_return", "charts/eval_return", "losses/critic_loss",
            "losses/actor_loss", "charts/updates_per_s"} <= tags
    csv = read_metrics(record.metrics_path)
    evals = csv[csv["kind"] == "eval"]
    assert [e.step for e in events.Scalars("charts/eval_return")] == list(evals["step"])
    assert [e.value for e in events.Scalars("charts/eval_return")] == pytest.approx(
        list(evals["eval_return_mean"]), rel=1e-6)  # float32 in the event file
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"name": "td3"' in text


def test_a_fresh_start_deletes_the_old_event_files_and_a_resume_purges_later_steps(tmp_path):
    sinks = RecordSinks(tmp_path / "metrics.csv")
    for step in (10, 20, 30):
        sinks.write({"step": step, "kind": "eval", "eval_return_mean": float(step)})
    sinks.truncate_after(20)  # resumed from a checkpoint at step 20: step 30 is redone
    sinks.write({"step": 30, "kind": "eval", "eval_return_mean": -30.0})
    sinks.close()
    values = [(e.step, e.value) for e in _read(tmp_path).Scalars("charts/eval_return")]
    assert values == [(10, 10.0), (20, 20.0), (30, -30.0)]
    sinks.clear()
    assert not list(tmp_path.glob(EVENT_GLOB)) and not (tmp_path / "metrics.csv").exists()


def test_fidelity_rows_become_one_run_per_critic_with_fidelity_tags(tmp_path):
    base = {"kind": "critic", "variant": "default", "seed": 0, "config": "x", "n_locations": 3,
            "gamma": 0.9, "noise": 0.0, "seconds": 1.0, "mean_bias": 0.1, "mean_error": 0.2,
            "gradient_error": 0.3, "spread_ratio": float("nan"), "energy": 0.4, "mmd2": 0.5}
    rows = [{**base, "algorithm": a, "updates": u} for a in ("td3", "iqn") for u in (100, 200)]
    rows.append({**base, "algorithm": "dsdpg_msmmd", "kind": "exact_targets", "updates": 100})
    out = write_fidelity_events(json.loads(json.dumps(rows)), tmp_path / "tb")
    runs = sorted(p.parent.name for p in out.rglob(EVENT_GLOB))
    assert runs == ["dsdpg_msmmd-default-exact_targets-s0", "iqn-default-s0", "td3-default-s0"]
    events = _read(out / "N3-g0.9-noise0" / "td3-default-s0")
    assert [e.step for e in events.Scalars("fidelity/mmd2")] == [100, 200]
    assert "fidelity/spread_ratio" not in events.Tags()["scalars"]  # NaN: not plotted
