# rwachain: `make devnet` and `make test` each create .venv and install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The node imports about 90 of the project's modules at start. Compiled ahead, they load
# from __pycache__ even where the environment turns bytecode writing off
# (PYTHONDONTWRITEBYTECODE); otherwise every start compiles them again (about 0.12 s).
PACKAGES := rwachain state modules node genesis rpc
COMPILE  := $(BIN)/python -m compileall -q -j 0 $(PACKAGES)

# CometBFT, the consensus engine rwachain runs under as an ABCI app, is pinned and built
# from the Go module proxy into .tools/bin (needs Go 1.22.11+). The stamp names the version,
# so a second `make cometbft` does nothing; changing COMETBFT_VERSION builds the new one.
COMETBFT_VERSION := v0.38.26
TOOLS            := $(CURDIR)/.tools/bin
COMETBFT_STAMP   := $(TOOLS)/.cometbft-$(COMETBFT_VERSION)
GO               := $(shell command -v go 2>/dev/null)

.PHONY: devnet test test-fast lint bench clean cometbft abci-vectors

# plyvel publishes wheels for CPython 3.8-3.12 only. Where pip finds none (3.13 and later,
# or another platform), it is built from its source against the system LevelDB; if LevelDB's
# headers, a C++ compiler or Python's own headers are missing, the install stops before pip
# and says which package to install, rather than failing deep in a compiler error.
PLYVEL     := plyvel>=1.5
PY_VERSION  = $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
define install_plyvel
	if $(BIN)/pip install --quiet --only-binary=plyvel '$(PLYVEL)' 2>/dev/null; then :; \
	else \
	  missing=""; \
	  command -v $${CXX:-c++} >/dev/null || missing="$$missing g++"; \
	  printf '#include <leveldb/db.h>\n' | $${CXX:-c++} -x c++ -fsyntax-only - 2>/dev/null \
	    || missing="$$missing libleveldb-dev"; \
	  $(BIN)/python -c 'import sysconfig, os, sys; \
	    sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	    || missing="$$missing python$(PY_VERSION)-dev"; \
	  if [ -n "$$missing" ]; then \
	    echo "plyvel has no wheel for Python $(PY_VERSION) here, and building it needs:$$missing" >&2; \
	    echo "  Debian/Ubuntu: apt-get install$$missing" >&2; \
	    echo "  (Fedora: leveldb-devel gcc-c++ python3-devel; macOS: brew install leveldb)" >&2; \
	    echo "  or use Python 3.11 or 3.12: make PYTHON=python3.12" >&2; \
	    exit 1; \
	  fi; \
	  echo "plyvel has no wheel for Python $(PY_VERSION) here: building it against the system LevelDB"; \
	  $(BIN)/pip install --quiet --no-binary=plyvel '$(PLYVEL)'; \
	fi
endef

# The stamp names the tree its .venv was made for. A copied tree carries a .venv whose
# editable install (and scripts) point at the original folders: it is made again here.
ifneq ($(shell cat $(STAMP) 2>/dev/null),$(CURDIR))
.PHONY: $(STAMP)
endif

$(STAMP): pyproject.toml setup.py state/_tree_native.c
	@if [ -d $(VENV) ] && [ "$$(cat $(STAMP) 2>/dev/null)" != "$(CURDIR)" ]; then \
	  echo "$(VENV) was not made for this tree ($(CURDIR)): making it again"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@$(install_plyvel)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	echo "$(CURDIR)" > $(STAMP)

devnet: $(STAMP)
	@$(COMPILE)
	$(BIN)/rwad devnet $(ARGS)

test: $(STAMP) $(if $(GO),$(COMETBFT_STAMP))
	@$(if $(GO),,echo "go not found: the CometBFT tests will be skipped (they need Go 1.22.11+)")
	$(BIN)/ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (pyproject.toml's markers).
test-fast: $(STAMP)
	$(BIN)/ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

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
