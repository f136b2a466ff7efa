"""Small helpers for the book's notebooks, so that a chapter runs the same in the book, in CI and in Colab.

:func:`glue` stores a value computed in a notebook under a name that the page's prose quotes
(``{glue:text}`name:.3f```). It uses myst-nb's ``glue`` when myst-nb is installed (building the book,
running nbval) and simply shows the value otherwise (Colab), so no chapter needs the book tool-chain to run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["glue"]


def glue(name: str, value: Any, display: bool = True) -> None:
    """Store ``value`` under ``name`` for the book's prose; show it unless ``display`` is false.

    Parameters
    ----------
    name : str
        The key that the page's markdown refers to with ``{glue:text}`` or ``{glue:}``.
    value : object
        A number (numpy scalars are stored as Python numbers), a string or a matplotlib figure.
    display : bool
        Also show the value in the notebook's output.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if isinstance(value, np.generic):
        # numpy 2 shows scalars as "np.float64(0.5)", which the book's {glue:text}`name:.3f` cannot format.
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab or a bare Jupyter: nothing to glue into, so just show it
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
