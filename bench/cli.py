"""CLI latency: `--help`, a read (`loan show`) and a transaction (`loan disburse`), each a
fresh process, on the embedded chain and through `liandai node`; medians and spread.

Run: `.venv/bin/python -m bench.cli [--runs N]`. Each disbursement gets its own funded loan,
prepared in this process beforehand, so the timed process does exactly one transaction.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home

ROOT = Path(__file__).resolve().parent.parent
LIANDAI = [sys.executable, "-m", "cli.main"]


def _funded_loans(home: Home, count: int) -> list[int]:
    """`count` loans accepted and fully funded, ready for `loan disburse`."""
    from tests.conftest import seed

    with Ledger.open(home) as op:
        if not op.members() or len(op.members()) < 3:
            seed(op)
        core, s1 = op.as_signer("core"), op.as_signer("supplier1")
        now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
        ids = []
        for _ in range(count):
            doc = os.urandom(32)
            rid = core.receivables.issue(
                op.resolve("supplier1"), 1_000_000_00, now + 400 * 86_400, doc
            ).id
            s1.receivables.accept(rid)
            request = LoanRequest(
                borrower=op.resolve("supplier1"),
                tranches=[
                    TrancheRequest(
                        lender=op.resolve("bank"), senior=True, amount_fen=70_000_00, coupon_bps=500
                    ),
                    TrancheRequest(
                        lender=op.resolve("microloan"), senior=False, amount_fen=30_000_00
                    ),
                ],
                receivable_ids=[rid],
                rate_bps=1000,
                term_days=90,
            )
            lid = op.as_signer("microloan").loans.propose(request).id
            s1.loans.accept(lid)
            op.as_signer("bank").loans.fund(lid)
            op.as_signer("microloan").loans.fund(lid)
            ids.append(lid)
        return ids


def _time(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(LIANDAI + args, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": len(samples),
    }


def measure(runs: int = 7) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.at(Path(tmp) / "home")
        initialise(home, dev=True)
        loans = _funded_loans(home, 2 * runs)
        env = dict(os.environ, LIANDAI_HOME=str(home.root))
        results["help"] = _summary([_time(["--help"], env) for _ in range(runs)])
        for backend in ("embedded", "node"):
            node = None
            if backend == "node":
                node = subprocess.Popen(
                    [*LIANDAI, "node", "--port", "0"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert node.stdout is not None
                node.stdout.readline()
            try:
                batch = loans[:runs] if backend == "embedded" else loans[runs:]
                results[f"loan show ({backend})"] = _summary(
                    [_time(["loan", "show", str(batch[0]), "--json"], env) for _ in range(runs)]
                )
                results[f"loan disburse ({backend})"] = _summary(
                    [
                        _time(["--as", "microloan", "loan", "disburse", str(lid)], env)
                        for lid in batch
                    ]
                )
            finally:
                if node is not None:
                    node.send_signal(signal.SIGTERM)
                    node.wait(timeout=30)
    return results


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    results = measure(runs)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "cli.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, r in results.items():
        print(
            f"{name:<28} median {r['median_s']:.3f} s  "
            f"(min {r['min_s']:.3f}, max {r['max_s']:.3f}, {r['runs']} runs)"
        )


if __name__ == "__main__":
    main()
