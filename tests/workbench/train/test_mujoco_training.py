"""MuJoCo end to end: the `mujoco-smoke` preset trains `dsdpg_msmmd` and writes a complete record."""

from __future__ import annotations

import pytest
import torch

from workbench.config.presets import preset
from workbench.records.run_record import read_metrics
from workbench.train.training_run import train


@pytest.mark.slow
def test_mujoco_smoke_trains_dsdpg_msmmd_into_a_complete_record(tmp_path):
    config = preset("mujoco-smoke", ["algo=dsdpg_msmmd", f"run_root={tmp_path}", "device=cpu",
                                     "noise=obs"])
    record = train(config, progress=False)
    state = record.read_status()
    assert (state["status"], state["step"]) == ("done", config.loop.total_steps)
    metrics = read_metrics(record.metrics_path)
    evals = metrics.query("kind == 'eval'")
    assert list(evals["step"]) == [1000, 2000]
    assert evals["eval_return_mean"].notna().all()
    train_rows = metrics.query("kind == 'train'").dropna(subset=["critic_loss"])
    assert len(train_rows) >= 2
    for column in ("critic_loss", "critic_value", "critic_grad_scale", "actor_loss", "model_loss",
                   "updates_per_s", "env_steps_per_s"):
        assert train_rows[column].notna().all(), column
    saved = torch.load(record.checkpoint_path, weights_only=True)
    networks = saved["agent"]["networks"]
    assert int(networks["obs_normalizer.count"]) >= config.loop.total_steps
    assert record.config() == config


@pytest.mark.slow
def test_a_learned_model_on_a_terminating_task_uses_its_termination_function(tmp_path):
    config = preset("mujoco-smoke", ["algo=mage", "env=Hopper-v5", f"run_root={tmp_path}",
                                     "device=cpu", "steps=1200"])
    record = train(config, progress=False)
    assert record.status == "done"
    from workbench.train.trained_agent import load_agent

    agent = load_agent(record)
    fallen = torch.zeros(4, 11)  # torso height 0: unhealthy
    upright = torch.zeros(4, 11)
    upright[:, 0] = 1.25
    assert agent.world_model.terminated_fn(fallen).all()
    assert not agent.world_model.terminated_fn(upright).any()


@pytest.mark.slow
def test_the_mujoco_grid_runs_through_papermill_into_a_report(tmp_path):
    import contextlib
    import io

    from workbench.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["reproduce", "mujoco", "--tasks", "Hopper-v5", "--noise", "none,obs",
                     "--algos", "td3", "--seeds", "1", "--preset", "mujoco-smoke",
                     "--set", "steps=1100", "--workers", "2", "--run-root", str(tmp_path),
                     "--no-progress"])
    assert code == 0, out.getvalue()
    report = tmp_path / "mujoco" / "report.html"
    assert out.getvalue().strip().splitlines()[-1] == str(report.resolve())
    html = report.read_text()
    assert "Hopper-v5/none" in html and "Hopper-v5/obs" in html
