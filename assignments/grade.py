"""Grade a folder of submitted notebooks against one assignment's autograder, without Docker.

usage: python assignments/grade.py ASSIGNMENT SUBMISSIONS [--timeout SECONDS] [--jobs N]

Every ``*.ipynb`` directly inside SUBMISSIONS is graded by ``otter``'s local runner (the one behind
``otter run``), each in a process of its own that is killed, with the Jupyter kernel it started, once it
runs past the time limit. Results:

- ``SUBMISSIONS/grades.csv``: one row per submission, one column per autograded question, then ``total``,
  ``possible`` and ``error``. A submission that cannot be graded (not a notebook, a kernel that dies, an
  endless loop) still gets its row: zero for every question and the reason in ``error``.
- ``SUBMISSIONS/feedback/<submission>.txt``: the result of every test, public and hidden, with the message
  of each failed one.

Student code is untrusted. It runs in a scratch copy (a fresh temporary folder per submission that is also
its working directory and its ``TMPDIR``), never in the instructor's folder, and the submitted file itself
is only read, and its process inherits only the environment variables Python and lrcourse need (not, say,
an API token of yours). This keeps a stray ``open(..., "w")`` or an endless loop away from your files and from
the other submissions; it is not a security sandbox (for that, run Otter's Docker grading).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIST = HERE.parent / "dist" / "assignments"
DEFAULT_TIMEOUT = 300.0


def questions(autograder: Path) -> dict[str, float]:
    """The autograded questions of an autograder zip and their points, in question order."""
    from otter.test_files import ExceptionTestFile

    found = {}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(autograder) as bundle:
        names = sorted(n for n in bundle.namelist() if n.startswith("tests/") and n.endswith(".py"))
        for name in names:
            path = Path(bundle.extract(name, tmp))
            test_file = ExceptionTestFile.from_file(str(path))
            found[test_file.name] = float(test_file.possible)
    if not found:
        raise SystemExit(f"{autograder} holds no tests")
    return found


# ------------------------------------------------------------------------------------------ the worker
def _worker(autograder: str, submission: str, result_path: str) -> None:
    """Grade one notebook in this process (run in the scratch folder) and write the result as JSON."""
    import contextlib
    import io

    from otter.api import grade_submission

    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        results = grade_submission(submission, autograder, quiet=True)
    error = getattr(results, "_catastrophic_error", None)
    report = {
        "questions": {name: {"score": float(tf.score), "possible": float(tf.possible)}
                      for name, tf in results.results.items()},
        "feedback": results.summary(),
        "error": None if error is None else f"{type(error).__name__}: {error}",
    }
    Path(result_path).write_text(json.dumps(report))


# ------------------------------------------------------------------------------------------ the parent
def _kill_tree(process: subprocess.Popen) -> None:
    """Kill a worker and everything it started; the Jupyter kernel runs in a session of its own."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for proc in [*children]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.wait()
    psutil.wait_procs(children, timeout=10)


def _kill_leftovers(scratch: Path) -> None:
    """Kill any process still working inside a submission's scratch folder (a kernel its grader left behind)."""
    import psutil

    root = os.path.realpath(scratch)
    for proc in psutil.process_iter():
        try:
            cwd = proc.cwd()
            if cwd == root or cwd.startswith(root + os.sep):
                proc.kill()
        except (psutil.Error, OSError):
            continue


#: The environment variables a submission's process inherits (the rest of the instructor's environment stays out).
_PASSED_ON = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "VIRTUAL_ENV",
              "PYTHONPATH", "SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR"}
_PASSED_ON_PREFIXES = ("LC_", "LRCOURSE_", "OMP_", "MKL_", "OPENBLAS_", "XDG_")


def grade_one(submission: Path, autograder: Path, timeout: float) -> dict:
    """Grade one submission in its own process and scratch folder; never raises for a bad submission."""
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="lrcourse-grade-"))
    outbox = Path(tempfile.mkdtemp(prefix="lrcourse-result-"))
    try:
        work = scratch / "work"
        work.mkdir()
        copy = work / submission.name
        shutil.copyfile(submission, copy)
        shutil.copyfile(autograder, scratch / "autograder.zip")
        result_path = outbox / "result.json"
        # only what Python, the notebook and lrcourse need: no tokens or keys of the instructor's session
        env = {k: v for k, v in os.environ.items() if k in _PASSED_ON or k.startswith(_PASSED_ON_PREFIXES)}
        env.update(TMPDIR=str(scratch), TEMP=str(scratch), TMP=str(scratch), PYTHONHASHSEED="0",
                   LRCOURSE_DEVICE=os.environ.get("LRCOURSE_DEVICE", "cpu"), MPLBACKEND="agg")
        command = [sys.executable, str(Path(__file__).resolve()), "--worker",
                   str(scratch / "autograder.zip"), str(copy), str(result_path)]
        process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, text=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            return {"error": f"timed out after {timeout:g} s (an endless loop, or far too slow)"}
        finally:
            if process.poll() is None:
                _kill_tree(process)
        if process.returncode != 0 or not result_path.exists():
            lines = [line for line in (output or "").strip().splitlines() if line.strip()]
            reason = lines[-1] if lines else f"the grader exited with status {process.returncode}"
            return {"error": f"grading failed: {reason}"[:500]}
        report = json.loads(result_path.read_text())
        report["seconds"] = round(time.monotonic() - started, 1)
        return report
    finally:
        _kill_leftovers(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(outbox, ignore_errors=True)


def _feedback(name: str, assignment: str, row: dict, possible: dict[str, float], report: dict) -> str:
    lines = [f"Feedback for {name} ({assignment})", ""]
    for question, points in possible.items():
        lines.append(f"  {question}: {row[question]:g} / {points:g}")
    lines += [f"  total: {row['total']:g} / {row['possible']:g}", ""]
    if row["error"]:
        lines += [f"Not graded in full ({row['error']}): zero for every question without a result.", ""]
    if report.get("feedback"):
        lines += ["Test results (public and hidden):", "", report["feedback"]]
    return "\n".join(lines).rstrip() + "\n"


def grade(assignment: str, submissions: Path, dist: Path = DEFAULT_DIST, timeout: float = DEFAULT_TIMEOUT,
          jobs: int = 1) -> list[dict]:
    """Grade every notebook in ``submissions``; write grades.csv and feedback/; return the rows."""
    autograder = dist / assignment / "autograder.zip"
    if not autograder.exists():
        raise SystemExit(f"no autograder at {autograder}: build it first with `make assignments`")
    submissions = submissions.resolve()
    if not submissions.is_dir():
        raise SystemExit(f"SUBMISSIONS must be a folder of .ipynb files, got {submissions}")
    notebooks = sorted(p for p in submissions.glob("*.ipynb") if p.is_file())
    if not notebooks:
        raise SystemExit(f"no .ipynb files in {submissions}")
    possible = questions(autograder)

    def one(path: Path) -> dict:
        report = grade_one(path, autograder, timeout)
        scores = report.get("questions", {})
        row = {"submission": path.name}
        for question, points in possible.items():
            row[question] = float(scores.get(question, {}).get("score", 0.0))
        row["total"] = round(sum(row[q] for q in possible), 6)
        row["possible"] = sum(possible.values())
        missing = [q for q in possible if q not in scores]
        error = report.get("error") or (f"no result for {', '.join(missing)}" if missing else "")
        row["error"] = error
        print(f"{path.name}: {row['total']:g} / {row['possible']:g}" + (f"  ({error})" if error else ""), flush=True)
        feedback_dir = submissions / "feedback"
        feedback_dir.mkdir(exist_ok=True)
        (feedback_dir / f"{path.stem}.txt").write_text(_feedback(path.name, assignment, row, possible, report))
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(one, notebooks))
    with open(submissions / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", *possible, "total", "possible", "error"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        _worker(*argv[1:])
        return
    parser = argparse.ArgumentParser(
        description="Grade every .ipynb in SUBMISSIONS against ASSIGNMENT's autograder (dist/assignments/"
        "ASSIGNMENT/autograder.zip, built by `make assignments`). Writes SUBMISSIONS/grades.csv and "
        "SUBMISSIONS/feedback/<name>.txt. Each submission runs in its own process and scratch folder, "
        "killed after --timeout seconds; one that crashes or loops still gets a row, with the reason.")
    parser.add_argument("assignment", help="the assignment's name, e.g. optimization")
    parser.add_argument("submissions", type=Path, help="folder holding the submitted .ipynb files")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds allowed per submission (default: {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default: 1)")
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST,
                        help="where the built assignments are (default: dist/assignments)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be > 0, got {args.timeout}")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    rows = grade(args.assignment, args.submissions, args.dist.resolve(), args.timeout, args.jobs)
    print(f"wrote {args.submissions / 'grades.csv'} ({len(rows)} submissions) and {args.submissions / 'feedback'}/")


if __name__ == "__main__":
    main()
