"""Shared fixtures: a seeded dev home (copied per test), the CLI in-process, anvil."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.main import main
from ledger.engine.client import Ledger
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.models import Admission, Profile
from ledger.roles import Role

# The access-control matrix is printed in the test report by the controller process.
pytest_plugins = ["tests.security.report"]

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"

# The consortium every test starts from: name → (roles, net assets in fen).
CONSORTIUM: dict[str, tuple[int, int]] = {
    "issuer": (Role.ECNY_ISSUER, 0),
    "core": (Role.CORE_ENTERPRISE, 0),
    "supplier1": (Role.SUPPLIER, 0),
    "supplier2": (Role.SUPPLIER, 0),
    "bank": (Role.LENDER, 5_000_000_000_00),
    "microloan": (Role.LENDER, 300_000_000_00),
    "tech": (Role.TECH_PARTNER, 0),
    "auditor": (Role.AUDITOR, 0),
    "regulator": (Role.REGULATOR, 0),
}
# Their prudential profiles (DESIGN §6.6): licences for the lenders, regions (440100
# Guangzhou, 440300 Shenzhen, 000000 national), borrower kinds. Members not listed: none.
PROFILES: dict[str, Profile] = {
    "core": Profile(region="440100", kind="LARGE"),
    "supplier1": Profile(region="440100", kind="SME"),
    "supplier2": Profile(region="440300", kind="MICRO"),
    "bank": Profile(licence="BANK", region="440100"),
    "microloan": Profile(licence="MICROLOAN", region="440100"),
    "tech": Profile(region="440300"),
}
OPENING_BALANCES = {"core": 2_000_000_00, "bank": 1_000_000_00, "microloan": 500_000_00}


def seed(ledger: Ledger) -> None:
    """Admit the consortium and give the opening balances."""
    for name, (roles, net_assets) in CONSORTIUM.items():
        ledger.admit(
            Admission(
                address=ledger.resolve(name),
                roles=roles,
                net_assets_fen=net_assets,
                profile=PROFILES.get(name, Profile()),
            )
        )
    issuer = ledger.as_signer("issuer")
    for name, fen in OPENING_BALANCES.items():
        issuer.mint(ledger.resolve(name), fen)


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "home"
    home = Home.at(root)
    initialise(home, dev=True)
    with Ledger.open(home) as ledger:
        seed(ledger)
    return root


@pytest.fixture
def home(template_home: Path, tmp_path: Path) -> Home:
    """A seeded dev home of this test's own (a copy of the template)."""
    root = tmp_path / "home"
    shutil.copytree(template_home, root)
    return Home.at(root)


@pytest.fixture
def ledger(home: Home) -> Iterator[Ledger]:
    with Ledger.open(home) as lg:
        yield lg


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run the CLI in-process: run(home, 'cny', 'balance', ...) → Result."""
    monkeypatch.delenv("LIANDAI_RPC", raising=False)
    monkeypatch.delenv("LIANDAI_AS", raising=False)
    # Tables are laid out for $COLUMNS when piped (xdist sets it to 80): tests that mean a
    # width set it themselves.
    monkeypatch.delenv("COLUMNS", raising=False)

    def _run(home: Home | None, *args: str, rpc: str | None = None) -> Result:
        argv = (
            (["--home", str(home.root)] if home is not None else [])
            + (["--rpc", rpc] if rpc else [])
            + list(args)
        )
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_anvil() -> Iterator[str]:
    """A real anvil node (base fee 0) on a free loopback port, stopped by PID on exit."""
    if not ANVIL.exists():
        pytest.fail(f"anvil is missing at {ANVIL}: run `npm ci`")
    port = free_port()
    proc = subprocess.Popen(
        [
            str(ANVIL),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--silent",
            "--base-fee",
            "0",
            "--gas-limit",
            "1000000000",
            # States in memory only, the last 256 (enough to revert any test's snapshot).
            # Without it anvil writes every older state to ~/.foundry/anvil/tmp and never
            # deletes them (tens of GB over a long run). Pruned history makes each block a
            # little slower as the chain grows, so long runs revert to a snapshot per case.
            "--prune-history",
            "256",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("anvil did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def anvil() -> Iterator[str]:
    """A real anvil node shared by the session's tests."""
    with running_anvil() as url:
        yield url
