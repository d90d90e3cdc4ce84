"""The one place that picks the compute device: `cuda` when available, else `cpu`.

A device is named by a string, `auto`, `cpu`, `cuda` or `cuda:N`: `check_device_name` checks the
spelling (no GPU needed), `resolve_device` turns it into a `torch.device` on this machine, "auto"
included, and refuses a GPU this machine does not have rather than falling back to the CPU.
"""

from __future__ import annotations

import re

import torch

__all__ = ["DEVICE_CHOICES", "check_device_name", "default_device", "gpu_count", "resolve_device"]

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N")
"""The device names a run accepts; `auto` is `cuda` when torch sees a GPU, else `cpu`."""

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_name(name: object, *, what: str = "device") -> str:
    """`name` if it is one of `DEVICE_CHOICES` (`cuda:N` with N a GPU index), else a
    `ValueError` naming `what` and the allowed values. Needs no GPU."""
    if not isinstance(name, str) or not _DEVICE.fullmatch(name):
        raise ValueError(f"{what} must be one of {', '.join(DEVICE_CHOICES)} (N a GPU index, "
                         f"from 0), got {name!r}")
    return name


def gpu_count() -> int:
    """How many CUDA GPUs torch sees (after `CUDA_VISIBLE_DEVICES`); 0 without CUDA."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_device() -> torch.device:
    """`cuda` if torch sees a GPU, else `cpu`."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | None, *, what: str = "device") -> torch.device:
    """Turn a device name into a device on this machine: None or "auto" picks `default_device()`.

    Args:
      name: one of `DEVICE_CHOICES`, or None (= "auto").
      what: the parameter's name in error messages.

    Raises:
      ValueError: a name not in `DEVICE_CHOICES`; `cuda` or `cuda:N` on a machine where torch
        sees no GPU, or fewer than N + 1 (no silent fallback to the CPU).
    """
    if name is None or check_device_name(name, what=what) == "auto":
        return default_device()
    device = torch.device(name)
    if device.type == "cuda":
        count = gpu_count()
        if count == 0:
            raise ValueError(f"{what} {name!r} needs a CUDA GPU, but torch sees none "
                             "(torch.cuda.is_available() is False); use 'auto' or 'cpu'")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{what} {name!r} names GPU {device.index}, but torch sees "
                             f"{count} (cuda:0 to cuda:{count - 1})")
    return device
