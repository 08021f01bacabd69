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

# CometBFT, the consensus engine rwachain runs under as an ABCI app, is pinned and built
# from the Go module proxy into .tools/bin (needs Go 1.22.11+). The stamp names the version,
# so a second `make cometbft` does nothing; changing COMETBFT_VERSION builds the new one.
COMETBFT_VERSION := v0.38.26
TOOLS            := $(CURDIR)/.tools/bin
COMETBFT_STAMP   := $(TOOLS)/.cometbft-$(COMETBFT_VERSION)
GO               := $(shell command -v go 2>/dev/null)

.PHONY: devnet test lint bench clean cometbft abci-vectors

$(STAMP): pyproject.toml setup.py state/_tree_native.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $(STAMP)

devnet: $(STAMP)
	@$(COMPILE)
	$(BIN)/rwad devnet $(ARGS)

test: $(STAMP) $(if $(GO),$(COMETBFT_STAMP))
	@$(if $(GO),,echo "go not found: the CometBFT tests will be skipped (they need Go 1.22.11+)")
	$(BIN)/ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -q $(PYTEST_ARGS)

cometbft: $(COMETBFT_STAMP)

$(COMETBFT_STAMP):
	@$(if $(GO),,echo "go not found: building CometBFT needs Go 1.22.11+ (https://go.dev/dl)"; exit 1)
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod $(GO) install github.com/cometbft/cometbft/cmd/cometbft@$(COMETBFT_VERSION)
	rm -f $(TOOLS)/.cometbft-*
	touch $@

# The ABCI codec's test vectors, made by CometBFT's own Go types (tests/vectors/abci).
abci-vectors:
	@$(if $(GO),,echo "go not found: the vectors are made with Go 1.22.11+"; exit 1)
	cd tests/vectors/abci && GOFLAGS=-mod=mod $(GO) run . > vectors.json.new && mv vectors.json.new vectors.json

# The code follows `ruff check` (pyproject.toml's rules); it is not run through a formatter.
lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .tools build *.egg-info .pytest_cache .hypothesis
	find $(PACKAGES) tests bench -name __pycache__ -prune -exec rm -rf {} +
