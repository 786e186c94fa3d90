# gancourse: two commands for a newcomer (see README.md)
#   make lab    set everything up, then open the course in JupyterLab
#   make test   set everything up, then run every test (unit tests and all notebooks, quick mode)
# Needs only Python >= 3.10, git and make. The environment lives in .venv; a second run reuses it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gancourse-installed
PYTEST_ARGS ?=

.PHONY: lab test setup exercises clean-notebooks benchmark help
.DEFAULT_GOAL := help

help:
	@echo "make lab    set up .venv and open the course in JupyterLab"
	@echo "make test   set up .venv and run every test (GANCOURSE_QUICK=1)"
	@echo "make exercises        regenerate exercises/ from solutions/"
	@echo "make clean-notebooks  strip outputs and widget state from all notebooks"
	@echo "make benchmark        training speed against a plain PyTorch loop; 20 toy seeds batched vs one after another"

setup: $(STAMP)

# Reinstall only when the package's dependencies change.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("gancourse needs Python >= 3.10; this is " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[dev]"
	# ipywidgets 7.7.1, what Colab ships, beside 8.x: the viewers are tested under both
	$(BIN)/python -m pip install --no-deps --target $(VENV)/widgets7 "ipywidgets==7.7.1" \
		"widgetsnbextension>=3.6,<3.7" "jupyterlab_widgets>=1,<2" ipython_genutils
	touch $(STAMP)

# JupyterLab refuses to start as root without --allow-root (containers and cloud machines often run as root).
USER_ID  ?= $(shell id -u)
LAB_ARGS ?=
lab: setup
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(USER_ID)),--allow-root) $(LAB_ARGS)

test: setup
	GANCOURSE_QUICK=1 $(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS)

exercises: setup
	$(BIN)/python -m gancourse.exercises solutions/ exercises/

benchmark: setup
	$(BIN)/python benchmarks/bench_training.py --json benchmarks/latest.json
	$(BIN)/python benchmarks/bench_seeds.py

clean-notebooks: setup
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb
