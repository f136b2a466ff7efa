"""Build the assignments: run Otter Assign on every master notebook.

For each folder ``assignments/<name>/`` holding a master notebook ``<name>.ipynb``, this writes

- ``dist/assignments/<name>/student/``: the notebook to hand out (solutions and hidden tests stripped)
  and its ``tests/`` folder of public tests;
- ``dist/assignments/<name>/<name>-student.zip``: the same two things in one file, for a course page or an LMS;
- ``dist/assignments/<name>/autograder.zip``: what ``assignments/grade.py`` (and ``otter run``) grade with;
- ``dist/assignments/<name>/autograder/``: the solution notebook and every test, public and hidden.

Otter Assign executes the solution notebook against all of its tests and fails unless it scores full marks,
so a master whose solutions do not pass its own tests is never built. This script adds a few checks of its
own on the output (no solution text or hidden test leaks into the student folder) and builds into a
scratch folder first, so a failed build leaves no half-written assignment behind.

Needs the instructor requirements (``pip install -r requirements-instructor.txt``); ``make assignments``
installs them and runs this script.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "dist" / "assignments"

# What must never reach a student: Otter's solution markers and test configuration.
LEAKS = re.compile(r"#\s*(BEGIN|END) SOLUTION|#\s*SOLUTION\b|BEGIN TESTS|BEGIN TEST CONFIG")


def masters() -> dict[str, Path]:
    """Every assignment this repository holds: ``{name: path of its master notebook}``, in name order."""
    found = {}
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        master = folder / f"{folder.name}.ipynb"
        if master.exists():
            found[folder.name] = master
    return found


def _otter() -> list[str]:
    return [sys.executable, "-m", "otter"]


def _check_student_version(name: str, built: Path) -> None:
    student = built / "student"
    notebook = student / f"{name}.ipynb"
    if not notebook.exists():
        raise RuntimeError(f"{name}: otter assign wrote no student notebook at {notebook}")
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if LEAKS.search(source):
            raise RuntimeError(f"{name}: the student notebook still holds solution or test markup:\n{source[:300]}")
    tests = sorted((student / "tests").glob("*.py"))
    if not tests:
        raise RuntimeError(f"{name}: the student version has no public tests")
    for test in tests:
        if "hidden=True" in test.read_text():
            raise RuntimeError(f"{name}: a hidden test leaked into the student's {test.name}")


def build_one(name: str, master: Path, out: Path) -> Path:
    """Run Otter Assign on one master into ``out/<name>`` and return that folder."""
    target = out / name
    scratch = out / f".{name}.building"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONHASHSEED="0", LRCOURSE_DEVICE=os.environ.get("LRCOURSE_DEVICE", "cpu"))
    run = subprocess.run([*_otter(), "assign", "-v", str(master), str(scratch)], cwd=master.parent, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        log = (run.stdout + run.stderr)[-6000:]
        raise RuntimeError(f"{name}: otter assign failed (do the master's solutions pass all its tests?)\n{log}")
    try:
        zips = sorted((scratch / "autograder").glob("*-autograder_*.zip"))
        if len(zips) != 1:
            raise RuntimeError(f"{name}: expected one autograder zip, found {[z.name for z in zips]}")
        zips[0].rename(scratch / "autograder.zip")
        _check_student_version(name, scratch)
        with zipfile.ZipFile(scratch / f"{name}-student.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted((scratch / "student").rglob("*")):
                if path.is_file():
                    bundle.write(path, path.relative_to(scratch / "student"))
    except BaseException:
        # the scratch folder holds the solutions and hidden tests: never leave it behind half-checked
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    return target


def is_stale(name: str, master: Path, out: Path) -> bool:
    """Whether ``out/<name>`` is missing or older than its master notebook."""
    built = out / name / "autograder.zip"
    return not built.exists() or built.stat().st_mtime < master.stat().st_mtime


def build(names: list[str] | None = None, out: Path = DEFAULT_OUT, jobs: int = 2, only_stale: bool = False) -> None:
    """Build the named assignments (all of them by default), ``jobs`` at a time; raise if any fails."""
    available = masters()
    names = names or list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SystemExit(f"unknown assignment {unknown}; the assignments are {list(available)}")
    if only_stale:
        names = [n for n in names if is_stale(n, available[n], out)]
    failures = []

    def one(name: str) -> None:
        try:
            target = build_one(name, available[name], out)
            print(f"built {name} into {target}")
        except RuntimeError as error:
            failures.append(str(error))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, names))
    if failures:
        raise SystemExit("\n\n".join(failures))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Run Otter Assign on every assignment master (or the named ones): student notebook, public "
        "tests and autograder zip into OUT/<name>/. Fails if a master's solutions do not pass all its tests.")
    parser.add_argument("names", nargs="*", help=f"assignments to build (default: all of {list(masters())})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: dist/assignments)")
    parser.add_argument("--jobs", type=int, default=2, help="how many to build at once (default: 2)")
    parser.add_argument("--only-stale", action="store_true",
                        help="skip assignments whose autograder.zip is newer than their master")
    args = parser.parse_args(argv)
    build(args.names, args.out.resolve(), args.jobs, args.only_stale)


if __name__ == "__main__":
    main()
