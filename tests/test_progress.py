"""When the long-running functions draw a progress bar (lrcourse._progress): asked, a terminal, or a notebook
that a person opened (Colab, a Jupyter server); never under tests or executed notebooks; LRCOURSE_PROGRESS decides
when set."""

import io
import sys

import pytest

from lrcourse._progress import progress_bar, show_progress

VARIABLES = ("LRCOURSE_PROGRESS", "COLAB_RELEASE_TAG", "JPY_SESSION_NAME")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clean(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    return monkeypatch


def test_nothing_set_and_no_terminal_means_no_bar(clean):
    assert show_progress(None) is False


def test_terminal_shows_a_bar(clean):
    clean.setattr(sys, "stderr", _Terminal())
    assert show_progress(None) is True


@pytest.mark.parametrize("name, value", [("COLAB_RELEASE_TAG", "release-colab_20261101-060000_RC00"),
                                         ("JPY_SESSION_NAME", "/home/me/adam.ipynb")])
def test_notebook_opened_by_a_person_shows_a_bar(clean, name, value):
    clean.setenv(name, value)
    assert show_progress(None) is True
    clean.setenv(name, "")  # set but empty counts as unset
    assert show_progress(None) is False


@pytest.mark.parametrize("setting, terminal, notebook, expected", [
    ("0", True, True, False), ("1", False, False, True), (" 1 ", False, False, True)])
def test_the_environment_variable_decides(clean, setting, terminal, notebook, expected):
    clean.setenv("LRCOURSE_PROGRESS", setting)
    if terminal:
        clean.setattr(sys, "stderr", _Terminal())
    if notebook:
        clean.setenv("COLAB_RELEASE_TAG", "x")
    assert show_progress(None) is expected


@pytest.mark.parametrize("progress", [True, False])
def test_an_explicit_choice_wins(clean, progress):
    clean.setenv("LRCOURSE_PROGRESS", "1" if not progress else "0")
    assert show_progress(progress) is progress


def test_bad_values_name_themselves(clean):
    with pytest.raises(TypeError, match="progress must be True, False or None, got 1 of type int"):
        show_progress(1)
    clean.setenv("LRCOURSE_PROGRESS", "yes")
    with pytest.raises(ValueError, match="LRCOURSE_PROGRESS must be 0 or 1, got 'yes'"):
        show_progress(None)


def test_the_bar_writes_to_standard_error_only_when_shown(clean):
    stream = clean.setattr(sys, "stderr", io.StringIO()) or sys.stderr
    with progress_bar(False, 3, "quiet", unit="step") as bar:
        bar.update(3)
    assert stream.getvalue() == ""
    with progress_bar(True, 3, "loud", unit="step") as bar:
        bar.update(3)
    assert "loud" in stream.getvalue() and "/3" in stream.getvalue()
