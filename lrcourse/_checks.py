"""Argument checks shared by every module.

Each check raises ``ValueError`` (or ``TypeError`` for a value of the wrong kind) whose message names
the argument and repeats the value received, e.g. ``lr must be a finite number >= 0, got nan``.
Checks run before any state changes, so a failed call leaves everything as it was.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

__all__ = [
    "check_number",
    "check_nonnegative",
    "check_positive",
    "check_unit_interval",
    "check_beta",
    "check_int",
    "check_choice",
    "check_sorted",
    "check_steps",
]


def check_number(name: str, value: Any) -> float:
    """Return ``value`` as a float; a bool, a non-number or NaN/inf raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    """A finite number ``>= 0`` (learning rates, weight decay)."""
    value = check_number(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """A finite number ``> 0`` (eps, factors that divide)."""
    value = check_number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_unit_interval(name: str, value: Any, *, low_open: bool = False, high_open: bool = False) -> float:
    """A number in [0, 1], with either end optionally open."""
    value = check_number(name, value)
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not (low_ok and high_ok):
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_beta(name: str, value: Any) -> float:
    """An averaging coefficient in [0, 1)."""
    return check_unit_interval(name, value, high_open=True)


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """An integer (numpy integers accepted, bools refused), optionally ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_sorted(name: str, values: Sequence[Any], *, strict: bool = True) -> list:
    """A sequence sorted in increasing order (strictly, by default)."""
    values = list(values)
    for a, b in zip(values, values[1:]):
        if (b <= a) if strict else (b < a):
            raise ValueError(f"{name} must be sorted in increasing order, got {values!r}")
    return values


def check_steps(t: Any, name: str = "t") -> np.ndarray | int:
    """A step count ``t >= 0``: a Python/numpy integer, or an integer array with no negative entry.

    Returns an ``int`` for a scalar and an ``int64`` array for an array.
    """
    if isinstance(t, np.ndarray):
        if t.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {t.dtype}")
        if t.size and t.min() < 0:
            raise ValueError(f"{name} must be >= 0, got {t.min()!r} in the array")
        return t.astype(np.int64)
    return check_int(name, t, minimum=0)
