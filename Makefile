# Two commands do everything on a fresh machine with python3 (>= 3.11, with venv) and make:
#   make run   - create .venv, install, load the demo data on first start, serve the app
#   make test  - the whole suite, browser tests included
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test bench demo clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "KAM Analytics needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }

$(VENV)/.runtime: requirements.txt pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .   # the CLI as .venv/bin/kam
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m kam_analytics demo --if-empty
	$(PY) -m streamlit run app.py --server.port $(PORT)

# The suite on JOBS processes (pytest-xdist), then the tests marked serial alone: they time
# writers against readers or kill imports mid-way, and must not share the cores.
JOBS ?= 2
test: $(VENV)/.dev
	$(PY) -m pytest -n $(JOBS) --dist worksteal -m "not serial"
	$(PY) -m pytest -m serial

bench: $(VENV)/.dev
	$(PY) bench/all.py --deals 1000000

demo: $(VENV)/.runtime
	$(PY) -m kam_analytics demo --if-empty

clean:
	rm -rf $(VENV) .pytest_cache
