"""The book's contract with its chapters: the shared set-up cell, the repository URL, stored outputs.

The set-up cell is the first code cell of every chapter. On a machine without ``lrcourse`` (Colab) it installs
the package from the repository named in ``_config.yml``; ``test_setup_cell_installs_from_a_local_clone_offline``
runs that very cell in a fresh virtual environment with the network cut off, installing from a local clone.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from fresh_env import fresh_environment

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY_URL = CONFIG["repository"]["url"]


def _toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from _toc_files(entry.get("chapters", []) + entry.get("sections", []) + entry.get("parts", []))


TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
TOC_FILES = [TOC["root"], *_toc_files(TOC["parts"])]
CHAPTERS = sorted(ROOT / f"{name}.ipynb" for name in TOC_FILES if (ROOT / f"{name}.ipynb").exists())


def _code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_every_toc_entry_exists():
    for name in TOC_FILES:
        assert (ROOT / f"{name}.md").exists() or (ROOT / f"{name}.ipynb").exists(), name


def test_there_are_chapters():
    assert CHAPTERS, "no notebook chapters listed in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_code_cell_is_the_shared_setup_cell(path):
    first = _source(_code_cells(path)[0])
    reference = _source(_code_cells(CHAPTERS[0])[0])
    assert first == reference, f"{path.name}: the set-up cell differs from {CHAPTERS[0].name}'s"
    assert f'"git+{REPOSITORY_URL}"' in first, "the set-up cell must install from _config.yml's repository URL"
    assert first.rstrip().endswith("import lrcourse")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_are_from_one_clean_run(path):
    cells = _code_cells(path)
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1)), "re-execute with make notebooks"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name} stores an error output"
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert "Traceback" not in text and "Warning:" not in text, f"{path.name} stores a warning: {text[:200]}"
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code" and "plt." in _source(cell):
            # A figure is shown with plt.show(); an animation's figure is closed after rendering it to HTML.
            assert "plt.show()" in _source(cell) or "plt.close(" in _source(cell), (
                f"{path.name}: a plotting cell should end with plt.show()")


def test_setup_cell_installs_from_a_local_clone_offline(tmp_path):
    fresh = fresh_environment(tmp_path)
    cell = _source(_code_cells(CHAPTERS[0])[0])
    program = cell + "\nprint('LRCOURSE_AT', lrcourse.__file__)\n"
    run = subprocess.run([*fresh.prefix, str(fresh.python), "-c", program], capture_output=True, text=True,
                         cwd=tmp_path, env=fresh.env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    installed_at = re.search(r"LRCOURSE_AT (.+)", run.stdout).group(1)
    assert Path(installed_at).is_relative_to(fresh.site), installed_at
