"""Which GPU each job of a parallel batch runs on: a pure function of the GPU count.

The grid runner (`workbench.grid.grid_runner.run_grid`) calls `job_device` for the k-th job it submits,
so on a machine with several GPUs its cells go round-robin over them: the `workers` jobs that
run at once (the first `workers`, and roughly so later on as jobs finish) are spread evenly,
no GPU holding more than one job more than another. A job gets a device *name*
(`dvg_core.util.device`), which its config carries; the device is not part of a run's identity,
so a cell keeps its run id wherever it runs. With no GPU, or one, nothing changes.
"""

from __future__ import annotations

from dvg_core.util.device import check_device_name
from dvg_core.util.validation import check_int_at_least

__all__ = ["job_device"]


def job_device(requested: str, *, n_gpus: int, index: int) -> str:
    """The device name job `index` of a batch runs on.

    `auto` and `cuda` mean "the GPUs", so with `n_gpus >= 2` they become `cuda:{index % n_gpus}`;
    `cpu` and a pinned `cuda:N` are kept, and so is everything when `n_gpus <= 1` (the job
    resolves `auto` itself; a `cuda` request without a GPU fails in the job's own check).

    Args:
      requested: the batch's device name, one of `dvg_core.util.device.DEVICE_CHOICES`.
      n_gpus: GPUs the workers see (`dvg_core.util.device.gpu_count()`), >= 0.
      index: the job's position in submission order, >= 0.

    Returns:
      the job's device name.
    """
    check_device_name(requested)
    check_int_at_least("n_gpus", n_gpus, 0)
    check_int_at_least("index", index, 0)
    if n_gpus < 2 or requested not in ("auto", "cuda"):
        return requested
    return f"cuda:{index % n_gpus}"
