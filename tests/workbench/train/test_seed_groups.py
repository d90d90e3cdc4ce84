"""Seed groups as records (workbench.training.train_seeds, the trainer's S > 1 path): a killed
group resumes to what an uninterrupted group logs, a group record resumes alone, a diverging
group ends with finite checkpoints, mixed groups are refused and a done group is not retrained."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dvg_core.training.build import build_trainer
from dvg_core.training.trainer import TIMING_METRICS
from workbench.records.run_record import MetricsWriter, RunRecord, read_metrics, record_path
from workbench.train.training_run import train_seeds
from tests.workbench.train.test_training_run import SimulatedKill, kill_metric_writes_after, tiny


def _group(root, *overrides, seeds=(0, 1)):
    return [tiny(root, *overrides, f"seed={s}") for s in seeds]


def test_a_killed_seed_group_resumes_to_what_an_uninterrupted_group_logs(tmp_path, monkeypatch):
    overrides = ["algo=dsdpg_mmd", "loop.log_every=30", "loop.eval_every=70",
                 "algorithm.normalize_obs=true"]
    whole = train_seeds(_group(tmp_path / "a", *overrides), progress=False)
    configs = _group(tmp_path / "b", *overrides)
    write = kill_metric_writes_after(monkeypatch, 250)
    with pytest.raises(SimulatedKill):
        train_seeds(configs, progress=False)
    records = [RunRecord(record_path(c)) for c in configs]
    assert all(r.status == "failed" for r in records)
    assert all(torch.load(r.checkpoint_path, weights_only=True)["counters"]["step"] == 200
               for r in records)
    monkeypatch.setattr(MetricsWriter, "write", write)
    resumed = train_seeds(configs, progress=False)
    for a, b in zip(whole, resumed):
        assert b.status == "done" and a.run_id == b.run_id
        expected = read_metrics(a.metrics_path).drop(columns=list(TIMING_METRICS))
        got = read_metrics(b.metrics_path).drop(columns=list(TIMING_METRICS))
        assert len(expected) > 20 and {"eval", "train", "episode"} <= set(expected["kind"])
        assert got.equals(expected), got.compare(expected) if got.shape == expected.shape else got
        nets_a = torch.load(a.checkpoint_path, weights_only=True)["agent"]["networks"]
        nets_b = torch.load(b.checkpoint_path, weights_only=True)["agent"]["networks"]
        assert all(torch.equal(nets_a[k], nets_b[k]) for k in nets_a)
    # The two seeds really are two runs.
    a0, a1 = (read_metrics(r.metrics_path) for r in whole)
    assert not a0["critic_loss"].dropna().equals(a1["critic_loss"].dropna())


def test_a_group_record_resumes_alone(tmp_path):
    _, record = train_seeds(_group(tmp_path, "algo=iqn", seeds=(2, 3)), progress=False)
    config = record.config()
    trainer = build_trainer(config.algorithm, config.model, config.env,
                            dataclasses.replace(config.loop, total_steps=340), seeds=[3],
                            device=torch.device("cpu"), run_dirs=[record.path],
                            logs=[lambda r: None])
    assert trainer.load_checkpoints() and trainer.step == 300
    (result,) = trainer.run()
    assert result.status == "done" and trainer.step == 340


def test_a_diverging_seed_group_ends_diverged_with_finite_checkpoints(tmp_path):
    records = train_seeds(_group(tmp_path, "algo=td3", "algorithm.critic_lr=1e6",
                                 "loop.checkpoint_every=20"), progress=False)
    for record in records:
        state = record.read_status()
        assert state["status"] == "diverged" and f"env step {state['step']}" in state["message"]
        saved = torch.load(record.checkpoint_path, weights_only=True)
        assert saved["counters"]["step"] <= state["step"]
        assert all(torch.isfinite(p).all() for p in saved["agent"]["networks"].values())


def test_train_seeds_refuses_groups_that_differ_in_more_than_the_seed(tmp_path):
    mixed = [tiny(tmp_path, "algo=td3", "seed=0"), tiny(tmp_path, "algo=mage", "seed=1")]
    with pytest.raises(ValueError, match="differ only in their seed"):
        train_seeds(mixed, progress=False)
    with pytest.raises(ValueError, match="distinct"):
        train_seeds(_group(tmp_path, "algo=td3", seeds=(1, 1)), progress=False)
    assert not any(tmp_path.iterdir())


def test_a_done_group_is_not_retrained(tmp_path, monkeypatch):
    configs = _group(tmp_path, "algo=td3", "loop.total_steps=120")
    train_seeds(configs, progress=False)
    from workbench.train import records_trainer

    monkeypatch.setattr(records_trainer, "build_trainer",
                        lambda *a, **k: pytest.fail("a done group must not be rebuilt"))
    assert [r.status for r in train_seeds(configs, progress=False)] == ["done", "done"]
