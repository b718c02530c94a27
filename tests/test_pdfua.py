"""PDF/UA-1 as outside checkers read it: every tagged print edition passes outloud (the Matterhorn
Protocol) and pdfua with no error and no warning, on both build paths.

The booklet is left out: it is imposed (two pages on each side of a sheet) and untagged, a
file for the printer only.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import outside_checker


def outloud(command: Path, pdf: Path, folder: Path) -> tuple[Counter, Counter]:
    """(errors, warnings) outloud finds in pdf, each as rule id -> how many."""
    report = folder / f"{pdf.stem}.outloud.json"
    done = subprocess.run(
        [str(command), "--json", str(report), "--fail-on", "never", str(pdf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and report.exists(), done.stderr
    (result,) = json.loads(report.read_text())["results"]
    assert result["error"] is None, f"{pdf.name}: outloud could not read it: {result['error']}"
    found = {"error": Counter(), "warning": Counter()}
    for finding in result["findings"]:
        if finding["severity"] in found:
            found[finding["severity"]][finding["rule"]] += finding.get("count") or 1
    return found["error"], found["warning"]


def pdfua(command: Path, pdf: Path) -> tuple[Counter, Counter]:
    """(errors, warnings) `pdfua check` finds in pdf, each as rule id -> how many."""
    done = subprocess.run(
        [str(command), "check", "--format", "json", str(pdf)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    found = {"error": Counter(), "warning": Counter()}
    for finding in report["findings"]:
        if finding["severity"] in found:
            found[finding["severity"]][finding["rule_id"]] += 1
    return found["error"], found["warning"]


def check(pdfs: list[Path], folder: Path) -> dict[str, str]:
    """Both checkers on every file, two at a time; what each found that it should not have."""
    outloud_command, pdfua_command = outside_checker("outloud"), outside_checker("pdfua")
    assert pdfs, "no file to check"
    jobs = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for pdf in pdfs:
            jobs[f"outloud {pdf.name}"] = pool.submit(outloud, outloud_command, pdf, folder)
            jobs[f"pdfua {pdf.name}"] = pool.submit(pdfua, pdfua_command, pdf)
    problems = {}
    for name, job in jobs.items():
        errors, warnings = job.result()
        if errors or warnings:
            problems[name] = (
                f"errors {dict(sorted(errors.items()))}, warnings {dict(sorted(warnings.items()))}"
            )
    return problems


@pytest.fixture
def checked(tmp_path):
    def run(*pdfs: Path) -> dict[str, str]:
        return check(list(pdfs), tmp_path)

    return run


def test_the_reading_edition_passes_both_checkers_on_the_fast_path(checked, book_path):
    assert checked(book_path) == {}


def test_the_reading_edition_passes_both_checkers_on_the_public_path(checked, public_book_path):
    assert checked(public_book_path) == {}


def test_the_teachers_and_large_print_editions_pass(checked, every_product):
    assert checked(every_product / "teacher.pdf", every_product / "large-print.pdf") == {}


def test_the_letter_edition_passes(checked, letter_book):
    assert checked(letter_book.path) == {}


def test_every_handout_passes(checked, every_product):
    handouts = sorted((every_product / "handouts").glob("*.pdf"))
    assert len(handouts) >= 6
    assert checked(*handouts) == {}


def test_the_checkers_find_what_is_wrong(checked, tmp_path, book_path):
    """The checks can fail: a copy of the book with its annotations unprintable and a chapter's
    title two levels too deep is caught."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, NumberObject

    writer = PdfWriter(clone_from=PdfReader(book_path))
    for page in writer.pages:
        for annotation in page.get("/Annots", []):
            annotation.get_object()[NameObject("/F")] = NumberObject(0)
    headings = [
        element
        for element in _elements(writer._root_object["/StructTreeRoot"])
        if element.get("/S") == "/H2"
    ]
    headings[0][NameObject("/S")] = NameObject("/H4")
    spoilt = tmp_path / "spoilt.pdf"
    with spoilt.open("wb") as file:
        writer.write(file)
    problems = checked(spoilt)
    assert (
        "LNK-004" in problems["outloud spoilt.pdf"] and "HDG-001" in problems["outloud spoilt.pdf"]
    )


def _elements(node):
    node = node.get_object()
    kids = node.get("/K")
    for kid in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict) and kid.get("/Type") == "/StructElem":
            yield kid
            yield from _elements(kid)
