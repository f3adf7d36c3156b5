"""Crash and concurrency: SIGKILL the CLI and `liandai node` mid-stream, two writers, Ctrl-C.

Kills are aimed, not blind: the test watches the chain's SQLite write-ahead log and kills
a random few milliseconds after a random number of block commits, so most kill points land
while a transaction is being executed or committed. After every kill the home is reopened
and must show:

- nothing mined is lost: every transaction a process reported mined is still there, in the
  same block, and every block seen before is still there with the same hash (no rollback,
  no fork: each block's parent is the block before it);
- the local index catches up and then agrees with the chain on every receivable;
- the audit trail verifies from the chain (`ledger.audit.trail.verify_trail`);
- a batch cut short by the kill left a prefix of its rows issued, nothing half-done.

`LIANDAI_CRASH_KILLS` sets the kill points per kind (CLI, node): 10 each by default (20 in
all), 50 each with `LIANDAI_LONG=1`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.home import Home
from ledger.money import format_date
from ledger.supervision.index import Index
from tests.security.support import LONG

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("LIANDAI_CRASH_KILLS", "50" if LONG else "10"))
DAY = 86_400


def cli(home: Home, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--home", str(home.root), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wal_stamp(home: Home) -> tuple[int, int]:
    """Changes whenever a block is committed (WAL mode: the log grows or is checkpointed)."""
    wal = home.chain_file.with_name(home.chain_file.name + "-wal")
    try:
        st = wal.stat()
        return st.st_mtime_ns, st.st_size
    except FileNotFoundError:
        return 0, 0


def kill_after_commits(
    proc: subprocess.Popen[str], home: Home, commits: int, rng: random.Random
) -> bool:
    """SIGKILL `proc` a random 0-15 ms after its `commits`-th block commit (or when it is
    about to end). Returns whether it was still running when killed."""
    seen, last = 0, wal_stamp(home)
    deadline = time.monotonic() + 60
    while proc.poll() is None and seen < commits and time.monotonic() < deadline:
        stamp = wal_stamp(home)
        if stamp != last:
            seen, last = seen + 1, stamp
        time.sleep(0.001)
    time.sleep(rng.random() * 0.015)
    alive = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return alive


@dataclass
class Witness:
    """What the test saw mined, to check nothing of it is ever lost."""

    mined: list[tuple[str, int]] = field(default_factory=list)  # (tx, block)
    blocks: dict[int, bytes] = field(default_factory=dict)  # block → hash seen
    kill_points: int = 0

    def check(self, home: Home) -> Ledger:
        """Reopen the home and check everything this witness saw; return the ledger."""
        ledger = Ledger.open(home)
        w3 = ledger.chain.w3
        for tx, block in self.mined:
            receipt = w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
            assert receipt["blockNumber"] == block and receipt["status"] == 1, tx
        head = int(w3.eth.block_number)
        for number, block_hash in self.blocks.items():
            assert number <= head, f"block {number} was lost"
            assert bytes(w3.eth.get_block(number)["hash"]) == block_hash, f"block {number} forked"
        parent = None
        start = max(self.blocks, default=0)
        for number in range(start, head + 1):  # everything new links to what came before
            block = w3.eth.get_block(number)
            if parent is not None:
                assert bytes(block["parentHash"]) == parent, f"block {number} does not link"
            parent = bytes(block["hash"])
            self.blocks[number] = parent
        verdict = verify_trail(ledger)
        assert verdict.ok, verdict
        index_agrees_with_chain(ledger)
        return ledger


def index_agrees_with_chain(ledger: Ledger) -> None:
    index = Index(ledger)
    try:
        assert index.sync() == int(ledger.chain.w3.eth.block_number)
        token = ledger.contract("ReceivableToken").functions
        for rid in range(1, int(token.nextId().call())):
            info = token.receivableOf(rid).call()
            row = index.receivable(rid)
            assert row is not None, f"receivable {rid} missing from the index"
            holder = None if int(info[2], 16) == 0 else info[2]
            assert (row["holder"], int(row["paid_fen"]), int(row["face_value_fen"])) == (
                holder,
                int(info[4]),
                int(info[3]),
            ), rid
    finally:
        index.close()


def write_batch(path: Path, tag: str, rows: int, due: str) -> list[bytes]:
    docs = [keccak(text=f"{tag} row {i}") for i in range(rows)]
    lines = ["supplier,amount,due,doc"] + [
        f"supplier1,{1 + i}.{i % 100:02d},{due},0x{d.hex()}" for i, d in enumerate(docs)
    ]
    path.write_text("\n".join(lines) + "\n")
    return docs


def issued_prefix(ledger: Ledger, docs: list[bytes]) -> int:
    """How many rows of a batch are on the chain; they must be its first rows."""
    token = ledger.contract("ReceivableToken").functions
    core = ledger.resolve("core")
    issued = [int(token.receivableOfDocument(core, d).call()) != 0 for d in docs]
    n = sum(issued)
    assert issued == [True] * n + [False] * (len(docs) - n), "a batch left a gap"
    return n


def due_date(ledger: Ledger, days: int = 120) -> str:
    return format_date(int(ledger.chain.w3.eth.get_block("latest")["timestamp"]) + days * DAY)


def record_output(witness: Witness, out: str) -> None:
    """Transactions a finished CLI reported (its --json output)."""
    if not out.strip():
        return
    data = json.loads(out)
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict) and item.get("tx"):
            receipt_block = item.get("block")
            if receipt_block is not None:
                witness.mined.append((item["tx"], int(receipt_block)))


def test_sigkill_of_the_cli_at_random_points_loses_nothing_mined(home: Home) -> None:
    rng = random.Random(20261121)
    witness = Witness()
    ledger = witness.check(home)
    due = due_date(ledger)
    ledger.close()
    batches: list[list[bytes]] = []
    attempts = 0
    while witness.kill_points < KILLS and attempts < 3 * KILLS:
        attempts += 1
        kind = rng.choice(["import", "import", "transfer", "list"])
        if kind == "import":
            path = home.root.parent / f"batch-{attempts}.csv"
            batches.append(write_batch(path, f"cli {attempts}", rng.randint(4, 12), due))
            proc = cli(home, "--as", "core", "receivable", "import", str(path), "--json")
        elif kind == "transfer":
            proc = cli(home, "--as", "core", "cny", "transfer", "supplier1", "0.01", "--json")
        else:
            proc = cli(home, "receivable", "list", "--json")
        if kind == "list":  # a read: kill during the index sync, blind
            time.sleep(0.6 + rng.random() * 0.8)
            killed = proc.poll() is None
            proc.kill()
            proc.wait()
        else:
            killed = kill_after_commits(proc, home, rng.randint(1, 4), rng)
        if killed:
            witness.kill_points += 1
        else:
            out, _ = proc.communicate()
            if proc.returncode == 0 and kind == "transfer":
                record_output(witness, out)
        ledger = witness.check(home)
        for docs in batches:
            issued_prefix(ledger, docs)
        ledger.close()
    assert witness.kill_points >= KILLS, f"only {witness.kill_points} kills landed mid-command"


def test_sigkill_of_liandai_node_during_a_stream_of_transactions_loses_nothing_mined(
    home: Home,
) -> None:
    rng = random.Random(8545)
    witness = Witness()
    witness.check(home).close()
    for _ in range(KILLS):
        node = cli(home, "node", "--port", "0")
        assert node.stdout is not None
        line = node.stdout.readline()
        assert "serving" in line, node.stderr.read() if node.stderr else line
        killed = threading.Event()
        errors: list[BaseException] = []

        def stream(killed: threading.Event = killed, errors: list[BaseException] = errors) -> None:
            try:
                with Ledger.open(home, signer="core") as client:
                    assert client.chain.kind == "node"
                    to = client.resolve("supplier1")
                    while not killed.is_set():
                        sent = client.transfer(to, 1)
                        witness.mined.append((sent.tx, sent.block))
            except Exception as exc:  # once the node is dead, any error is expected
                if not killed.is_set():
                    errors.append(exc)

        client = threading.Thread(target=stream)
        client.start()
        time.sleep(0.05 + rng.random() * 0.4)
        killed.set()
        os.kill(node.pid, signal.SIGKILL)
        node.wait()
        client.join(timeout=60)
        witness.kill_points += 1
        assert errors == []
        witness.check(home).close()
    assert len(witness.mined) > KILLS


def test_two_cli_writers_on_one_home_are_serialised_and_never_fork(home: Home) -> None:
    witness = Witness()
    ledger = witness.check(home)
    due = due_date(ledger)
    ledger.close()
    a = write_batch(home.root.parent / "a.csv", "writer a", 8, due)
    b = write_batch(home.root.parent / "b.csv", "writer b", 8, due)
    procs = [
        cli(
            home,
            "--as",
            "core",
            "receivable",
            "import",
            str(home.root.parent / f"{n}.csv"),
            "--json",
        )
        for n in ("a", "b")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    ledger = witness.check(home)
    blocks = []
    for out, _ in results:
        for row in json.loads(out):
            receipt = ledger.chain.w3.eth.get_transaction_receipt(row["tx"])
            assert receipt["status"] == 1
            blocks.append(int(receipt["blockNumber"]))
    assert len(set(blocks)) == 16  # one chain: sixteen blocks, none mined twice
    assert issued_prefix(ledger, a) == 8 and issued_prefix(ledger, b) == 8
    ledger.close()


def warm_cli(home: Home, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """The CLI with its imports already done, run (`cli.main.main`) on a line from stdin:
    so it reaches the chain at a moment the test chooses, not a second later."""
    code = (
        "import sys, web3, eth_account, ledger.engine.client, cli.main; sys.stdin.readline(); "
        "sys.exit(cli.main.main(sys.argv[1:]))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, "--home", str(home.root), *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_a_writer_that_will_not_wait_gets_one_busy_line_and_sends_nothing(home: Home) -> None:
    witness = Witness()
    ledger = witness.check(home)
    due = due_date(ledger)
    ledger.close()
    docs = write_batch(home.root.parent / "long.csv", "long", 25, due)
    impatient = warm_cli(
        home, "--as", "core", "cny", "transfer", "supplier1", "1", env={"LIANDAI_LOCK_TIMEOUT": "0"}
    )
    batch = home.root.parent / "long.csv"
    first = cli(home, "--as", "core", "receivable", "import", str(batch), "--json")
    # The batch holds the chain from its first block on; the impatient payment comes then.
    last = wal_stamp(home)
    while wal_stamp(home) == last and first.poll() is None:
        time.sleep(0.001)
    assert impatient.stdin is not None
    impatient.stdin.write("go\n")
    impatient.stdin.flush()
    out2, err2 = impatient.communicate(timeout=60)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert impatient.returncode == 1 and out2 == "", err2
    assert err2.count("\n") == 1 and "Traceback" not in err2
    assert "in use by another liandai process" in err2 and str(first.pid) in err2
    ledger = witness.check(home)
    assert issued_prefix(ledger, docs) == 25
    assert ledger.balance_fen(ledger.resolve("supplier1")) == 0  # the refused payment: not sent
    ledger.close()


def test_two_clis_through_a_running_node_both_end_correctly_or_refuse_in_one_line(
    home: Home,
) -> None:
    """Same signer, same moment, through the node: both mined (nonces serialised by the
    node) or one refused with one line; never a fork, never a lost transaction."""
    witness = Witness()
    witness.check(home).close()
    node = cli(home, "node", "--port", "0")
    assert node.stdout is not None and "serving" in node.stdout.readline()
    outcomes = []
    try:
        for _ in range(3):
            procs = [
                cli(home, "--as", "core", "cny", "transfer", "supplier1", "0.01", "--json")
                for _ in range(2)
            ]
            for p in procs:
                out, err = p.communicate(timeout=60)
                outcomes.append(p.returncode)
                if p.returncode == 0:
                    record_output(witness, out)
                else:
                    assert p.returncode == 1 and err.count("\n") == 1, err
                    assert "Traceback" not in err
    finally:
        node.send_signal(signal.SIGINT)
        node.communicate(timeout=30)
    assert node.returncode == 0
    ledger = witness.check(home)
    paid = ledger.balance_fen(ledger.resolve("supplier1"))
    assert paid == outcomes.count(0), "a payment was reported but not made, or the reverse"
    ledger.close()


def test_ctrl_c_during_a_batch_import_leaves_exactly_the_reported_rows_issued(home: Home) -> None:
    witness = Witness()
    ledger = witness.check(home)
    due = due_date(ledger)
    ledger.close()
    docs = write_batch(home.root.parent / "big.csv", "interrupted", 60, due)
    proc = cli(
        home, "--as", "core", "receivable", "import", str(home.root.parent / "big.csv"), "--json"
    )
    seen, last = 0, wal_stamp(home)
    while proc.poll() is None and seen < 5:
        if (stamp := wal_stamp(home)) != last:
            seen, last = seen + 1, stamp
        time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (1, 130), err
    assert "Traceback" not in err and err.count("\n") == 1, err
    ledger = witness.check(home)
    n = issued_prefix(ledger, docs)
    assert 0 < n < len(docs)
    reported = [row for row in json.loads(out) if row.get("id")] if out.strip() else []
    # What was reported issued is on the chain, and so is nothing else: the row in flight
    # when Ctrl-C came is checked on the chain by its document.
    assert len(reported) == n
    ledger.close()


def test_ctrl_c_right_after_a_row_is_mined_still_reports_that_row_issued(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.engine.batch import issue_rows, read_rows
    from ledger.engine.tx import Sender

    ledger = Ledger.open(home, signer="core")
    path = home.root.parent / "rows.csv"
    docs = write_batch(path, "ctrl-c", 3, due_date(ledger))
    rows = read_rows(ledger, path)
    wait = Sender.wait

    def mined_then_interrupted(self: Sender, tx_hash: str, tx: Any = None) -> Any:
        wait(self, tx_hash, tx)  # the row's transaction is mined and committed ...
        raise KeyboardInterrupt  # ... and Ctrl-C arrives before the client returns

    monkeypatch.setattr(Sender, "wait", mined_then_interrupted)
    results = issue_rows(ledger, rows, progress=False)
    monkeypatch.undo()
    on_chain = issued_prefix(ledger, docs)
    ledger.close()
    assert on_chain == 1
    assert [r["error"] for r in results].count(None) == on_chain, results


def test_ctrl_c_during_the_demo_leaves_a_chain_whose_trail_verifies(tmp_path: Path) -> None:
    """`liandai demo` deploys and runs the whole story (dozens of transactions)."""
    home = Home.at(tmp_path / "demo")
    proc = cli(home, "demo")
    # Interrupt the story itself: wait for the deployment record, then a few blocks more.
    while not home.deployment_file("embedded").exists() and proc.poll() is None:
        time.sleep(0.01)
    seen, last = 0, wal_stamp(home)
    while proc.poll() is None and seen < 10:
        if (stamp := wal_stamp(home)) != last:
            seen, last = seen + 1, stamp
        time.sleep(0.001)
    assert proc.poll() is None, "the demo ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().startswith("liandai: "), err
    Witness().check(home).close()


def test_ctrl_c_in_any_command_prints_exactly_one_line(
    run: Any, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Ledger) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Ledger, "chain_info", interrupted)
    r = run(home, "chain", "info")
    assert r.code == 130
    assert r.err.count("\n") == 1 and r.err.startswith("liandai: "), repr(r.err)
