"""lrcourse.notebook.glue: what a chapter stores for the book's prose."""

import numpy as np
import pytest

from lrcourse.notebook import glue


def test_numpy_scalars_are_stored_as_python_numbers(monkeypatch):
    shown = []
    monkeypatch.setattr("myst_nb.ext.glue.ipy_display", lambda data, **kwargs: shown.append(data))
    glue("x", np.float64(0.25), display=False)
    (data,) = shown
    # myst-nb stores hidden values under a prefixed mime type; the text must be a plain number to be formatted.
    assert [v for k, v in data.items() if k.endswith("text/plain")] == ["0.25"]


def test_bad_name():
    with pytest.raises(ValueError, match="name must be a non-empty string, got ''"):
        glue("", 1.0)
