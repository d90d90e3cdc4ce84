"""The experiment grids as data: what the command line chooses about a grid (`grid_options`), the
named grids and the cells their options give (`registry`), and the paper's ablations, each a toy
grid varying one setting (`ablations`). `workbench.grid` executes them."""
