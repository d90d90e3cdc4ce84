"""The experiment grids as data, free of torch: the named grids and the cells their options give
(`registry`) and the paper's ablations, each a toy grid varying one setting (`ablations`). The
command line lists and checks them at once; `workbench.grid` executes them."""
