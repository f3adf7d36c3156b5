"""Throughput: receipts settled per second through the Python client, sequentially and
pipelined (sign and send many, then collect the receipts), on the persistent embedded chain
and on anvil — with the raw rate of plain e-CNY transfers on the same backend as reference.

Run: `.venv/bin/python -m bench.throughput [--n N] [--repeat R]`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from tests.conftest import running_anvil, seed

ROOT = Path(__file__).resolve().parent.parent
GAS = 900_000


@contextmanager
def backend(kind: str) -> Iterator[Ledger]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.at(Path(tmp) / "home")
        if kind == "anvil":
            with running_anvil() as url:
                initialise(home, rpc=url, dev=True)
                with Ledger.open(home, rpc=url) as op:
                    yield op
        else:
            initialise(home, dev=True)
            with Ledger.open(home) as op:
                yield op


def open_loan(op: Ledger) -> int:
    """A disbursed 2-tranche loan with fee and provision, big enough for many receipts."""
    seed(op)
    op.as_signer("issuer").mint(op.resolve("supplier1"), 10**13)
    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
    rid = core.receivables.issue(
        op.resolve("supplier1"), 10**11, now + 400 * 86_400, b"\x42" * 32
    ).id
    s1.receivables.accept(rid)
    request = LoanRequest(
        borrower=op.resolve("supplier1"),
        tranches=[
            TrancheRequest(
                lender=op.resolve("bank"), senior=True, amount_fen=70_000_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=30_000_000_00),
        ],
        receivable_ids=[rid],
        rate_bps=1000,
        term_days=360,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=op.resolve("tech"),
    )
    for name, fen in (("bank", 10**12), ("microloan", 10**12)):
        op.as_signer("issuer").mint(op.resolve(name), fen)
    lid = op.as_signer("microloan").loans.propose(request).id
    s1.loans.accept(lid)
    op.as_signer("bank").loans.fund(lid)
    op.as_signer("microloan").loans.fund(lid)
    op.as_signer("microloan").loans.disburse(lid)
    return lid


def _calldata(op: Ledger, contract: str, fn: str, *args: object) -> str:
    return str(getattr(op.contract(contract).functions, fn)(*args)._encode_transaction_data())


def rate(op: Ledger, signer: str, contract: str, data: str, n: int, pipelined: bool) -> float:
    sender = op.as_signer(signer).sender
    to = op.deployment.address(contract)
    start = time.perf_counter()
    if pipelined:
        hashes = [sender.send_raw(sender.build(to, data, gas=GAS)) for _ in range(n)]
        for h in hashes:
            sender.wait(h)
    else:
        for _ in range(n):
            sender.transact(to, data, gas=GAS, simulate=False)
    return n / (time.perf_counter() - start)


def measure(n: int = 200, repeat: int = 3) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for kind in ("embedded", "anvil"):
        # A fresh chain per mode: anvil's time per block grows with its chain (states pruned
        # to memory), so the later mode would otherwise pay for the earlier one's blocks.
        for mode in ("sequential", "pipelined"):
            with backend(kind) as op:
                lid = open_loan(op)
                transfer = _calldata(op, "DigitalRMB", "transfer", op.resolve("supplier2"), 1)
                repay = _calldata(op, "LoanBook", "repay", lid, 1_000)
                samples: dict[str, list[float]] = {"transfer": [], "settlement": []}
                for _ in range(repeat):  # side by side, interleaved: noise hits both alike
                    samples["transfer"].append(
                        rate(op, "core", "DigitalRMB", transfer, n, mode == "pipelined")
                    )
                    samples["settlement"].append(
                        rate(op, "supplier1", "LoanBook", repay, n, mode == "pipelined")
                    )
                for what, values in samples.items():
                    results[f"{what} {mode} ({kind})"] = {
                        "median_per_s": round(statistics.median(values), 1),
                        "min_per_s": round(min(values), 1),
                        "max_per_s": round(max(values), 1),
                        "runs": len(values),
                        "n": n,
                    }
                ratio = statistics.median(samples["settlement"]) / statistics.median(
                    samples["transfer"]
                )
                results[f"settlement / transfer {mode} ({kind})"] = {"ratio": round(ratio, 3)}
    return results


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = sys.argv[1:] if argv is None else argv
    get: Callable[[str, int], int] = lambda k, d: int(args[args.index(k) + 1]) if k in args else d  # noqa: E731
    results = measure(get("--n", 200), get("--repeat", 3))
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, r in results.items():
        print(f"{name:<44} {r}")
    return results


if __name__ == "__main__":
    main()
