"""Experiment grids executed: each cell planned in the parent and run as a papermill notebook, or a
setting's seeds trained together in one worker (`grid_cells`), on any executor (`batch`), on
the GPU `placement` picks, in kernels that die with the grid (`kernel_guard`)."""
