# Two commands on a fresh machine with only python3:
#   make book   set everything up and build the site into _build/html
#   make test   set everything up and run every test (unit, doctest, nbval on every notebook, the site build,
#               the built site in headless Chromium)
# Also: make notebooks (re-execute every notebook in place; NB=path for one), make serve, make clean.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Chapters only; assignment masters are checked by their own targets.
NOTEBOOKS := $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' -not -path '*/_build/*' -not -path 'book/assignments/*' | sort)
NB ?= $(NOTEBOOKS)
# Stored outputs are computed on the CPU, so checks and re-execution use it too (a GPU gives other round-off).
export LRCOURSE_DEVICE ?= cpu
# No progress bars in executed notebooks or test logs (they show for a person at a terminal, in Colab or Jupyter).
export LRCOURSE_PROGRESS ?= 0
export PYTHONHASHSEED := 0
# One BLAS/OpenMP thread: the stored outputs then reproduce bit for bit whatever the core count (a sum split
# over threads rounds differently), and small matrices run faster without threads on a busy 2-core machine.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup book test unit nbval browser notebooks serve clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going

unit: $(STAMP)
	$(PY) -m pytest tests lrcourse --doctest-modules --ignore=tests/browser -q

nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 -p no:cacheprovider -q $(NOTEBOOKS)

# The built site in headless Chromium (Debian's package: apt-get install -y chromium); needs `make book` first.
browser: $(STAMP)
	$(PY) -m pytest tests/browser -q -p no:cacheprovider

test: instructor unit nbval book
	$(MAKE) browser

notebooks: $(STAMP)
	@for nb in $(NB); do \
		echo "executing $$nb"; \
		$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; \
	done

serve: book
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build

# Instructor assignments (assignments/, Otter-Grader). The instructor tools come from requirements-instructor.txt
# and install into the same .venv (they change none of the book's pins); readers never need them.
#   make assignments                         build every master into dist/assignments/<name>/
#   make grade A=<name> SUBMISSIONS=<dir>    grade every .ipynb in <dir>: <dir>/grades.csv, <dir>/feedback/
INSTRUCTOR := $(VENV)/.instructor-installed
GRADE_TIMEOUT ?= 300

.PHONY: instructor assignments grade

$(INSTRUCTOR): requirements-instructor.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-instructor.txt
	touch $(INSTRUCTOR)

instructor: $(INSTRUCTOR)

assignments: $(INSTRUCTOR)
	$(PY) assignments/build.py

grade: $(INSTRUCTOR)
	@test -n "$(A)" && test -n "$(SUBMISSIONS)" || { echo "usage: make grade A=<assignment> SUBMISSIONS=<folder of .ipynb> [GRADE_TIMEOUT=300]"; exit 2; }
	$(PY) assignments/build.py --only-stale "$(A)"
	$(PY) assignments/grade.py "$(A)" "$(SUBMISSIONS)" --timeout $(GRADE_TIMEOUT)
