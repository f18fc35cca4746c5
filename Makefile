# Executable documentation of every developer task.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: install  ## the main job on the embedded default (SQLite under archive/)
	$(VENV)/bin/ingest run

test: install  ## the whole test suite, in 2 processes (pytest-xdist; each test file in one of them)
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: install  ## the benchmark suite (README "Benchmarks"); reader and py-spy come with the bench extra
	$(PY) -m pip install -q -e '.[dev,bench]'
	$(PY) benchmarks/run.py
	$(PY) benchmarks/polling.py
	$(PY) benchmarks/growth.py
	$(PY) benchmarks/web.py

clean:
	rm -rf $(VENV) .pytest_cache
