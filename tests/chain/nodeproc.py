"""`liandai node` for one test, run as the CLI runs it: a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.home import Home

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def liandai_node(home: Home) -> Iterator[dict[str, str]]:
    """Start `liandai node --port 0` on ``home``; yield node.json ({url, ws, pid}); stop it
    with SIGTERM (by its PID) on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--home", str(home.root), "node", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not home.node_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
                pytest.fail(f"the node did not start: {err}")
            time.sleep(0.05)
        yield dict(json.loads(home.node_file.read_text()))
    finally:
        proc.terminate()
        proc.wait(10)
