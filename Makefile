# rwachain: `make devnet` and `make test` each create .venv and install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The node imports about 90 of the project's modules at start. Compiled ahead, they load
# from __pycache__ even where the environment turns bytecode writing off
# (PYTHONDONTWRITEBYTECODE); otherwise every start compiles them again (about 0.12 s).
PACKAGES := state modules node genesis rpc
COMPILE  := $(BIN)/python -m compileall -q -j 0 $(PACKAGES)

.PHONY: devnet test lint bench clean

$(STAMP): pyproject.toml setup.py state/_tree_native.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $(STAMP)

devnet: $(STAMP)
	@$(COMPILE)
	$(BIN)/rwad devnet $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The code follows `ruff check` (pyproject.toml's rules); it is not run through a formatter.
lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
	find $(PACKAGES) tests bench -name __pycache__ -prune -exec rm -rf {} +
