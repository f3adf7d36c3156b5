"""Scale: gas does not grow with the ledger, the chain file's growth, and list/show speed.

- gas of the 1st and the N-th receivable issue, and of a settlement on loan 1 and loan N
  (equal: no operation scans the ledger), on anvil with N loans built by pipelined sends;
- `receivable list`, `loan list` and `loan show` wall time at N loans, separate processes;
- embedded-chain file size per 1,000 settlements.

Run: `.venv/bin/python -m bench.scale [--loans N] [--settlements M]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

from bench.throughput import open_loan
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.models import Admission
from ledger.roles import Role
from tests.conftest import running_anvil, seed

ROOT = Path(__file__).resolve().parent.parent
GAS = 1_500_000
CHUNK = 500


def _no_zero_bytes(tag: str) -> bytes:
    """A 32-byte value without zero bytes (calldata zero bytes are cheaper: keep gas equal)."""
    n = 0
    while True:
        value = keccak(text=f"{tag}/{n}")
        if 0 not in value:
            return value
        n += 1


def _fresh_supplier(op: Ledger, tag: str) -> str:
    n = 0
    while True:
        acct = Account.from_key(keccak(text=f"supplier {tag} {n}"))
        if 0 not in bytes.fromhex(acct.address[2:]):
            op.admit(Admission(address=acct.address, roles=Role.SUPPLIER))
            return str(acct.address)
        n += 1


def _pipeline(
    op: Ledger, signer: str, contract: str, calls: list[tuple[str, tuple[Any, ...]]]
) -> list[Any]:
    """Send every call signed by `signer` without waiting, then collect all receipts.

    With anvil's automine off, each chunk is mined as one block: anvil's cost per block
    grows with the size of its state, so 80,000 one-transaction blocks would take hours."""
    sender = op.as_signer(signer).sender
    to = op.deployment.address(contract)
    fns = op.contract(contract).functions
    sent: list[Any] = []
    for start in range(0, len(calls), CHUNK):  # bounded: a node's pool is not infinite
        _rpc(op, "evm_setAutomine", False)
        hashes = [
            sender.send_raw(
                sender.build(to, getattr(fns, fn)(*args)._encode_transaction_data(), gas=GAS)
            )
            for fn, args in calls[start : start + CHUNK]
        ]
        _rpc(op, "evm_mine")
        _rpc(op, "evm_setAutomine", True)
        sent += [sender.wait(h) for h in hashes]
    return sent


def _rpc(op: Ledger, method: str, *params: Any) -> Any:
    response = op.chain.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response["result"]


def build_ledger(op: Ledger, loans: int) -> dict[str, Any]:
    """`loans` disbursed loans, one receivable each, one repayment each; gas probes at both ends."""
    seed(op)
    issuer = op.as_signer("issuer")
    for name in ("bank", "microloan", "supplier1"):
        issuer.mint(op.resolve(name), 10**14)
    net = 10**16
    regulator = op.as_signer("regulator")  # net assets are a regulator's to set (§6.6)
    regulator.set_net_assets(op.resolve("bank"), net)
    regulator.set_net_assets(op.resolve("microloan"), net)
    now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
    due = now + 3 * 365 * 86_400
    supplier1 = op.resolve("supplier1")
    gas: dict[str, int] = {}

    first_supplier = _fresh_supplier(op, "first")
    sent = _pipeline(
        op,
        "core",
        "ReceivableToken",
        [("issue", (first_supplier, 1_000_000_00, due, _no_zero_bytes("first")))],
    )
    gas["receivable.issue #1"] = sent[0].gas_used
    base_rid = int(op.contract("ReceivableToken").functions.nextId().call())
    t0 = time.perf_counter()
    _pipeline(
        op,
        "core",
        "ReceivableToken",
        [("issue", (supplier1, 1_000_000_00, due, keccak(text=f"doc {i}"))) for i in range(loans)],
    )
    _pipeline(
        op, "supplier1", "ReceivableToken", [("accept", (base_rid + i,)) for i in range(loans)]
    )
    last_supplier = _fresh_supplier(op, "last")
    sent = _pipeline(
        op,
        "core",
        "ReceivableToken",
        [("issue", (last_supplier, 1_000_000_00, due, _no_zero_bytes("last")))],
    )
    gas[f"receivable.issue #{loans + 2}"] = sent[0].gas_used

    base_lid = int(op.contract("LoanBook").functions.nextLoanId().call())
    requests = [
        LoanRequest(
            borrower=supplier1,
            tranches=[
                TrancheRequest(
                    lender=op.resolve("bank"), senior=True, amount_fen=70_000_00, coupon_bps=500
                ),
                TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=30_000_00),
            ],
            receivable_ids=[base_rid + i],
            rate_bps=1000,
            term_days=90,
            fee_share_bps=2000,
            provision_share_bps=1000,
            tech_partner=op.resolve("tech"),
        )
        for i in range(loans)
    ]
    docs = [r.terms_document() for r in requests]
    _pipeline(op, "microloan", "LoanBook", [("propose", (d,)) for d in docs])
    _pipeline(
        op,
        "supplier1",
        "LoanBook",
        [("accept", (base_lid + i, keccak(d))) for i, d in enumerate(docs)],
    )
    _pipeline(op, "bank", "LoanBook", [("fund", (base_lid + i,)) for i in range(loans)])
    _pipeline(op, "microloan", "LoanBook", [("fund", (base_lid + i,)) for i in range(loans)])
    _pipeline(op, "microloan", "LoanBook", [("disburse", (base_lid + i,)) for i in range(loans)])
    op.chain.advance_time(30 * 86_400)
    _pipeline(
        op, "supplier1", "LoanBook", [("repay", (base_lid + i, 10_000_00)) for i in range(loans)]
    )
    build_s = time.perf_counter() - t0
    # Both probes in the same state: a month of interest due on each, same parties.
    op.chain.advance_time(30 * 86_400)
    first, last = _pipeline(
        op,
        "supplier1",
        "LoanBook",
        [("repay", (base_lid, 10_000_00)), ("repay", (base_lid + loans - 1, 10_000_00))],
    )
    gas["loan.settle on loan #1"] = first.gas_used
    gas[f"loan.settle on loan #{loans}"] = last.gas_used
    # A larger loan id has more non-zero calldata bytes (16 gas each instead of 4): the
    # execution, what would grow if anything scanned the ledger, is compared without them.
    for label, probe in (("#1", first), (f"#{loans}", last)):
        tx = op.chain.w3.eth.get_transaction(probe.tx)
        data = bytes(tx["input"])
        calldata = sum(16 if b else 4 for b in data)
        gas[f"loan.settle on loan {label}, less calldata"] = probe.gas_used - calldata
    return {"gas": gas, "build_s": round(build_s, 1), "transactions": 8 * loans}


def _cli(home: Home, rpc: str, *args: str) -> float:
    env = dict(os.environ, LIANDAI_HOME=str(home.root), LIANDAI_RPC=rpc)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"{args}: {done.stderr.strip()}")
    return time.perf_counter() - start


def file_growth(settlements: int) -> dict[str, float]:
    """Chain file size (closed, write-ahead log folded in) per 1,000 settlements."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.at(Path(tmp) / "home")
        initialise(home, dev=True)
        with Ledger.open(home) as op:
            lid = open_loan(op)
        before = home.chain_file.stat().st_size
        with Ledger.open(home, signer="supplier1") as op:
            sender = op.sender
            data = op.contract("LoanBook").functions.repay(lid, 1_000)._encode_transaction_data()
            to = op.deployment.address("LoanBook")
            for _ in range(settlements):
                sender.transact(to, data, gas=GAS, simulate=False)
        after = home.chain_file.stat().st_size
    return {"bytes_per_1000_settlements": round((after - before) * 1000 / settlements)}


def measure(loans: int = 10_000, settlements: int = 1_000, runs: int = 3) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, running_anvil() as url:
        home = Home.at(Path(tmp) / "home")
        initialise(home, rpc=url, dev=True)
        with Ledger.open(home, rpc=url) as op:
            op.simulate = False
            results.update(build_ledger(op, loans))
        index_s = _cli(home, url, "receivable", "list", "--json")  # first run builds the index
        results["index build + first receivable list (s)"] = round(index_s, 2)
        for name, args in [
            ("receivable list", ["receivable", "list", "--json"]),
            ("loan list", ["loan", "list", "--json"]),
            ("loan show", ["loan", "show", "1", "--json"]),
        ]:
            samples = [_cli(home, url, *args) for _ in range(runs)]
            results[f"{name} at {loans} loans (s)"] = {
                "median": round(statistics.median(samples), 3),
                "min": round(min(samples), 3),
                "max": round(max(samples), 3),
            }
    results.update(file_growth(settlements))
    return results


def main() -> None:
    args = sys.argv[1:]
    loans = int(args[args.index("--loans") + 1]) if "--loans" in args else 10_000
    settlements = int(args[args.index("--settlements") + 1]) if "--settlements" in args else 1_000
    results = measure(loans, settlements)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
