# make book — set everything up (first time) and build build/book.pdf
# make test — run the tests
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book all letter test clean

book: $(STAMP)
	$(PYTHON) make_book.py

all: $(STAMP)
	$(PYTHON) make_book.py --all

letter: $(STAMP)
	$(PYTHON) make_book.py --paper letter --output build/book-letter.pdf

test: $(STAMP)
	$(PYTHON) -m pytest -q

$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV) || { \
	  echo "Could not create the virtual environment. On Debian or Ubuntu: sudo apt install python3-venv"; exit 1; }
	$(PYTHON) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf build
