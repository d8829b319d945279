# phiward: two commands on a fresh machine — `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS ?= dev,aws,postgres,formats,server,fast
DEMO_DIR ?= demo-data
PYTEST_ARGS ?=

.PHONY: venv demo test lint fmt typecheck pytest bench clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "phiward needs Python 3.11+"'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/phiward demo-data $(DEMO_DIR) --force
	$(BIN)/phiward demo-formats $(DEMO_DIR)/health-formats --force
	$(BIN)/phiward scan $(DEMO_DIR) --format html --output $(DEMO_DIR)-report.html --quiet
	$(BIN)/phiward scan $(DEMO_DIR) --summary
	@echo "HTML report: $(DEMO_DIR)-report.html"

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

fmt: venv
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_DIR)-report.html .mypy_cache .pytest_cache .ruff_cache
