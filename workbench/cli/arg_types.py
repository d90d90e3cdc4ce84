"""The command line's value types: comma-separated lists of integers, numbers and names, and seeds
as a list or a count; each raises `argparse.ArgumentTypeError` saying what it expected."""

from __future__ import annotations

import argparse

__all__ = ["float_list", "int_list", "names", "seeds"]


def int_list(text: str) -> tuple[int, ...]:
    """`1,3,5` -> (1, 3, 5)."""
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        message = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def seeds(text: str) -> tuple[int, ...]:
    """`0,1,2` -> those seeds; a lone count `3` -> (0, 1, 2); `5,` -> seed 5 alone."""
    values = int_list(text)
    if "," not in text:
        if values[0] < 1:
            raise argparse.ArgumentTypeError(f"a seed count must be >= 1, got {text!r}")
        return tuple(range(values[0]))
    return values


def float_list(text: str) -> tuple[float, ...]:
    """`0.5,0.9` -> (0.5, 0.9)."""
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def names(text: str) -> tuple[str, ...]:
    """`td3,mage` -> ("td3", "mage")."""
    values = tuple(x.strip() for x in text.split(",") if x.strip())
    if not values:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return values
