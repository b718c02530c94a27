"""The suite's own rules (tests/conftest.py), checked in sessions of their own: in CI a
skipped test fails, and the caller's SOURCE_DATE_EPOCH does not reach the tests."""

from __future__ import annotations

import os

import conftest
import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

@pytest.mark.skipif(True, reason="no browser here")
def test_skipped_by_a_mark():
    pass

def test_skipped_while_running():
    pytest.skip("no printer here")

@pytest.fixture
def printer():
    pytest.skip("no fixture printer here")

def test_skipped_by_its_fixture(printer):
    pass

@pytest.mark.xfail(reason="a known bug")
def test_expected_to_fail():
    assert False

def test_passes():
    pass
"""


def _session(pytester, *arguments):
    """A pytest session of its own with the suite's conftest, in a temporary folder."""
    return pytester.runpytest("-rfs", *arguments, plugins=[conftest])


def test_in_ci_each_skipped_test_fails_with_its_reason(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_skipping=SKIPPING)
    result = _session(pytester)
    result.assert_outcomes(failed=3, passed=1, xfailed=1)
    result.stdout.fnmatch_lines_random(
        [
            "*CI=true, where a skipped test fails. Skipped: no browser here",
            "*CI=true, where a skipped test fails. Skipped: no printer here",
            "*CI=true, where a skipped test fails. Skipped: no fixture printer here",
            "FAILED test_skipping.py::test_skipped_by_a_mark*",
            "FAILED test_skipping.py::test_skipped_by_its_fixture*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_outside_ci_skipped_tests_are_skipped(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_skipping=SKIPPING)
    result = _session(pytester)
    result.assert_outcomes(skipped=3, passed=1, xfailed=1)
    result.stdout.fnmatch_lines_random(["SKIPPED*no browser here", "SKIPPED*no printer here"])
    assert result.ret == pytest.ExitCode.OK


def test_ci_false_skips_as_usual(pytester, monkeypatch):
    monkeypatch.setenv("CI", "false")
    pytester.makepyfile(test_skipping=SKIPPING)
    _session(pytester).assert_outcomes(skipped=3, passed=1, xfailed=1)


def test_in_ci_a_module_skipped_whole_fails_the_run(pytester, monkeypatch):
    pytester.makepyfile(test_module="import pytest\npytest.importorskip('no_such_module_here')\n")
    monkeypatch.delenv("CI", raising=False)
    _session(pytester).assert_outcomes(skipped=1)
    monkeypatch.setenv("CI", "true")
    result = _session(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CI=true, where a skipped test fails.*no_such_module_here*"])
    assert result.ret != pytest.ExitCode.OK


def test_the_callers_source_date_epoch_is_left_out_of_the_session_and_restored(
    pytester, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pytester.makepyfile(
        test_environment="""
import os

def test_no_source_date_epoch():
    assert "SOURCE_DATE_EPOCH" not in os.environ
"""
    )
    _session(pytester).assert_outcomes(passed=1)
    assert os.environ["SOURCE_DATE_EPOCH"] == "1700000000"
