"""The in-loop fidelity rows: logged after each evaluation on the toy, none where there is no
simulator, equal to the fidelity benchmark's metrics of the same critic at the same states."""

from __future__ import annotations

import math

import torch

from dvg_core.analysis.fidelity import fidelity_metrics
from dvg_core.analysis.ground_truth import sobolev_return_samples
from dvg_core.analysis.policy_evaluation import critic_joint_samples
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.training import FidelityMonitor
from dvg_core.training.build import build_agent, build_envs
from tests.workbench.train.test_training_run import tiny
from workbench.records.run_record import read_metrics
from workbench.train.training_run import train


def test_a_toy_run_logs_a_fidelity_row_after_each_evaluation(tmp_path):
    record = train(tiny(tmp_path, "algo=dsdpg_msmmd", "loop.fidelity_probes=4",
                        "loop.fidelity_truth_samples=8"), progress=False)
    metrics = read_metrics(record.metrics_path)
    evals = metrics[metrics["kind"] == "eval"]["step"].tolist()
    rows = metrics[metrics["kind"] == "fidelity"]
    assert rows["step"].tolist() == evals == [100, 200, 300]
    for name in ("mean_bias", "mean_error", "gradient_error", "spread_ratio", "energy", "mmd2"):
        assert rows[f"fidelity_{name}"].notna().all(), name


def test_no_fidelity_rows_when_turned_off(tmp_path):
    record = train(tiny(tmp_path, "algo=td3", "loop.fidelity_probes=0"), progress=False)
    assert "fidelity" not in set(read_metrics(record.metrics_path)["kind"])


def test_the_monitor_reports_the_benchmark_metrics_of_the_critic_at_the_visited_states(tmp_path):
    config = tiny(tmp_path, "algo=dsdpg_mmd", "model=oracle")  # the critic's rows alone
    torch.manual_seed(0)
    env, _ = build_envs(config.env, 0)
    agent = build_agent(config.algorithm, config.model, config.env, env, torch.device("cpu"))
    simulator = PointMassDynamics(PointMassSpec(n_locations=3, horizon=20))
    visited = torch.rand(30, 2) - 0.5
    monitor = FidelityMonitor(simulator, gamma=config.algorithm.gamma, n_probes=5, n_truth=32,
                              n_samples=8)
    got = monitor(agent, visited, seed=4, step=700)
    state = visited[torch.tensor([0, 7, 14, 22, 29])]  # 5 evenly spaced of 30 (rounded)
    generator = torch.Generator().manual_seed(1_000_003 * 5 + 700)
    action = agent.actor(state).detach()
    truth = sobolev_return_samples(simulator, agent.actor, state, action,
                                   gamma=config.algorithm.gamma, n_samples=32,
                                   generator=generator)
    samples = critic_joint_samples(agent, state, action, n_samples=8, generator=generator)
    want = fidelity_metrics(samples, truth)
    assert set(got) == {f"fidelity_{k}" for k in want}
    for key, value in want.items():
        assert math.isclose(got[f"fidelity_{key}"], value, rel_tol=1e-6) or (
            math.isnan(value) and math.isnan(got[f"fidelity_{key}"])), key


def test_a_learned_model_run_logs_the_model_metrics_and_an_oracle_run_does_not(tmp_path):
    from dvg_core.analysis.model_fidelity import MODEL_METRICS, TARGET_METRICS

    keys = [f"model_{k}" for k in (*MODEL_METRICS, *TARGET_METRICS)]
    learned = train(tiny(tmp_path, "algo=iqn", "model=cvae", "loop.fidelity_probes=4",
                         "loop.fidelity_truth_samples=8"), progress=False)
    rows = read_metrics(learned.metrics_path)
    rows = rows[rows["kind"] == "fidelity"]
    assert len(rows) == 3 and rows[keys].notna().all().all()
    oracle = train(tiny(tmp_path, "algo=iqn", "model=oracle", "loop.fidelity_probes=4",
                        "loop.fidelity_truth_samples=8"), progress=False)
    assert not set(keys) & set(read_metrics(oracle.metrics_path).columns)


def test_the_monitor_reports_the_benchmark_model_metrics_at_the_visited_states(tmp_path):
    from dvg_core.analysis.model_fidelity import model_metrics, target_metrics
    from dvg_core.models.world_models import OracleWorldModel

    config = tiny(tmp_path, "algo=dsdpg_msmmd", "model=cvae")
    torch.manual_seed(0)
    env, _ = build_envs(config.env, 0)
    agent = build_agent(config.algorithm, config.model, config.env, env, torch.device("cpu"))
    simulator = PointMassDynamics(env.unwrapped.spec_params)
    visited = torch.rand(30, 2) - 0.5
    monitor = FidelityMonitor(simulator, gamma=config.algorithm.gamma, n_probes=5, n_truth=32,
                              n_samples=8, n_model_draws=16)
    state = visited[torch.tensor([0, 7, 14, 22, 29])]
    action = agent.actor(state).detach()
    got = monitor.model_fidelity(agent, state, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(3)
    truth = OracleWorldModel(simulator)
    want = model_metrics(agent.world_model, truth, state, action, n_draws=16, generator=generator)
    want |= target_metrics(agent.world_model, truth, agent.actor_target, agent.critic_target,
                           state, action, gamma=config.algorithm.gamma, n_samples=8,
                           generator=generator)
    assert got == want
    row = monitor(agent, visited, seed=4, step=700)
    assert {f"model_{k}" for k in want} <= set(row)
