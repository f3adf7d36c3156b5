"""docs/python.md's example runs as written (on a fresh home of its own) and prints what
its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_python_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    code = match.group(1)
    assert '"/tmp/liandai-example"' in code
    code = code.replace('"/tmp/liandai-example"', repr(str(tmp_path / "home")))
    exec(compile(code, "docs/python.md", "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "AprAboveCap 2400"
    assert out[1].startswith("1 RECEIVABLE ¥600,000.00 [")
    assert out[-1] == "REPAID"
