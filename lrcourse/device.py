"""Choosing where torch code runs: CUDA, then Apple's MPS, then the CPU.

Every chapter that trains a torch model calls :func:`get_device` once and moves its model and data
there, so the same notebook uses a GPU on Colab and the CPU on a laptop or in CI.
"""

from __future__ import annotations

import os
from typing import Any

import torch

__all__ = ["get_device"]


def get_device() -> torch.device:
    """Return the best available ``torch.device``: CUDA, else MPS, else CPU.

    The environment variable ``LRCOURSE_DEVICE`` overrides the choice (for example
    ``LRCOURSE_DEVICE=cpu`` to reproduce CI on a GPU machine); an unknown or unavailable device
    named there raises ``ValueError``.

    Examples
    --------
    >>> import os
    >>> os.environ["LRCOURSE_DEVICE"] = "cpu"
    >>> get_device()
    device(type='cpu')
    >>> del os.environ["LRCOURSE_DEVICE"]
    """
    override = os.environ.get("LRCOURSE_DEVICE", "").strip()
    if override:
        return resolve_device(override, "LRCOURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _available(device: torch.device) -> bool:
    """Whether torch can run on ``device`` here (its type, and for CUDA its index)."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count())
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False


def resolve_device(device: Any, name: str = "device") -> torch.device:
    """The ``torch.device`` for a function's ``device`` argument: :func:`get_device` for None, else the device
    named by a string or ``torch.device``, which must be available here (``TypeError``/``ValueError`` naming the
    argument otherwise).

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return get_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a torch.device, a string such as 'cpu', or None, got {device!r}")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"{name} must name a torch device, got {device!r}") from err
    if not _available(resolved):
        raise ValueError(f"{name} names a device that is not available here, got {device!r}")
    return resolved
