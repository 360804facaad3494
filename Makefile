# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test demo bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The suite includes a serve-only install into a fresh venv from the package registry
# (tests/export/test_serve_install.py, about 30 s); TLM_SKIP_SERVE_INSTALL=1 skips it locally.
test: install
	$(PY) -m pytest -q tests

demo: install
	$(PY) scripts/demo.py

bench: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_tlm.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_m2.py
	$(PY) benchmarks/bench_generate.py --toy work/bench-generate --threads 1

clean:
	rm -rf $(VENV) build *.egg-info
