"""Where a grid's cells run: round-robin over the GPUs (a seed group on one), the device never in
the run directory, the device option reaching every cell, and `--seeds` as a list or a count."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.grid import batch
from workbench.grid import grid_cells as cells
from workbench.grid.batch import CellTask, GridOptions, grid_cells, plan_cell
from workbench.cli.main import main


class _Recorder:
    """An executor that runs nothing: it records what was submitted, each job `done`."""

    def __init__(self) -> None:
        self.jobs: list[list[CellTask]] = []

    def submit(self, fn, job):
        from concurrent.futures import Future

        tasks = job if isinstance(job, list) else [job]
        self.jobs.append(tasks)
        future = Future()
        future.set_result([cells.CellResult(Path(t.run_dir).name, t.run_dir, "done")
                           for t in tasks])
        return future


def _placed_devices(tmp_path: Path, device: str, n_gpus: int, *,
                    vectorize_seeds: bool = False) -> list[list[str]]:
    grid = grid_cells("toy", GridOptions(seeds=(0, 1), algos=("td3", "iqn", "mmd"),
                                         n_locations=(1,), device=device))
    recorder = _Recorder()
    tasks = batch.plan_grid(grid, run_root=tmp_path, experiment="toy")
    batch.run_grid(tasks, experiment="toy", executor=recorder, progress=False, n_gpus=n_gpus,
                   vectorize_seeds=vectorize_seeds)
    return [[t.parameters["device"] for t in job] for job in recorder.jobs]


@pytest.mark.parametrize(("device", "n_gpus", "expected"), [
    ("auto", 0, ["auto"] * 6),
    ("cuda", 1, ["cuda"] * 6),
    ("auto", 2, ["cuda:0", "cuda:1"] * 3),
    ("cuda", 4, ["cuda:0", "cuda:1", "cuda:2", "cuda:3", "cuda:0", "cuda:1"]),
    ("cpu", 4, ["cpu"] * 6),
    ("cuda:3", 4, ["cuda:3"] * 6),
])
def test_grid_cells_go_round_robin_over_the_gpus(tmp_path, device, n_gpus, expected):
    assert [d for job in _placed_devices(tmp_path, device, n_gpus) for d in job] == expected


def test_a_seed_group_shares_one_gpu_and_groups_take_turns(tmp_path):
    devices = _placed_devices(tmp_path, "auto", 2, vectorize_seeds=True)
    assert devices == [["cuda:0", "cuda:0"], ["cuda:1", "cuda:1"], ["cuda:0", "cuda:0"]]


def test_the_placed_device_does_not_change_the_run_directory(tmp_path):
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("td3",), n_locations=(1,)))
    dirs = {plan_cell({**cell, "device": d}, run_root=tmp_path, experiment="toy").run_dir
            for d in ("auto", "cpu", "cuda:1")}
    assert len(dirs) == 1


def test_the_device_option_reaches_every_cell_and_a_missing_gpu_stops_the_grid(
        tmp_path, capsys, monkeypatch):
    from workbench.cli.main import build_parser

    args = build_parser().parse_args(["reproduce", "toy", "--device", "cuda:1"])
    assert args.device == "cuda:1"
    assert build_parser().parse_args(["reproduce", "toy"]).device == "auto"
    options = GridOptions(algos=("td3",), device="cuda:1")
    assert {c["device"] for c in grid_cells("toy", options)} == {"cuda:1"}
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert main(["reproduce", "toy", "--device", "cuda", "--run-root", str(tmp_path)]) == 2
    assert "device 'cuda' needs a CUDA GPU, but torch sees none" in capsys.readouterr().err
    assert main(["reproduce", "toy", "--device", "gpu", "--run-root", str(tmp_path)]) == 2
    assert "device must be one of auto, cpu, cuda, cuda:N" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_seeds_option_takes_a_list_or_a_count():
    from workbench.cli.main import build_parser
    parse = build_parser().parse_args
    assert parse(["reproduce", "toy", "--seeds", "0,2"]).seeds == (0, 2)
    assert parse(["reproduce", "toy", "--seeds", "3"]).seeds == (0, 1, 2)
    assert parse(["reproduce", "toy", "--seeds", "5,"]).seeds == (5,)
