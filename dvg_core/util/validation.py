"""Argument checks shared by every public boundary of `dvg_core`.

Each check raises `ValueError` naming the parameter and what is allowed, so bad input is caught
before any work starts (DESIGN.md, "Conventions").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "check_choice",
    "check_finite",
    "check_int_at_least",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_range",
    "check_shape",
]


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_finite(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite real number, else raise `ValueError`."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    """Return `value` if it is a finite number > 0, else raise `ValueError`."""
    if check_finite(name, value) <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def check_nonnegative(name: str, value: object) -> float:
    """Return `value` if it is a finite number >= 0, else raise `ValueError`."""
    if check_finite(name, value) < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def check_range(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    low_closed: bool = True,
    high_closed: bool = True,
) -> float:
    """Return `value` if it lies in the interval from `low` to `high`, else raise `ValueError`."""
    x = check_finite(name, value)
    ok_low = x >= low if low_closed else x > low
    ok_high = x <= high if high_closed else x < high
    if not (ok_low and ok_high):
        interval = f"{'[' if low_closed else '('}{low}, {high}{']' if high_closed else ')'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return x


def check_probability(name: str, value: object) -> float:
    """Return `value` if it lies in [0, 1), else raise `ValueError`."""
    return check_range(name, value, 0.0, 1.0, high_closed=False)


def check_int_at_least(name: str, value: object, minimum: int) -> int:
    """Return `value` if it is an int >= `minimum` (bools rejected), else raise `ValueError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """Return `value` if it is one of `allowed`, else raise `ValueError` listing them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value  # type: ignore[return-value]


def check_shape(name: str, tensor: object, shape: Sequence[int | None | str]) -> torch.Tensor:
    """Check a tensor's trailing dims.

    Args:
      name: parameter name used in the error message.
      tensor: the value to check; must be a `torch.Tensor`.
      shape: expected shape; `None` matches any size, a leading `"..."` matches any number of
        leading dims.

    Returns:
      the tensor, unchanged.
    """
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    spec = list(shape)
    ellipsis = bool(spec) and spec[0] == "..."
    if ellipsis:
        spec = spec[1:]
    dims = tuple(tensor.shape)
    if (ellipsis and len(dims) < len(spec)) or (not ellipsis and len(dims) != len(spec)):
        raise ValueError(f"{name} must have shape {_fmt(shape)}, got {list(dims)}")
    tail = dims[len(dims) - len(spec):] if spec else ()
    for got, want in zip(tail, spec):
        if want is not None and got != want:
            raise ValueError(f"{name} must have shape {_fmt(shape)}, got {list(dims)}")
    return tensor


def _fmt(shape: Sequence[int | None | str]) -> str:
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
