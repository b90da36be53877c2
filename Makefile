# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/klezguard check --sent resources/demo/sent --own-domain brightwater-bakery.com \
	    --trusted-authserv mx.mailhost-demo.net resources/demo/inbox || true

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	@scripts/system-deps.sh
	$(VENV)/bin/pytest

eval: $(STAMP)
	$(PY) scripts/evaluate.py

bench: $(STAMP)
	$(PY) benchmarks/bench_check.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
