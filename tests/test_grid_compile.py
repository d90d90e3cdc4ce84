"""`reproduce --compile` (`GridOptions.compile`): the cells of the algorithms whose compiled update
pays at the toy's sizes get `loop.compile=true`, last; the others are left exactly as without it."""

from __future__ import annotations

from dvg_core.agents import ALGORITHMS, STRATEGIES
from workbench.experiments import GridOptions, grid_cells
from workbench.notebook_api import config_from_parameters


def _compiled(cell) -> bool:
    return config_from_parameters(**{k: v for k, v in cell.items() if k != "device"}).loop.compile


def test_compile_marks_exactly_the_cells_whose_algorithm_pays():
    options = GridOptions(seeds=(0,), n_locations=(1,), algos=ALGORITHMS,
                          overrides=("loop.total_steps=1000",))
    plain = grid_cells("toy", options)
    compiled = grid_cells("toy", GridOptions(**{**options.__dict__, "compile": True}))
    assert any(STRATEGIES[a].compile_pays for a in ALGORITHMS)
    assert any(not STRATEGIES[a].compile_pays for a in ALGORITHMS)
    for before, after in zip(plain, compiled, strict=True):
        pays = STRATEGIES[before["algo"]].compile_pays
        assert _compiled(after) == pays and not _compiled(before)
        if pays:
            assert after["overrides"] == [*before["overrides"], "loop.compile=true"]
        else:
            assert after == before


def test_compile_reads_the_algorithm_an_ablation_sets_through_its_overrides():
    cells = grid_cells("ablation-msmmd-vs-mmd", GridOptions(seeds=(0,), compile=True))
    assert "algo" not in cells[0]
    assert [_compiled(c) for c in cells] == [STRATEGIES[n].compile_pays
                                             for n in ("dsdpg_msmmd", "dsdpg_mmd")]


def test_an_invalid_cell_is_left_to_fail_in_its_notebook():
    cells = grid_cells("toy", GridOptions(seeds=(0,), n_locations=(1,), algos=("nope",),
                                          compile=True))
    assert cells[0]["overrides"] == []


def test_only_compilable_algorithms_claim_that_compiling_pays():
    from dvg_core.agents.compiled import NOT_COMPILABLE

    assert not any(STRATEGIES[name].compile_pays for name in NOT_COMPILABLE)
