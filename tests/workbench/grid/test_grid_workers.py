"""A grid's workers: a stopped grid stops them (`make_executor` terminates them on any exception,
Ctrl-C or SIGTERM as SystemExit, instead of waiting for their cells, which would leave them
training and holding their records' locks), and a seed group trains with its cells' `threads`."""

from __future__ import annotations

import time

import pytest
import torch

from workbench.train import training_run as training
from workbench.grid.batch import GridOptions, grid_cells, make_executor, plan_cell
from workbench.grid.grid_cells import execute_seed_group


def test_an_interrupted_pool_terminates_its_busy_workers():
    with pytest.raises(KeyboardInterrupt):
        with make_executor(2) as pool:
            futures = [pool.submit(time.sleep, 120) for _ in range(3)]
            deadline = time.monotonic() + 60
            while sum(f.running() for f in futures) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = list(pool._processes.values())
            assert len(workers) == 2 and all(w.is_alive() for w in workers)
            started = time.monotonic()
            raise KeyboardInterrupt
    deadline = time.monotonic() + 20
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(w.is_alive() for w in workers)
    assert time.monotonic() - started < 30  # not the 120 s of the cells


def test_a_pool_that_ends_normally_waits_for_its_cells():
    with make_executor(2) as pool:
        future = pool.submit(sum, [1, 2, 3])
    assert future.result() == 6


@pytest.mark.parametrize("threads", [1, 2])
def test_a_seed_group_trains_with_its_cells_torch_threads(tmp_path, monkeypatch, threads):
    seen = []
    monkeypatch.setattr(training, "train_seeds",
                        lambda configs, progress: seen.append(torch.get_num_threads()))
    cells = grid_cells("toy", GridOptions(seeds=(0, 1), algos=("td3",), n_locations=(1,)))
    tasks = [plan_cell({**c, "threads": threads}, run_root=tmp_path, experiment="toy")
             for c in cells]
    before = torch.get_num_threads()
    torch.set_num_threads(3 - threads)  # the other value: the group must set its own
    try:
        execute_seed_group(tasks)
    finally:
        torch.set_num_threads(before)
    assert seen == [threads]


@pytest.mark.parametrize("algo, groups", [("td3", [2]), ("iqn", [2]), ("mmd", [1, 1]),
                                          ("dsdpg_msmmd", [1, 1])])
def test_a_seed_group_stacks_its_seeds_only_where_stacking_pays(tmp_path, monkeypatch, algo,
                                                                 groups):
    seen = []
    monkeypatch.setattr(training, "train_seeds",
                        lambda configs, progress: seen.append([c.seed for c in configs]))
    cells = grid_cells("toy", GridOptions(seeds=(0, 1), algos=(algo,), n_locations=(1,)))
    execute_seed_group([plan_cell(c, run_root=tmp_path, experiment="toy") for c in cells])
    assert [len(g) for g in seen] == groups
    assert sorted(s for g in seen for s in g) == [0, 1]


def test_a_sequential_seed_group_skips_a_seed_another_process_holds(tmp_path, monkeypatch):
    from workbench.records.lock import RecordBusy

    def busy_first(configs, progress):
        if configs[0].seed == 0:
            raise RecordBusy("held")
        trained.append(configs[0].seed)

    trained = []
    monkeypatch.setattr(training, "train_seeds", busy_first)
    cells = grid_cells("toy", GridOptions(seeds=(0, 1), algos=("mmd",), n_locations=(1,)))
    results = execute_seed_group([plan_cell(c, run_root=tmp_path, experiment="toy")
                                  for c in cells])
    assert trained == [1]
    assert [r.status for r in results] == ["locked", "locked"]  # neither record was written


def test_a_compiled_seed_group_trains_its_seeds_one_by_one(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(training, "train_seeds",
                        lambda configs, progress: seen.append(len(configs)))
    cells = grid_cells("toy", GridOptions(seeds=(0, 1), algos=("td3",), n_locations=(1,),
                                          overrides=("loop.compile=true",)))
    execute_seed_group([plan_cell(c, run_root=tmp_path, experiment="toy") for c in cells])
    assert seen == [1, 1]  # a compiled update trains one seed per process at a time
