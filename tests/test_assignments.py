"""The instructor assignments (``assignments/``): built with Otter Assign, graded locally without Docker.

What is checked, against scores worked out by hand rather than by the code under test:

- every master builds (Otter Assign refuses a master whose solutions miss a point of its own tests), and the
  student version holds no solution and no hidden test;
- grading gives the solution version full marks, the untouched student version zero, and a version with one
  planted bug per assignment partial marks: the question with the bug loses points, every other keeps all;
- a submission that loops forever, one whose kernel dies and one that is not a notebook each get a row with
  zeros and the reason, next to a good one that gets full marks, and no process is left behind;
- in a fresh environment where ``lrcourse`` is installed from a clone of this repository by the notebook's own
  set-up cell (as on Colab, with the network cut off), the student notebooks run and their public checks work:
  they report the failures of the untouched notebook and pass with the solutions filled in.

The instructor tools (otter-grader) come from ``requirements-instructor.txt``; ``make test`` installs them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from fresh_env import fresh_environment

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ROOT / "assignments"
NAMES = ["initialization-and-regularization", "gradient-checking", "optimization", "learning-rate-schedules"]

# Expected points per question, as the questions' prompts announce them.
POINTS = {
    "initialization-and-regularization": {"q1_he_init": 4, "q2_l2_cost": 4, "q3_l2_backward": 4, "q4_dropout": 5,
                                          "q5_pick_lambda": 2},
    "gradient-checking": {"q1_numerical_gradient": 4, "q2_relative_error": 3, "q3_gradient_check": 4,
                          "q4_find_the_bug": 3},
    "optimization": {"q1_mini_batches": 5, "q2_momentum": 4, "q3_adam": 7, "q4_race": 2},
    "learning-rate-schedules": {"q1_inverse_time": 4, "q2_staircase": 4, "q3_cosine_warmup": 6,
                                "q4_pick_max_lr": 3},
}

# One planted bug per assignment: (text in the solution, its buggy replacement) pairs, and the score of every
# question it changes, counted by hand from the tests that still pass (the other questions keep full marks).
BUGS = {
    # inverted dropout without the 1 / keep_prob: the mask, keep-fraction and backward tests still pass
    "initialization-and-regularization": ([("A_drop = A * D / keep_prob", "A_drop = A * D")], {"q4_dropout": 3}),
    # the relative error divided by ||a|| only: the worked example and the symmetry check fail, and so does the
    # gradient check's test of an exact relative error (it calls relative_error); its 3 other points stay
    "gradient-checking": ([("/ (np.linalg.norm(a) + np.linalg.norm(b)))", "/ np.linalg.norm(a))")],
                          {"q2_relative_error": 0, "q3_gradient_check": 3}),
    # Adam without bias correction: only the test of the raw moments m and v still passes
    "optimization": ([("m_hat = new_m[name] / (1 - beta1 ** t)", "m_hat = new_m[name]"),
                      ("v_hat = new_v[name] / (1 - beta2 ** t)", "v_hat = new_v[name]")], {"q3_adam": 1}),
    # the staircase rounds instead of flooring, so it drops half a step early: every staircase test fails
    "learning-rate-schedules": ([("np.floor(", "np.round(")], {"q2_staircase": 0}),
}
# The assignment whose grading run also holds submissions that loop forever, kill their kernel, or are no notebook.
TROUBLE = "gradient-checking"
TROUBLE_TIMEOUT = 60

FIRST_CHAPTER_SETUP_MARK = "# Set-up: use the installed lrcourse, or install it from the book's repository first"

try:
    import otter  # noqa: F401
except ImportError as error:  # pragma: no cover - a set-up error, reported as a failure with the fix
    raise ImportError("tests/test_assignments.py needs the instructor tools: make instructor "
                      "(or pip install -r requirements-instructor.txt)") from error


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    run = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert run.returncode == 0, f"{' '.join(map(str, command))} failed:\n{(run.stdout + run.stderr)[-4000:]}"
    return run


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """All four assignments built by the same script as ``make assignments``, into a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, str(ASSIGNMENTS / "build.py"), "--out", str(out), "--jobs", "2"], cwd=ROOT)
    return out


def _planted_bug(solution: dict, name: str) -> dict:
    nb = json.loads(json.dumps(solution))
    for old, new in BUGS[name][0]:
        hits = [cell for cell in nb["cells"] if cell["cell_type"] == "code" and old in _source(cell)]
        assert len(hits) == 1, f"{name}: the planted bug's anchor {old!r} should occur once, found {len(hits)}"
        hits[0]["source"] = _source(hits[0]).replace(old, new)
    return nb


def _with_cell(solution: dict, source: str) -> dict:
    """The solution with one more code cell after the first question's check."""
    nb = json.loads(json.dumps(solution))
    first_check = next(i for i, c in enumerate(nb["cells"]) if _source(c).startswith("grader.check("))
    nb["cells"].insert(first_check + 1, {"cell_type": "code", "execution_count": None, "id": "extra-cell",
                                         "metadata": {}, "outputs": [], "source": source})
    return nb


@pytest.fixture(scope="module")
def graded(dist, tmp_path_factory) -> dict[str, tuple[Path, dict[str, dict[str, str]]]]:
    """Each assignment graded by the same script as ``make grade``: {name: (folder, grades.csv rows by file)}.

    Every folder holds the solution, the untouched student notebook and the planted bug; the TROUBLE folder
    also holds a submission that loops forever, one that kills its kernel and one that is not a notebook.
    """
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    graded = {}
    for name in NAMES:
        folder = tmp_path_factory.mktemp(name)
        solution = _read(dist / name / "autograder" / f"{name}.ipynb")
        (folder / "solution.ipynb").write_text(json.dumps(solution))
        shutil.copy(dist / name / "student" / f"{name}.ipynb", folder / "untouched.ipynb")
        (folder / "planted-bug.ipynb").write_text(json.dumps(_planted_bug(solution, name)))
        timeout = 600
        if name == TROUBLE:
            (folder / "looping.ipynb").write_text(json.dumps(_with_cell(solution, "while True:\n    pass")))
            (folder / "dying.ipynb").write_text(json.dumps(_with_cell(solution, "import os\nos._exit(3)")))
            (folder / "garbage.ipynb").write_text("this is not a notebook")
            # kills its kernel (so scores nothing) only if it can see the instructor's secret
            (folder / "prying.ipynb").write_text(json.dumps(_with_cell(
                solution, f"import os\nif {SECRET!r} in os.environ:\n    os._exit(3)")))
            timeout = TROUBLE_TIMEOUT
        _run([sys.executable, str(ASSIGNMENTS / "grade.py"), name, str(folder), "--dist", str(dist),
              "--jobs", "2", "--timeout", str(timeout)], cwd=ROOT, env=dict(os.environ, **{SECRET: "s3cr3t"}))
        with open(folder / "grades.csv", newline="") as f:
            graded[name] = (folder, {row["submission"]: row for row in csv.DictReader(f)})
    leftovers = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not leftovers, f"grading left processes behind: {[p.cmdline() for p in leftovers]}"
    return graded


#: An environment variable of the instructor's session that submissions must not see.
SECRET = "INSTRUCTOR_API_TOKEN"


def _scores(row: dict[str, str], name: str) -> dict[str, float]:
    return {q: float(row[q]) for q in POINTS[name]}


# ------------------------------------------------------------------------------------------ the masters
def test_there_is_one_master_per_assignment():
    found = sorted(p.name for p in ASSIGNMENTS.iterdir() if (p / f"{p.name}.ipynb").exists())
    assert found == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_master_starts_like_a_chapter_and_declares_its_points(name):
    nb = _read(ASSIGNMENTS / name / f"{name}.ipynb")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    setup = _source(code[0])
    assert setup.startswith(FIRST_CHAPTER_SETUP_MARK) and setup.rstrip().endswith("import lrcourse")
    chapters = sorted((ROOT / "book").rglob("*.ipynb"))
    chapters = [p for p in chapters if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts]
    assert chapters, "no chapter notebooks to compare the set-up cell with"
    chapter_setup = _source([c for c in _read(chapters[0])["cells"] if c["cell_type"] == "code"][0])
    assert setup == chapter_setup, f"{name}: the set-up cell differs from the chapters' ({chapters[0].name})"
    questions = {}
    for cell in nb["cells"]:
        match = re.match(r"# BEGIN QUESTION\nname: (\w+)\npoints: (\d+)$", _source(cell))
        if cell["cell_type"] == "raw" and match:
            questions[match.group(1)] = int(match.group(2))
    autograded = {q: p for q, p in questions.items() if q in POINTS[name]}
    assert autograded == POINTS[name]
    for question, points in POINTS[name].items():
        assert f"({points} points)" in "".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"), (
            f"{name}: the prompt of {question} should announce its {points} points")
    config = yaml.safe_load(_source(nb["cells"][0]).split("\n", 1)[1])
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert config["name"] == name and config["requirements"] == [f"lrcourse @ git+{repository}"], (
        "Docker grading installs lrcourse from the book's repository, named in _config.yml")
    answers = r"\b(init|regularization|gradcheck|optim|inverse_time_decay|cosine_decay|step_decay|warmup)\b"
    for cell in code:
        for line in _source(cell).splitlines():
            if re.match(r"\s*(from|import)\s+lrcourse", line):
                assert not re.search(answers, line), f"{name}: import lrcourse for scaffolding, not answers: {line}"


# ------------------------------------------------------------------------------------------ the build
@pytest.mark.parametrize("name", NAMES)
def test_build_writes_student_version_and_autograder(dist, name):
    built = dist / name
    assert (built / "autograder.zip").is_file()
    assert (built / f"{name}-student.zip").is_file()
    student = _read(built / "student" / f"{name}.ipynb")
    text = json.dumps(student)
    for leak in ("BEGIN SOLUTION", "# SOLUTION", "BEGIN TESTS", "hidden: true"):
        assert leak not in text, f"{name}: the student notebook leaks {leak!r}"
    public = sorted((built / "student" / "tests").glob("*.py"))
    assert [p.stem for p in public] == sorted(POINTS[name])
    for path in public:
        assert "hidden=True" not in path.read_text()
        assert "hidden=False" in path.read_text(), f"{path.name}: every question needs a public test"
    for path in sorted((built / "autograder" / "tests").glob("*.py")):
        assert "hidden=True" in path.read_text(), f"{path.name}: every question needs a hidden test"
    answer_cells = [c for c in student["cells"] if "otter_answer_cell" in c.get("metadata", {}).get("tags", [])]
    assert answer_cells and all("..." in _source(c) or c["cell_type"] == "markdown" for c in answer_cells)


# ------------------------------------------------------------------------------------------ the grades
@pytest.mark.parametrize("name", NAMES)
def test_grades_csv_has_a_row_per_submission_and_a_column_per_question(graded, name):
    folder, rows = graded[name]
    with open(folder / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["submission", *POINTS[name], "total", "possible", "error"]
    expected = ["planted-bug.ipynb", "solution.ipynb", "untouched.ipynb"]
    if name == TROUBLE:
        expected = sorted([*expected, "dying.ipynb", "garbage.ipynb", "looping.ipynb", "prying.ipynb"])
    assert sorted(rows) == expected
    assert sorted(p.stem for p in (folder / "feedback").iterdir()) == sorted(Path(e).stem for e in expected)
    assert {p.name for p in folder.iterdir()} == {*expected, "grades.csv", "feedback"}, (
        "student code must run in a scratch copy, never in the submissions folder")
    assert all(float(row["possible"]) == sum(POINTS[name].values()) for row in rows.values())


@pytest.mark.parametrize("name", NAMES)
def test_solution_gets_full_marks(graded, name):
    folder, rows = graded[name]
    row = rows["solution.ipynb"]
    assert _scores(row, name) == POINTS[name] and float(row["total"]) == sum(POINTS[name].values())
    assert not row["error"]
    assert "All test cases passed" in (folder / "feedback" / "solution.txt").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_version_gets_no_marks(graded, name):
    folder, rows = graded[name]
    row = rows["untouched.ipynb"]
    assert _scores(row, name) == dict.fromkeys(POINTS[name], 0.0) and float(row["total"]) == 0
    assert not row["error"], "an unanswered notebook is graded (zero), not an error"
    feedback = (folder / "feedback" / "untouched.txt").read_text()
    assert f"total: 0 / {sum(POINTS[name].values())}" in feedback and "Test case failed" in feedback


@pytest.mark.parametrize("name", NAMES)
def test_planted_bug_gets_partial_marks(graded, name):
    folder, rows = graded[name]
    row = rows["planted-bug.ipynb"]
    expected = {**POINTS[name], **BUGS[name][1]}
    assert _scores(row, name) == expected
    full = sum(POINTS[name].values())
    assert 0 < float(row["total"]) == sum(expected.values()) < full and not row["error"]
    assert "Test case failed" in (folder / "feedback" / "planted-bug.txt").read_text()


def test_a_looping_or_crashing_submission_gets_a_row_and_never_stops_the_others(graded):
    folder, rows = graded[TROUBLE]
    full = sum(POINTS[TROUBLE].values())
    assert float(rows["solution.ipynb"]["total"]) == full and not rows["solution.ipynb"]["error"]
    looping = rows["looping.ipynb"]
    assert _scores(looping, TROUBLE) == dict.fromkeys(POINTS[TROUBLE], 0.0) and float(looping["total"]) == 0
    assert looping["error"] == f"timed out after {TROUBLE_TIMEOUT} s (an endless loop, or far too slow)"
    for crashed in ("dying.ipynb", "garbage.ipynb"):
        assert float(rows[crashed]["total"]) == 0 and rows[crashed]["error"], rows[crashed]
        assert "timed out" not in rows[crashed]["error"]
    assert "timed out" in (folder / "feedback" / "looping.txt").read_text()


def test_submissions_do_not_see_the_instructors_environment(graded):
    _, rows = graded[TROUBLE]
    prying = rows["prying.ipynb"]
    assert float(prying["total"]) == sum(POINTS[TROUBLE].values()) and not prying["error"], prying


def test_grade_script_explains_itself():
    run = _run([sys.executable, str(ASSIGNMENTS / "grade.py"), "--help"], cwd=ROOT)
    assert "grades.csv" in run.stdout and "--timeout" in run.stdout
    run = subprocess.run([sys.executable, str(ASSIGNMENTS / "grade.py"), "no-such-assignment", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0 and "make assignments" in run.stderr


# ------------------------------------------------------------------------------------------ as on Colab
def _fresh_environment(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A venv without lrcourse that reuses this environment's other packages, and a kernel that runs in it."""
    fresh = fresh_environment(tmp_path)
    python = fresh.python

    kernel = tmp_path / "jupyter" / "kernels" / "fresh"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python"}))
    env = dict(fresh.env, JUPYTER_PATH=str(tmp_path / "jupyter"), MPLBACKEND="agg", LRCOURSE_DEVICE="cpu")
    return python, env, fresh.prefix


# Runs one notebook in the fresh environment's kernel. The kernel talks over Unix sockets (IPC transport):
# inside `unshare -n` there is no network, not even a loopback interface.
EXECUTE = """
import sys, nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
km = KernelManager(kernel_name="fresh", transport="ipc")
NotebookClient(nb, km=km, allow_errors=True, timeout=600, resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


def _outputs(cell: dict) -> str:
    text = []
    for output in cell.get("outputs", []):
        text.append("".join(output.get("text", "")))
        text.append("".join(output.get("data", {}).get("text/plain", "")))
        if output["output_type"] == "error":
            text.append(f"ERROR {output['ename']}: {output['evalue']}")
    return "\n".join(text)


def _answers(nb: dict, tag: str) -> dict[str, int]:
    """{question: index of its code cell tagged ``tag``}, the question read from the check cell after it."""
    found = {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", []):
            check = next(_source(c) for c in nb["cells"][i + 1:] if _source(c).startswith("grader.check("))
            found[re.match(r'grader\.check\("(\w+)"\)', check).group(1)] = i
    return found


def _partly_solved(student: dict, solution: dict, solved: set[str]) -> dict:
    """The student notebook with the answers to the ``solved`` questions filled in from the solution."""
    nb = json.loads(json.dumps(student))
    blanks, answers = _answers(nb, "otter_answer_cell"), _answers(solution, "otter_assign_solution_cell")
    assert sorted(blanks) == sorted(answers)
    for question in solved:
        nb["cells"][blanks[question]]["source"] = solution["cells"][answers[question]]["source"]
    return nb


def test_student_notebooks_run_in_a_fresh_environment_with_working_checks(dist, tmp_path):
    python, env, prefix = _fresh_environment(tmp_path)
    notebooks = {}
    for name in NAMES:
        work = tmp_path / "students" / name
        shutil.copytree(dist / name / "student", work)  # the notebook and its public tests, as handed out
        solved = set(list(POINTS[name])[:2])  # a student who has answered the first two questions so far
        student = _read(work / f"{name}.ipynb")
        solution = _read(dist / name / "autograder" / f"{name}.ipynb")
        (work / f"{name}.ipynb").write_text(json.dumps(_partly_solved(student, solution, solved)))
        notebooks[work / f"{name}.ipynb"] = solved

    def execute(path: Path) -> None:
        _run([*prefix, str(python), "-c", EXECUTE, str(path), str(path.parent)], cwd=path.parent, env=env,
             timeout=900)

    paths = list(notebooks)
    execute(paths[0])  # the first one installs lrcourse from the clone; the others find it installed
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(execute, paths[1:]))

    where = _run([str(python), "-c", "import lrcourse; print(lrcourse.__file__)"], cwd=tmp_path, env=env).stdout
    assert str(tmp_path / "venv") in where, f"lrcourse should now be installed in the fresh venv, found at {where}"
    for path, solved in notebooks.items():
        name = path.stem
        cells = [c for c in _read(path)["cells"] if c["cell_type"] == "code"]
        for setup in cells[:2]:
            assert "ERROR" not in _outputs(setup), f"{name}: a set-up cell failed:\n{_outputs(setup)}"
            assert "No tests/ folder" not in _outputs(setup)
        checks = {re.match(r'grader\.check\("(\w+)"\)', _source(c)).group(1): _outputs(c)
                  for c in cells if _source(c).startswith("grader.check(")}
        assert sorted(checks) == sorted(POINTS[name]), f"{name}: every autograded question needs a check cell"
        for question, output in checks.items():
            assert "ERROR" not in output, f"{name} {question}: the check itself failed:\n{output}"
            if question in solved:
                assert f"{question} results: All test cases passed!" in output, f"{name} {question}:\n{output}"
            else:
                assert f"{question} results:" in output and "Test case failed" in output, f"{name} {question}:\n{output}"
            public = len(re.findall(r"hidden=False", (path.parent / "tests" / f"{question}.py").read_text()))
            assert output.count("result:") in (0, public), f"{name} {question}: a student's check runs public tests only"
