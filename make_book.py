#!/usr/bin/env python3
"""Build the booklet: python make_book.py [--paper letter]  (see README.md)."""

from bookpress.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
