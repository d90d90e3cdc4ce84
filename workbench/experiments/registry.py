"""The experiments: named grids of `notebooks/train.ipynb` parameter sets (`EXPERIMENTS`, and
one `ablation-<name>` grid per `workbench.experiments.ablations.ABLATIONS`), turned from `GridOptions` into
cells (`grid_cells`)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any


from dvg_core.names import MUJOCO_TASKS, NOISE_SETTINGS, PAPER_ALGORITHMS
from workbench.experiments.ablations import ABLATION_PREFIX, ABLATIONS, ablation_cells
from workbench.experiments.grid_options import GridOptions
from workbench.config.names import did_you_mean


__all__ = [
    "ABLATION_EXPERIMENTS", "EXPERIMENTS", "Experiment", "GridOptions", "experiment_grid",
    "get_experiment", "grid_cells",
]


@dataclass(frozen=True)
class Experiment:
    """A named grid: how to build its cells and its defaults."""

    name: str
    """Also the experiment directory's name."""
    description: str
    """One line for `--help`."""
    cells: Callable[[GridOptions, str, tuple[int, ...]], list[dict[str, Any]]]
    """(options, preset, seeds) -> train.ipynb parameters of every cell."""
    preset: str = "toy-quick"
    """Default preset."""
    n_seeds: int = 3
    """Default seeds: 0 .. n_seeds - 1."""
    timeout_s: float = 3600.0
    """Default per-notebook-cell execution timeout of papermill, seconds."""
    strict: bool = False
    """Every cell must be valid: one invalid cell stops the grid before anything runs (an
    ablation, whose values only mean something side by side). Otherwise an invalid cell
    fails alone, in its notebook."""


def _toy_cells(options: GridOptions, preset: str, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """algorithms x N x seeds on the toy, noise-free."""
    return [{"algo": algo, "n_locations": n, "seed": seed, "preset": preset,
             "overrides": list(options.overrides)}
            for algo in options.algos or PAPER_ALGORITHMS
            for n in options.n_locations or (1, 3, 5)
            for seed in seeds]


def _mujoco_cells(options: GridOptions, preset: str, seeds: tuple[int, ...]
                  ) -> list[dict[str, Any]]:
    """tasks x noise settings x algorithms x seeds (the paper's main table)."""
    return [{"algo": algo, "env_id": task, "noise": noise, "seed": seed, "preset": preset,
             "overrides": list(options.overrides)}
            for task in options.tasks or MUJOCO_TASKS
            for noise in options.noises or NOISE_SETTINGS
            for algo in options.algos or PAPER_ALGORITHMS
            for seed in seeds]


EXPERIMENTS: dict[str, Experiment] = {
    "toy": Experiment("toy", "the toy (the preset's version, dvg/PointMass-v1 by default): algorithms x N in {1, 3, 5} x seeds", _toy_cells),
    "mujoco": Experiment("mujoco", "Gymnasium v5 tasks x noise (none, obs, dynamics) x "
                         "algorithms x seeds", _mujoco_cells, preset="mujoco-100k",
                         timeout_s=24 * 3600.0),
}
"""The registered experiments."""

ABLATION_EXPERIMENTS: dict[str, Experiment] = {
    ABLATION_PREFIX + a.name: Experiment(ABLATION_PREFIX + a.name, a.description,
                                         partial(ablation_cells, a), strict=True)
    for a in ABLATIONS.values()
}
"""The ablations' grids (`reproduce ablation NAME`), by experiment directory name."""


def get_experiment(name: str) -> Experiment:
    """The experiment `name` (or an ablation's `ablation-<name>`); `ValueError` listing the
    registered ones."""
    if name in ABLATION_EXPERIMENTS:
        return ABLATION_EXPERIMENTS[name]
    if name not in EXPERIMENTS:
        known = "; ".join(f"{e.name}: {e.description}" for e in EXPERIMENTS.values())
        raise ValueError(f"unknown experiment {name!r}; experiments: {known}; or `ablation NAME` "
                         "(`reproduce ablations --list`)"
                         + did_you_mean(name, [*EXPERIMENTS, "ablation", "ablations"]))
    return EXPERIMENTS[name]


def experiment_grid(name: str, options: GridOptions = GridOptions()
                    ) -> tuple[Experiment, list[dict[str, Any]]]:
    """Experiment `name` (`get_experiment`) and its cells under `options`."""
    experiment = get_experiment(name)
    seeds = options.seeds if options.seeds is not None else tuple(range(experiment.n_seeds))
    cells = experiment.cells(options, options.preset or experiment.preset, seeds)
    return experiment, [{**cell, "device": options.device} for cell in cells]


def grid_cells(name: str, options: GridOptions = GridOptions()) -> list[dict[str, Any]]:
    """The cells of experiment `name` under `options`."""
    return experiment_grid(name, options)[1]
