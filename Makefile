# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv via `make install`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev,plots,profile,serve,ray

.PHONY: install demo test docs-check bench clean report-check

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

demo: install
	$(BIN)/skinflint demo

# -rs: a skipped test says why (e.g. the report's browser test without chromium). Then the docs check.
test: install
	$(BIN)/python -m pytest -rs
	$(MAKE) docs-check

# The README's and docs' code blocks run as documented; quoted bench figures equal bench/results/ (docs/CONTRIBUTING.md).
docs-check: install
	$(BIN)/python tools/docs_check.py

# The report's browser test needs Debian's chromium; `make test` skips it (with the reason) when it is absent.
report-check: install
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pytest tests/integration/test_report.py -rs

bench: install
	$(BIN)/python bench/planner_speed.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis
