# DVG workbench. Every target creates .venv and installs the pinned project when needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Test processes: one per CPU (pytest-xdist; each test runs one torch thread, see tests/conftest.py).
TEST_WORKERS ?= auto

.PHONY: test test-slow test-all test-browser reproduce lab clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## make test: the test suite (CPU, deterministic) without the checks marked `slow`, spread over
## TEST_WORKERS processes: a few minutes on 2 cores.
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow" $(PYTEST_ARGS)

## make test-slow: only the checks marked `slow` (learning runs, model fits, kill -9 grids, the
## MuJoCo smoke runs). CI (.ci/run) runs `make test`, then this.
test-slow: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal -m slow $(PYTEST_ARGS)

## make test-all: both tiers in one pytest run.
test-all: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## make test-browser: only explore_toy.ipynb driven in headless Debian chromium (apt-get install
## chromium; the test skips without it). `make test` runs it too.
test-browser: $(STAMP)
	$(PY) -m pytest -m browser -s tests/workbench/explorer/test_browser.py $(PYTEST_ARGS)

## make reproduce: the main job. The toy grid (6 algorithms x N in {1, 3, 5} x 5 seeds on
## dvg/PointMass-v1 at toy-quick, with its learned cVAE world model; each setting's seeds in one worker, stacked where that pays;
## the generative critics' updates compiled) and its HTML report (runs/toy/report.html),
## then the critic-fidelity table (runs/toy/fidelity.md), printed from the committed rows of
## docs/results/fidelity.json.d (delete that folder's *.jsonl to retrain them: about 1 h 40 min).
reproduce: $(STAMP)
	$(PY) -m workbench reproduce toy --seeds 5 --vectorize-seeds --compile
	$(PY) -m workbench fidelity --json docs/results/fidelity.json --no-progress > runs/toy/fidelity.md
	@cat runs/toy/fidelity.md

## make lab: JupyterLab on lab/, working copies of notebooks/ (the papermill templates stay
## clean; see workbench/notebook/lab.py).
lab: $(STAMP)
	$(PY) -m workbench.notebook.lab lab
	$(VENV)/bin/jupyter lab lab/

clean-venv:
	rm -rf $(VENV)
