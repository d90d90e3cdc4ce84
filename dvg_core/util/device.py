"""The one place that picks the compute device: `cuda` when available, else `cpu`."""

from __future__ import annotations

import torch

__all__ = ["default_device", "resolve_device"]


def default_device() -> torch.device:
    """`cuda` if torch sees a GPU, else `cpu`."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | None) -> torch.device:
    """Turn a config's device string into a device: None or "auto" picks `default_device()`.

    Raises:
      ValueError: an unknown name, or "cuda" on a machine without a GPU.
    """
    if name in (None, "auto"):
        return default_device()
    if name not in ("cpu", "cuda") and not str(name).startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {name!r}")
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but torch sees no GPU; use 'auto' or 'cpu'")
    return torch.device(name)
