"""workbench: experiment glue around `dvg_core` (configs, run records, batch, plots, widgets, CLI)."""

__all__: list[str] = []
