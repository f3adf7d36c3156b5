"""The embedded chain survives restarts, SIGKILL and concurrent writers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.home import Home

ROOT = Path(__file__).resolve().parents[2]
KILL_POINTS = int(
    os.environ.get("LIANDAI_KILL_POINTS", "20" if os.environ.get("LIANDAI_LONG") else "5")
)


def writer(home: Home, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.writer", str(home.root), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_state_survives_a_restart(home: Home) -> None:
    with Ledger.open(home, signer="core") as ledger:
        ledger.transfer(ledger.resolve("supplier1"), 777)
        head, block = ledger.audit_head(), ledger.chain.w3.eth.block_number
    with Ledger.open(home) as ledger:
        assert ledger.audit_head() == head
        assert ledger.chain.w3.eth.block_number == block
        assert ledger.balance_fen(ledger.resolve("supplier1")) == 777
        ledger.as_signer("core").transfer(ledger.resolve("supplier1"), 1)
        assert ledger.balance_fen(ledger.resolve("supplier1")) == 778
        assert verify_trail(ledger).ok


def test_sigkill_during_a_stream_of_transactions_loses_nothing_mined(home: Home) -> None:
    rng = random.Random(20261121)
    mined: list[tuple[str, int]] = []
    for point in range(KILL_POINTS):
        proc = writer(home, 1_000)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        # Kill after a random number of mined transactions plus a random fraction of the next.
        for _ in range(rng.randint(0, 6)):
            tx, block = proc.stdout.readline().split()
            mined.append((tx, int(block)))
        time.sleep(rng.random() * 0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Whatever the pipe still held was printed before the kill: mined too.
        for line in proc.stdout.read().splitlines():
            tx, block = line.split()
            mined.append((tx, int(block)))
        with Ledger.open(home) as ledger:
            w3 = ledger.chain.w3
            for tx, block in mined:
                receipt = w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
                assert receipt["status"] == 1 and receipt["blockNumber"] == block, (point, tx)
            paid = ledger.balance_fen(ledger.resolve("supplier1"))
            assert paid >= len(mined)  # plus possibly one mined but not yet printed
            verdict = verify_trail(ledger)
            assert verdict.ok, verdict
            # One transfer is one entry; the chain always reopens at a consistent head.
            assert ledger.audit_head()[0] == verdict.entries
    assert len(mined) > 0


def test_two_processes_writing_one_home_are_serialised_never_forked(home: Home) -> None:
    with Ledger.open(home) as ledger:
        start_block = ledger.chain.w3.eth.block_number
        start_seq = ledger.audit_head()[0]
    procs = [writer(home, 8), writer(home, 8)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    lines = [line for out, _ in outputs for line in out.splitlines() if line != "ready"]
    blocks = sorted(int(line.split()[1]) for line in lines)
    assert blocks == list(range(start_block + 1, start_block + 17))  # one chain, no fork
    with Ledger.open(home) as ledger:
        assert ledger.balance_fen(ledger.resolve("supplier1")) == 16
        assert ledger.audit_head()[0] == start_seq + 16
        assert verify_trail(ledger).ok


def test_a_second_writer_gets_a_clear_busy_refusal_when_it_will_not_wait(
    run,
    home: Home,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from ledger.chain.backend import open_embedded; "
            "from ledger.home import Home; c = open_embedded(Home.at(sys.argv[1])); "
            "print('held', flush=True); time.sleep(30)",
            str(home.root),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("LIANDAI_LOCK_TIMEOUT", "0.2")
        r = run(home, "--as", "core", "cny", "transfer", "supplier1", "1")
        assert r.code == 1
        assert r.err.count("\n") == 1
        assert "in use by another liandai process" in r.err and str(holder.pid) in r.err
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.delenv("LIANDAI_LOCK_TIMEOUT")
    assert run(home, "--as", "core", "cny", "transfer", "supplier1", "1").code == 0


def test_commands_go_through_the_running_node_and_nothing_is_lost_on_sigterm(
    run, home: Home
) -> None:  # type: ignore[no-untyped-def]
    node = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--home", str(home.root), "node", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert node.stdout is not None
        assert "serving" in node.stdout.readline()
        info = json.loads(run(home, "chain", "info", "--json").out)
        assert info["backend"] == "node"
        r = run(home, "--as", "core", "cny", "transfer", "supplier1", "3.21")
        assert r.code == 0, r.err
        refused = run(home, "--as", "supplier2", "cny", "transfer", "core", "1")
        assert refused.code == 1 and "ERC20InsufficientBalance" in refused.err
        verdict = json.loads(run(home, "audit", "verify", "--json").out)
        assert verdict["ok"]
    finally:
        node.send_signal(signal.SIGTERM)
        _, err = node.communicate(timeout=30)
    assert node.returncode == 0, err
    assert not home.node_file.exists()
    with Ledger.open(home) as ledger:
        assert ledger.chain.kind == "embedded"
        assert ledger.balance_fen(ledger.resolve("supplier1")) == 321
        assert verify_trail(ledger).ok
