# Minsheng (民声) — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck bench bench-casework clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the whole system on the embedded PostgreSQL and Redis (Ctrl-C stops everything).
run: $(STAMP)
	$(BIN)/minsheng run

## Install if needed and run the whole suite (unit, integration, contract, chaos).
test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy minsheng shared services

bench: $(STAMP)
	$(BIN)/python benchmarks/bus.py

## Workbench queues and search among 1M cases, and the deadline sweep (~25 min, ~7 GB in /tmp).
bench-casework: $(STAMP)
	$(BIN)/python benchmarks/casework.py

clean-data:
	rm -rf .minsheng
