#!/usr/bin/env python3
"""Build the booklet: python make_book.py [--all] [--paper letter]  (see README.md)."""

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEEDED = ("weasyprint", "markdown", "jinja2", "pypdf", "yaml", "nh3")


def use_the_projects_python(script: str = __file__) -> None:
    """Typed with the system's Python after `make book`: run script in the project's environment."""
    if all(importlib.util.find_spec(name) for name in NEEDED):
        return
    venv_python = HERE / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (HERE / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), str(Path(script).resolve()), *sys.argv[1:]])
    raise SystemExit("The pipeline is not installed yet: run `make book` once (see README.md).")


if __name__ == "__main__":
    use_the_projects_python()
    from bookpress.cli import main

    raise SystemExit(main())
