"""How a grid ended (`GridResult`): every cell's result in completion order, the counts and a
summary naming each failed cell's output notebook."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.grid.grid_cells import CellResult

__all__ = ["GridResult"]


@dataclass
class GridResult:
    """Every cell's result, in completion order."""

    results: list[CellResult] = field(default_factory=list)
    """One per cell."""
    seconds: float = 0.0
    """Wall time of the grid."""

    def count(self, status: str, *, skipped: bool = False) -> int:
        """Cells executed (or skipped, if `skipped`) that ended with `status`."""
        return sum(r.status == status and r.skipped == skipped for r in self.results)

    @property
    def failed(self) -> list[CellResult]:
        """The executed cells that failed."""
        return [r for r in self.results if r.status == "failed" and not r.skipped]

    def summary(self) -> str:
        """Counts, then one line per failed cell with its message and output notebook."""
        locked = self.count("locked", skipped=True)
        skipped = sum(r.skipped for r in self.results) - locked
        lines = [f"{len(self.results)} cells in {self.seconds:.0f} s: {self.count('done')} done, "
                 f"{self.count('diverged')} diverged, {len(self.failed)} failed, "
                 f"{skipped} skipped (already final)"
                 + (f", {locked} skipped (locked by another process)" if locked else "")]
        lines += [f"  failed {r.name}: {r.message}\n    {r.run_dir}/output.ipynb"
                  for r in self.failed]
        return "\n".join(lines)
