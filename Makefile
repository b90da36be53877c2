# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint eval bench screenshots qt-range clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Opens the desktop app on the bundled demo mailbox (a local copy: no account, no network). Without a
# graphical display it prints the same mailbox as a text report.
demo: $(STAMP)
	$(VENV)/bin/klezguard --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	@scripts/system-deps.sh
	$(VENV)/bin/pytest

eval: $(STAMP)
	$(PY) scripts/evaluate.py
	$(PY) scripts/evaluate_contacts.py
	@scripts/system-deps.sh
	$(PY) scripts/parity.py

bench: $(STAMP)
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_scan.py
	$(PY) benchmarks/bench_contacts.py
	$(PY) benchmarks/bench_gui.py
	$(PY) benchmarks/bench_domain.py

# The oldest PySide6 that pyproject.toml allows, in a throw-away venv: the GUI tests with it
qt-range: $(STAMP)
	@scripts/system-deps.sh
	$(PY) scripts/qt_range.py

screenshots: $(STAMP)
	@scripts/system-deps.sh
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The self-contained program for the system this runs on (Linux: dist/klezguard/ and a .tar.gz; Windows:
# the folder and, with Inno Setup, an installer; macOS: KlezGuard.app). See packaging/README.md.
.PHONY: dist
dist: $(STAMP)
	$(PY) scripts/build_dist.py
