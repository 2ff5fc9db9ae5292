# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv via `make install`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev,plots,profile,serve,ray

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

demo: install
	$(BIN)/skinflint demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/planner_speed.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis
