# liandai — one command to run the demo, one to pass the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_OK  := $(VENV)/.installed
NODE_OK := node_modules/.installed

.PHONY: setup demo test test-long artifacts bench lint clean chromium analyze

$(PY_OK): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

$(NODE_OK): package.json package-lock.json
	# `npm install` (not `npm ci`): the lock pins every version, but npm leaves the other
	# platforms' optional anvil binaries out of it, which `npm ci` refuses.
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_OK) $(NODE_OK)

## make demo: set up and run the main story on a fresh embedded chain (needs no node).
demo: $(PY_OK)
	rm -rf .demo-home
	$(BIN)/liandai --home .demo-home demo

## make analyze: slither (its own venv, from PyPI) on the contracts; exits 1 on an untriaged
## medium or high finding. See docs/static-analysis.md.
SLITHER := .venv-slither/bin/slither
$(SLITHER):
	$(PYTHON) -m venv .venv-slither
	.venv-slither/bin/pip install -q slither-analyzer==0.11.6 crytic-compile==0.4.2

analyze: $(PY_OK) $(NODE_OK) $(SLITHER)
	$(BIN)/python -m tests.security.static_analysis --slither $(SLITHER)

## make chromium: Debian's chromium (and a CJK font) for the report's browser test, if missing.
chromium:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-zenhei)

## make test: set up, lint, type-check and run the whole suite (anvil included).
test: setup lint chromium $(SLITHER)
	LIANDAI_REQUIRE_TOOLS=1 $(BIN)/pytest -n 2 --dist loadgroup

test-long: setup
	LIANDAI_LONG=1 $(BIN)/pytest -n 2 --dist loadgroup

lint: $(PY_OK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make bench: gas, CLI latency, throughput, scale (anvil included) → bench-results/report.md
bench: setup
	$(BIN)/python -m bench

## make artifacts: recompile contracts/ into ledger/solidity/artifacts/ (npm solc via py-solc-x).
artifacts: setup
	$(BIN)/python -m ledger.solidity.compiler

clean:
	rm -rf .demo-home .pytest_cache .mypy_cache .ruff_cache
