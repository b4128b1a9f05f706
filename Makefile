# Two commands from a fresh clone: `make up` runs the product, `make test` passes the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test lint bench clean

$(BIN)/soar: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/soar

up: $(BIN)/soar
	$(BIN)/soar up

# The suite in parallel processes (pyproject's addopts), then the tests that load the
# product on purpose one at a time, so they measure it rather than their neighbours.
test: lint
	$(BIN)/pytest -m "not solo"
	$(BIN)/pytest -m solo -n 0

# Style, types (mypy --strict on soar/, workflows/, integrations/, bot/) and the import
# direction (import-linter contracts in pyproject.toml).
lint: $(BIN)/soar
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BIN)/soar
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .soar .pytest_cache
