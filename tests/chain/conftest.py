from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.embedded import EmbeddedChain
from tests.chain.helpers import ALLOC

ANVIL = Path(__file__).resolve().parents[2] / (
    "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
)


@pytest.fixture
def chain() -> Iterator[EmbeddedChain]:
    """A fresh in-memory chain (same code path as a file, minus the file)."""
    with EmbeddedChain.open(None, genesis_alloc=ALLOC) as c:
        yield c


@pytest.fixture
def chain_path(tmp_path: Path) -> Path:
    return tmp_path / "chain.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def anvil_url() -> Iterator[str]:
    """anvil configured like our chain: id 19524, base fee 0, gas price 0."""
    if not ANVIL.exists():
        pytest.skip("anvil binary not installed (npm install @foundry-rs/anvil)")
    port = free_port()
    proc = subprocess.Popen(
        [
            str(ANVIL),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--silent",
            "--chain-id",
            "19524",
            "--base-fee",
            "0",
            "--gas-price",
            "0",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
