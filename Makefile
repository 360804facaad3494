# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test demo bench clean

install: $(STAMP)

$(STAMP): requirements.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

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
