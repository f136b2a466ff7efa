"""Progress bars for the long-running functions (sweeps, the LR range test): shown when a person is watching.

``progress=None`` (the default of every public function that takes it) decides as follows:

1. The environment variable ``LRCOURSE_PROGRESS``, when set, decides: ``1`` shows bars, ``0`` hides them. The
   Makefile sets ``0``, so that executed notebooks store no bar.
2. Standard error is a terminal: a script run by hand.
3. A notebook that a person opened: in Google Colab (its kernels have ``COLAB_RELEASE_TAG`` set and
   ``google.colab`` imported) or from a Jupyter server (which sets ``JPY_SESSION_NAME`` for the kernels it
   starts).

Otherwise no bar: pytest, nbval, ``jupyter nbconvert --execute`` and nbclient start kernels without those
variables, so tests and stored outputs never hold one. The bar is tqdm's text bar on standard error, which
terminals and notebook front ends both draw in place.
"""

from __future__ import annotations

import os
import sys
from typing import Any

NOTEBOOK_VARIABLES = ("COLAB_RELEASE_TAG", "JPY_SESSION_NAME")


def show_progress(progress: Any) -> bool:
    """Whether to draw a bar: ``progress`` when it is True or False, else the rules of the module docstring."""
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be True, False or None, got {progress!r} of type {type(progress).__name__}")
        return progress
    setting = os.environ.get("LRCOURSE_PROGRESS", "").strip()
    if setting:
        if setting not in ("0", "1"):
            raise ValueError(f"LRCOURSE_PROGRESS must be 0 or 1, got {setting!r}")
        return setting == "1"
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is not None and isatty():
        return True
    return any(os.environ.get(name) for name in NOTEBOOK_VARIABLES) or "google.colab" in sys.modules


def progress_bar(progress: Any, total: int, desc: str, unit: str):
    """A tqdm bar over ``total`` units on standard error, disabled unless :func:`show_progress` says so."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not show_progress(progress), file=sys.stderr, leave=False)
