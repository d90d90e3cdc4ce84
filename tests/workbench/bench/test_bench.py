"""The throughput benchmark runs on a tiny configuration and reports sane numbers (not timed)."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main as cli
from workbench.bench.bench_results import format_report
from workbench.bench.update_bench import BenchConfig, run_benchmark


def test_benchmark_reports_every_algorithm_with_flops_and_ratios():
    config = BenchConfig(algorithms=("td3", "dsdpg_msmmd"), problems=("toy",), batch_size=8,
                         n_samples=3, hidden=(8,), warmup=1, block=2, repeats=2, env_steps=20)
    result = run_benchmark(config, progress=False)
    rows = {r.algorithm: r for r in result.updates}
    assert set(rows) == {"td3", "dsdpg_msmmd"}
    assert rows["td3"].ratio_to_td3 == pytest.approx(1.0)
    # The Sobolev update does strictly more arithmetic than TD3's (M samples, their gradients).
    assert rows["dsdpg_msmmd"].gflop_per_update > rows["td3"].gflop_per_update > 0
    assert all(r.updates_per_s > 0 and 0 < r.peak_fraction for r in result.updates)
    assert result.matmul_peak_gflops > 0
    assert set(result.env_steps_per_s) == {"dvg/PointMass-v0", "HalfCheetah-v5",
                                           "dvg/PointMass-v0 (torch, 1024 envs)"}
    report = format_report(result)
    assert "dsdpg_msmmd" in report and "GFLOP/update" in report


def test_fewer_target_samples_count_fewer_flops():
    def flops(n_target_samples):
        config = BenchConfig(algorithms=("dsdpg_mmd",), problems=("toy",), batch_size=8,
                             n_samples=4, n_target_samples=n_target_samples, hidden=(8,),
                             warmup=0, block=1, repeats=1, env_steps=0)
        return run_benchmark(config, progress=False).updates[0].gflop_per_update
    assert flops(2) < flops(None) == flops(4)


def test_the_target_levers_count_fewer_flops_where_they_apply():
    """Features once per pair (the cVAE of `toy-cvae`) and shared draws (mmd, iqn only)."""
    def flops(algorithm, problem, **kwargs):
        config = BenchConfig(algorithms=(algorithm,), problems=(problem,), batch_size=8,
                             n_samples=4, hidden=(8,), warmup=0, block=1, repeats=1,
                             env_steps=0, **kwargs)
        return run_benchmark(config, progress=False).updates[0].gflop_per_update
    for algorithm in ("mmd", "iqn"):
        assert flops(algorithm, "toy-cvae", shared_target_draws=True) < flops(algorithm,
                                                                               "toy-cvae")
    # dsdpg_mmd does not take shared draws: the option leaves it as it is
    assert (flops("dsdpg_mmd", "toy-cvae", shared_target_draws=True)
            == flops("dsdpg_mmd", "toy-cvae") > flops("dsdpg_mmd", "toy"))


def test_each_learned_model_of_the_toy_is_benched_on_its_own_model():
    """`toy-flow` and `toy-flow-coupling` sample the flow in its two layouts inside the targets;
    the flow's networks add matmuls over the oracle's `toy`, and the two-pass layout evaluates
    its hyper-networks twice per layer when sampling."""
    def flops(problem):
        config = BenchConfig(algorithms=("iqn",), problems=(problem,), batch_size=8,
                             n_samples=4, hidden=(8,), warmup=0, block=1, repeats=1,
                             env_steps=0)
        return run_benchmark(config, progress=False).updates[0].gflop_per_update
    assert flops("toy-flow") > flops("toy-flow-coupling") > flops("toy")


def test_cli_bench_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code = cli.main(["bench", "--algos", "td3", "--problems", "toy", "--batch-size", "8",
                     "--samples", "2", "--hidden", "8", "--warmup", "0", "--block", "1",
                     "--repeats", "1", "--env-steps", "0", "--threads", "1",
                     "--json", str(path)])
    assert code == 0
    data = json.loads(path.read_text())
    assert data["updates"][0]["algorithm"] == "td3" and data["threads"] == 1
    row = data["updates"][0]
    assert {"problem", "ms_per_update", "ratio_to_td3", "peak_fraction"} <= set(row)
    assert row["compiled"] is False
    assert "ms/update" in capsys.readouterr().out


@pytest.mark.parametrize("args, named", [(["--algos", "sac"], "algorithms"),
                                          (["--batch-size", "0"], "batch_size"),
                                          (["--target-samples", "0"], "n_target_samples"),
                                          (["--problems", "atari"], "problems")])
def test_cli_bench_rejects_bad_values_naming_them(args, named, capsys):
    assert cli.main(["bench", *args]) == 2
    assert named in capsys.readouterr().err


def test_benchmark_times_stacked_seeds_and_vectorised_loops():
    config = BenchConfig(algorithms=("td3", "dsdpg_msmmd"), problems=("toy",), batch_size=8,
                         n_samples=3, hidden=(8,), warmup=1, block=2, repeats=1, env_steps=0,
                         seeds=2)
    result = run_benchmark(config, progress=False)
    assert all(r.stacked_ms_per_update > 0 for r in result.updates)
    assert "2 seeds stacked" in format_report(result)
    loops = run_benchmark(BenchConfig(algorithms=("td3",), problems=(), env_steps=0,
                                      loop_steps=40, seeds=2), progress=False)
    row = loops.seed_loops["td3"]
    assert row["vectorised"] > 0 and row["one_by_one"] > 0
    assert "toy-quick loop, 2 seeds" in format_report(loops)
