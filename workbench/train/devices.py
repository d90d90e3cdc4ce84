"""The torch threads and the device of a training process, checked before any work: what the
notebooks' `threads` and `device` parameters set, and what a grid's worker sets for its cells."""

from __future__ import annotations

import torch

from dvg_core.util.device import check_device_name, resolve_device
from dvg_core.util.validation import check_int_at_least

__all__ = ["use_cpu_device", "use_device", "use_threads"]


def use_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (None: leave torch's default)."""
    if threads is not None:
        check_int_at_least("threads", threads, 1)
        torch.set_num_threads(threads)


def use_device(device: str) -> torch.device:
    """The device a notebook's `device` parameter names on this machine (`auto`: `cuda` when
    torch sees a GPU, else `cpu`): `ValueError` naming `device` for a bad name or a GPU this
    machine lacks, before any work."""
    return resolve_device(device)


def use_cpu_device(device: str, *, why: str) -> torch.device:
    """`use_device` for a notebook whose work runs on the CPU only: `auto` and `cpu` give the
    CPU; a GPU request is a `ValueError` saying `why` (never silently run on the CPU)."""
    check_device_name(device)
    if device not in ("auto", "cpu"):
        raise ValueError(f"device must be 'auto' or 'cpu' in this notebook ({why}), "
                         f"got {device!r}")
    return torch.device("cpu")
