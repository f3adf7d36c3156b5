"""Print the access-control matrix in the test report.

The matrix test leaves its rendered table in `config.stash[MATRIX_TEXT]`. Where this module's
hooks run on the process that prints the report (a plain run, or `pytest tests/security`),
`pytest_terminal_summary` prints it in a section of its own. Under xdist the controller
collects nothing and so never loads this directory's conftest when the whole suite runs;
then the worker that ran the test prints it to the terminal's stderr (which xdist workers
inherit) as its session ends. Registering this module as a plugin of the root conftest
(`pytest_plugins = ["tests.security.report"]`) makes the controller print it in every case.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

MATRIX_TEXT = pytest.StashKey[str]()
_PRINTED = pytest.StashKey[bool]()  # the hooks may be registered twice (conftest and plugin)
DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
TEST = "test_access_matrix.py::test_exactly_the_allowed_cells_of_the_access_matrix_succeed"
_FLAG = "liandai_matrix_printed_by_controller"


def _table(text: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| function"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start : end + 2])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist controller: tell the workers the controller prints the matrix itself."""
    node.workerinput[_FLAG] = True  # type: ignore[attr-defined]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if config.stash.get(_PRINTED, False):
        return
    text = config.stash.get(MATRIX_TEXT, None)
    if text is None:
        passed = terminalreporter.stats.get("passed", [])
        if not any(r.nodeid.endswith(TEST) and r.when == "call" for r in passed):
            return
        text = DOC.read_text(encoding="utf-8")  # the test passed: the file is what it produced
    config.stash[_PRINTED] = True
    terminalreporter.write_sep("=", "access-control matrix (docs/access-matrix.md)")
    terminalreporter.write_line(_table(text))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workerinput = getattr(session.config, "workerinput", None)
    text = session.config.stash.get(MATRIX_TEXT, None)
    if workerinput is None or text is None or workerinput.get(_FLAG):
        return
    if session.config.stash.get(_PRINTED, False):
        return
    session.config.stash[_PRINTED] = True
    stream = sys.__stderr__
    if stream is not None:
        stream.write("\naccess-control matrix (docs/access-matrix.md)\n" + _table(text) + "\n")
        stream.flush()
