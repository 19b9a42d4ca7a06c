# Quick start on a fresh machine with Python 3.11+ and make:  make demo  /  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test lint demo report-demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sensorframe

test: lint
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/sensorframe demo --root demo-lake --force

report-demo: $(STAMP)
	$(BIN)/python scripts/report_demo.py demo-report

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) demo-lake demo-report .mypy_cache .ruff_cache .hypothesis
