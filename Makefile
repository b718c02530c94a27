# make book — set everything up (first time) and build build/book.pdf
# make test — run the tests
# make upgrade — the newest releases within pyproject.toml's bounds into requirements.lock, then the tests
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: book all letter test upgrade clean

book: $(STAMP)
	$(PYTHON) make_book.py

all: $(STAMP)
	$(PYTHON) make_book.py --all

letter: $(STAMP)
	$(PYTHON) make_book.py --paper letter --output build/book-letter.pdf

test: $(STAMP)
	$(PYTHON) -m pytest -q

# The exact versions CI tested, from the lock file; then the pipeline itself.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PYTHON) || python3 -m venv $(VENV) || { \
	  echo "Could not create the virtual environment. On Debian or Ubuntu: sudo apt install python3-venv"; exit 1; }
	$(PYTHON) -m pip install --quiet -r $(LOCK)
	$(PYTHON) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

upgrade: $(STAMP)
	$(PYTHON) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --upgrade \
	  --custom-compile-command "make upgrade" --annotation-style line --quiet -o $(LOCK)
	$(PYTHON) -m pip install --quiet -r $(LOCK)
	@touch $(STAMP)
	$(PYTHON) -m pytest -q

clean:
	rm -rf build
