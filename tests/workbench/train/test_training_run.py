"""workbench.train.training_run and the `train` command: records end to end, exact resume, divergence."""

from __future__ import annotations

import pytest
import torch

from dvg_core.training.trainer import TIMING_METRICS
from workbench.train import records_trainer
from workbench.cli.main import main
from workbench.config.overrides import apply_overrides
from workbench.config.presets import preset
from workbench.records.run_record import MetricsWriter, RunRecord, read_metrics, record_path
from workbench.train.training_run import TrainingRun, train

TINY = [
    "loop.total_steps=300", "loop.warmup_steps=100", "loop.utd=1", "loop.batch_size=32",
    "loop.eval_every=100", "loop.eval_episodes=1", "loop.log_every=50",
    "loop.checkpoint_every=100", "algorithm.hidden=16,16", "algorithm.n_samples=4",
    "algorithm.n_target_samples=4", "model.hidden=16,16", "model.fit_every=50",
    "model.fit_steps=5", "model.warmup_fit_steps=10", "model.batch_size=32",
    "env.kwargs.horizon=20", "device=cpu",
]


@pytest.fixture(autouse=True)
def one_thread():
    """The CPU is shared with other test processes; one thread is far faster then."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(root, *overrides):
    return preset("toy-quick", [*TINY, f"run_root={root}", *overrides])


def test_train_writes_a_done_record_and_a_rerun_returns_it_untouched(tmp_path, monkeypatch):
    config = tiny(tmp_path, "algo=td3")
    record = train(config, progress=False)
    state = record.read_status()
    assert (state["status"], state["step"]) == ("done", 300)
    metrics = read_metrics(record.metrics_path)
    assert list(metrics.loc[metrics["kind"] == "eval", "step"]) == [100, 200, 300]
    assert {"episode", "train"} <= set(metrics["kind"])
    saved = torch.load(record.checkpoint_path, weights_only=True)
    assert saved["counters"]["step"] == 300
    assert record.config() == config

    before = record.metrics_path.read_bytes(), record.status_path.read_bytes()

    def no_build(*args, **kwargs):
        raise AssertionError("a done run must not be rebuilt")

    monkeypatch.setattr(records_trainer, "build_trainer", no_build)
    again = train(config, progress=False)
    assert again.path == record.path
    assert (record.metrics_path.read_bytes(), record.status_path.read_bytes()) == before


def test_train_without_resume_starts_a_done_run_afresh(tmp_path):
    config = tiny(tmp_path, "algo=td3", "loop.total_steps=120")
    record = train(config, progress=False)
    first = read_metrics(record.metrics_path)
    train(config, resume=False, progress=False)
    second = read_metrics(record.metrics_path)
    assert record.status == "done"
    assert first.drop(columns=list(TIMING_METRICS)).equals(second.drop(columns=list(TIMING_METRICS)))


class SimulatedKill(Exception):
    """Stands for the process being killed."""


def kill_metric_writes_after(monkeypatch, step: int):
    """Make every record's metric write past `step` raise `SimulatedKill` (the process "dies"
    there, after its last checkpoint); returns the real `MetricsWriter.write` to restore."""
    write = MetricsWriter.write

    def killed(self, row):
        if row["step"] > step:
            raise SimulatedKill(f"killed at step {row['step']}")
        write(self, row)

    monkeypatch.setattr(MetricsWriter, "write", killed)
    return write


def test_resumed_run_logs_exactly_what_an_uninterrupted_run_logs(tmp_path, monkeypatch):
    # Off-grid schedules, so the checkpoint at 200 carries half-filled metric accumulators.
    # Observation normalisation on: its running statistics must resume exactly too.
    overrides = ["algo=dsdpg_msmmd", "model=cvae", "loop.log_every=30", "loop.eval_every=70",
                 "algorithm.normalize_obs=true"]
    whole = train(tiny(tmp_path / "a", *overrides), progress=False)

    config = tiny(tmp_path / "b", *overrides)
    write = kill_metric_writes_after(monkeypatch, 250)
    with pytest.raises(SimulatedKill):
        train(config, progress=False)
    record = RunRecord(record_path(config))
    assert record.status == "failed" and "SimulatedKill" in record.read_status()["message"]
    assert torch.load(record.checkpoint_path, weights_only=True)["counters"]["step"] == 200
    assert read_metrics(record.metrics_path)["step"].max() > 200  # rows the resume must drop

    monkeypatch.setattr(MetricsWriter, "write", write)
    resumed = train(config, progress=False)
    assert resumed.status == "done" and resumed.run_id == whole.run_id
    expected = read_metrics(whole.metrics_path).drop(columns=list(TIMING_METRICS))
    got = read_metrics(resumed.metrics_path).drop(columns=list(TIMING_METRICS))
    assert len(expected) > 20 and {"eval", "train", "episode"} <= set(expected["kind"])
    assert got.columns.tolist() == expected.columns.tolist()
    assert got.equals(expected), (got.compare(expected) if got.shape == expected.shape else got)
    nets_a = torch.load(whole.checkpoint_path, weights_only=True)["agent"]["networks"]
    nets_b = torch.load(resumed.checkpoint_path, weights_only=True)["agent"]["networks"]
    assert all(torch.equal(nets_a[k], nets_b[k]) for k in nets_a)
    assert int(nets_b["obs_normalizer.count"]) == 300 + int(got["kind"].eq("episode").sum())


def test_divergence_ends_the_run_with_a_diverged_status_and_a_loadable_checkpoint(tmp_path):
    config = tiny(tmp_path, "algo=td3", "algorithm.critic_lr=1e6", "loop.checkpoint_every=20")
    record = train(config, progress=False)
    state = record.read_status()
    assert state["status"] == "diverged"
    assert "critic" in state["message"] and f"env step {state['step']}" in state["message"]
    assert 100 < state["step"] < 300
    saved = torch.load(record.checkpoint_path, weights_only=True)
    assert saved["counters"]["step"] <= state["step"] and saved["counters"]["step"] % 20 == 0
    assert all(torch.isfinite(p).all() for p in saved["agent"]["networks"].values())


@pytest.mark.parametrize(("overrides", "named"), [
    (["env=HalfCheetah-v5", "model=oracle"], "oracle"),
    (["env=HalfCheetah-v5", "env.kwargs.n_locations=3"], "n_locations"),
])
def test_a_config_the_builders_reject_writes_nothing(tmp_path, overrides, named):
    config = preset("toy-quick", [f"run_root={tmp_path}", "device=cpu", *overrides])
    with pytest.raises(ValueError, match=named):
        TrainingRun([config], progress=False)
    assert not any(tmp_path.iterdir())


def test_a_record_holding_other_parameters_is_refused_before_training(tmp_path):
    config = tiny(tmp_path, "algo=td3")
    other = apply_overrides(config, ["lam=0.5"])
    path = record_path(config)
    path.mkdir(parents=True)
    (path / "params.json").write_text(
        '{"run_id": "%s", "config": %s}' % (path.name, other.to_json()))
    with pytest.raises(ValueError, match="other parameters"):
        TrainingRun([config], progress=False)
    assert sorted(p.name for p in path.iterdir()) == ["params.json"]


def test_cli_train_returns_0_and_prints_the_record(tmp_path, capsys):
    sets = [arg for item in TINY for arg in ("--set", item)]
    code = main(["train", "--algo", "td3", "--seed", "2", "--run-root", str(tmp_path),
                 "--experiment", "cli", "--no-progress", *sets, "--set", "steps=120"])
    out = capsys.readouterr().out
    config = tiny(tmp_path, "algo=td3", "seed=2", "experiment=cli", "steps=120")
    assert code == 0
    assert f"record: {record_path(config)}" in out and "status: done" in out
    assert RunRecord(record_path(config)).status == "done"


@pytest.mark.parametrize(("args", "named"), [
    (["--set", "algorithm.gamma=1.5"], "gamma"),
    (["--algo", "ddpg"], "name"),
    (["--seed", "-1"], "seed"),
    (["--preset", "toy-slow"], "preset"),
    (["--set", "loop.total_steps=lots"], "total_steps"),
])
def test_cli_bad_values_exit_2_naming_the_field(tmp_path, capsys, args, named):
    code = main(["train", "--run-root", str(tmp_path), "--no-progress", *args])
    assert code == 2
    assert named in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_cli_train_exits_1_on_divergence(tmp_path, capsys):
    sets = [arg for item in TINY for arg in ("--set", item)]
    code = main(["train", "--algo", "td3", "--run-root", str(tmp_path), "--no-progress", *sets,
                 "--set", "algorithm.critic_lr=1e6"])
    assert code == 1
    assert "status: diverged" in capsys.readouterr().out


def test_a_metric_reported_every_other_update_is_averaged_over_its_own_updates(tmp_path,
                                                                               monkeypatch):
    """The actor steps every `policy_delay` critic steps: its logged loss is the mean of those."""
    from dvg_core.agents.agent import Agent

    monkeypatch.setattr(Agent, "update_actor", lambda self, batch: {"actor_loss": torch.tensor(1.0)})
    record = train(tiny(tmp_path, "algo=td3"), progress=False)
    rows = read_metrics(record.metrics_path).query("kind == 'train'").dropna(subset=["actor_loss"])
    assert len(rows) >= 2 and (rows["actor_loss"] == 1.0).all()
