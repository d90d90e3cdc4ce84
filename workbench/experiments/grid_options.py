"""What the command line chooses about a grid (`GridOptions`): read by the named grids
(`workbench.experiments.registry`) and the ablations (`workbench.experiments.ablations`) alike."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GridOptions"]


@dataclass(frozen=True)
class GridOptions:
    """What the command line chooses about a grid; None takes the experiment's default."""

    preset: str | None = None
    """Starting config of every cell."""
    seeds: tuple[int, ...] | None = None
    """Seeds of every setting."""
    algos: tuple[str, ...] | None = None
    """Algorithms (names are validated per cell, in its notebook)."""
    n_locations: tuple[int, ...] | None = None
    """Toy: numbers of reward locations N."""
    tasks: tuple[str, ...] | None = None
    """MuJoCo: env ids (names are validated per cell)."""
    noises: tuple[str, ...] | None = None
    """MuJoCo: noise settings."""
    overrides: tuple[str, ...] = ()
    """`key=value` overrides of every cell, applied after the cell's own."""
    compile: bool = False
    """Compile the cells of the algorithms whose compiled update pays at the toy's sizes
    (`CriticStrategy.compile_pays`; `workbench.grid.grid_cells.compiled_where_it_pays`, applied by
    `workbench.grid.batch.reproduce`): `loop.compile=true` comes last in their overrides; the others
    stay eager (and a seed group of them may stack, which compiling would forbid)."""
    device: str = "auto"
    """Device of every cell: `auto`, `cpu`, `cuda` or `cuda:N` (`dvg_core.util.device`); with
    several GPUs, `auto` and `cuda` cells go round-robin over them (`workbench.grid.placement`)."""
