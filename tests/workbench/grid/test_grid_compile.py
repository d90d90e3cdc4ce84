"""`reproduce --compile` (`GridOptions.compile`, `workbench.grid.grid_cells.compiled_where_it_pays`): the cells
of the algorithms whose compiled update pays at the toy's sizes get `loop.compile=true`, last; the
others are left exactly as without it."""

from __future__ import annotations

from dvg_core.agents import ALGORITHMS, STRATEGIES
from workbench.grid.grid_cells import compiled_where_it_pays
from workbench.experiments.registry import GridOptions, grid_cells
from workbench.config.notebook_parameters import config_from_parameters


def _compiled(cell) -> bool:
    return config_from_parameters(**cell).loop.compile


def test_compile_marks_exactly_the_cells_whose_algorithm_pays():
    cells = grid_cells("toy", GridOptions(seeds=(0,), n_locations=(1,), algos=ALGORITHMS,
                                          overrides=("loop.total_steps=1000",)))
    assert any(STRATEGIES[a].compile_pays for a in ALGORITHMS)
    assert any(not STRATEGIES[a].compile_pays for a in ALGORITHMS)
    for before in cells:
        after = compiled_where_it_pays(before)
        pays = STRATEGIES[before["algo"]].compile_pays
        assert _compiled(after) == pays and not _compiled(before)
        if pays:
            assert after["overrides"] == [*before["overrides"], "loop.compile=true"]
        else:
            assert after == before


def test_compile_reads_the_algorithm_an_ablation_sets_through_its_overrides():
    cells = grid_cells("ablation-msmmd-vs-mmd", GridOptions(seeds=(0,)))
    assert "algo" not in cells[0]
    assert [_compiled(compiled_where_it_pays(c)) for c in cells] == [
        STRATEGIES[n].compile_pays for n in ("dsdpg_msmmd", "dsdpg_mmd")]


def test_an_invalid_cell_is_left_to_fail_in_its_notebook():
    cell = grid_cells("toy", GridOptions(seeds=(0,), n_locations=(1,), algos=("nope",)))[0]
    assert compiled_where_it_pays(cell) == cell


def test_only_compilable_algorithms_claim_that_compiling_pays():
    from dvg_core.agents.compiled import NOT_COMPILABLE

    assert not any(STRATEGIES[name].compile_pays for name in NOT_COMPILABLE)


def test_reproduce_applies_compile_to_the_cells_it_plans(tmp_path, monkeypatch):
    import workbench.grid.batch as batch

    seen = []

    def fake_run_grid(tasks, **kwargs):
        seen.extend(task.parameters for task in tasks)
        raise KeyboardInterrupt  # stop before anything trains

    monkeypatch.setattr(batch, "run_grid", fake_run_grid)
    try:
        batch.reproduce("toy", GridOptions(seeds=(0,), n_locations=(1,), algos=("td3", "mmd"),
                                           compile=True), run_root=tmp_path, report=False)
    except KeyboardInterrupt:
        pass
    assert [_compiled(c) for c in seen] == [STRATEGIES[a].compile_pays for a in ("td3", "mmd")]


def test_mujoco_cells_stay_eager_where_the_compiled_sobolev_update_is_slower():
    cells = grid_cells("mujoco", GridOptions(seeds=(0,), algos=("dsdpg_msmmd",),
                                             tasks=("Hopper-v5",), noises=("none",)))
    assert STRATEGIES["dsdpg_msmmd"].compile_pays
    assert [compiled_where_it_pays(c) for c in cells] == cells
