"""A fresh Python environment without lrcourse, as on Colab, for tests of the install-from-the-repository path.

It borrows this environment's other packages through links (so nothing is downloaded) and sets pip up to
install lrcourse from a local clone with no package index; ``prefix`` is ``["unshare", "-n"]`` where this
machine can cut the network off entirely.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FreshEnvironment:
    python: Path  # the fresh interpreter
    site: Path  # its site-packages, where lrcourse must end up
    env: dict[str, str]  # the environment variables to run it with
    prefix: list[str]  # prepended to commands that must run with no network


def fresh_environment(tmp_path: Path) -> FreshEnvironment:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for name in ("lrcourse", "pyproject.toml", "README.md"):  # uncommitted package edits count too
        target = clone / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    shutil.rmtree(clone / "lrcourse" / "__pycache__", ignore_errors=True)

    # No pip or setuptools of its own: it borrows this environment's (newer) ones through the links below.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    shadow = tmp_path / "deps"
    shadow.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "lrcourse" not in entry.name.lower() and entry.suffix != ".pth":
            (shadow / entry.name).symlink_to(entry)
    (site / "course-deps.pth").write_text(f"{shadow}\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "JPY_"))}
    env.update(LRCOURSE_SOURCE=str(clone), PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull,
               PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
    prefix = []
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["unshare", "-n"]  # no network at all, not just no package index
    check = subprocess.run([python, "-c", "import importlib.util; print(importlib.util.find_spec('lrcourse'))"],
                           capture_output=True, text=True, cwd=tmp_path, env=env)
    assert check.stdout.strip() == "None", "the fresh environment must start without lrcourse"
    return FreshEnvironment(python=python, site=site, env=env, prefix=prefix)
