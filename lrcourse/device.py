"""Choosing where torch code runs: CUDA, then Apple's MPS, then the CPU.

Every chapter that trains a torch model calls :func:`get_device` once and moves its model and data
there, so the same notebook uses a GPU on Colab and the CPU on a laptop or in CI.
"""

from __future__ import annotations

import os

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
        try:
            device = torch.device(override)
        except RuntimeError as err:
            raise ValueError(f"LRCOURSE_DEVICE must name a torch device, got {override!r}") from err
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if not available.get(device.type, False):
            raise ValueError(f"LRCOURSE_DEVICE names a device that is not available here, got {override!r}")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
