"""`liandai report` on a ledger of 10,000 loans and 50,000 receivables, from the local index.

The report reads only the local event index (`ledger.supervision.index`), so the benchmark
builds a real home (contracts deployed on the embedded chain) and fills its index with a
synthetic but consistent history — members, receivables with split chains and payments,
loans with their status changes, settlements, pool movements — then marks the index as
synced to the chain's head, exactly as `Index.sync` leaves it. Mining the 300,000
transactions such a ledger takes would measure the chain, not the report.

Timed: the whole command, `liandai report --json` and `--html FILE`, each a fresh process
(median of the runs, import of the client included), and the in-process phases: loading
the index (with its sync check against the chain), computing every figure and alert, and
writing the JSON. Results go to bench-results/supervision-report.json and .md.

Run: `.venv/bin/python -m bench.report [--loans N] [--receivables N] [--runs R]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.roles import Role
from ledger.supervision.figures import Options, Report, book_of, document, local_names
from ledger.supervision.index import Index

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-results"
DAY = 86_400
TERMS = (30, 60, 90, 180, 365, 540)
RATES = (600, 800, 900, 1000, 1200, 1500, 1800)
TARGET_SECONDS = 2.0


def address(kind: int, n: int) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(f"0x{kind:02x}{n:038x}")


class Filler:
    """Writes a synthetic, internally consistent history into an index."""

    def __init__(self, db: Any, now: int, rng: random.Random) -> None:
        self.db = db
        self.now = now
        self.rng = rng
        self.block = 1_000
        self.lenders = [address(0x11, i) for i in range(20)]
        self.borrowers = [address(0x22, i) for i in range(2_000)]
        self.debtors = [address(0x33, i) for i in range(50)]
        self.tech = [address(0x44, i) for i in range(3)]
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.db_split: list[tuple[int, int, int]] = []
        self.db_paid: list[tuple[int, int, int]] = []

    def log(self) -> tuple[int, int]:
        self.block += 1
        return self.block, 0

    def add(self, table: str, *row: Any) -> None:
        self.rows.setdefault(table, []).append(row)

    def receivable(
        self,
        rid: int,
        root: int,
        parent: int | None,
        debtor: str,
        holder: str,
        face: int,
        maturity: int,
        depth: int,
        at: int,
        accepted_at: int | None = None,
    ) -> None:
        """One ACTIVE receivable row, issued (or split off) at `at`."""
        self.add(
            "receivables",
            *(rid, root, parent, debtor, holder, str(face), "0", maturity, "ACTIVE"),
            *(f"0x{root:064x}", None, 0, None, depth, at, None),
            at if accepted_at is None else accepted_at,
            None,
        )

    def members(self) -> None:
        start = self.now - 800 * DAY
        groups = [
            (self.lenders, Role.LENDER),
            (self.borrowers, Role.SUPPLIER),
            (self.debtors, Role.CORE_ENTERPRISE),
            (self.tech, Role.TECH_PARTNER),
        ]
        for group, role in groups:
            for a in group:
                net = self.rng.randrange(5, 50) * 10**10 if role == Role.LENDER else 0
                region = self.rng.choice(("440300", "440100", "310000"))  # GB/T 2260
                self.add("members", a, int(role), "ACTIVE", str(net), start, region)
                block, index = self.log()
                self.add(
                    "member_events",
                    block,
                    index,
                    start,
                    "0x" + "00" * 32,
                    a,
                    "ADMITTED",
                    str(net),
                    None,
                )

    def receivables(self, count: int) -> list[int]:
        """`count` receivables: roots, 2-way splits and splits of splits (tiers 2 and 3);
        returns live unpledged ids to pledge."""
        rng, rid = self.rng, 0
        live: list[int] = []
        while rid < count:
            rid += 1
            root = rid
            issued = self.now - rng.randrange(30, 720) * DAY
            maturity = issued + rng.choice((60, 90, 180, 365)) * DAY
            face = rng.randrange(10_000, 5_000_000) * 100
            debtor = rng.choice(self.debtors)
            holder = rng.choice(self.borrowers)
            self.receivable(
                root, root, None, debtor, holder, face, maturity, 0, issued, issued + 60
            )
            tokens = [(root, face, 0)]
            if rng.random() < 0.4 and rid + 2 <= count:
                parent, pface, depth = tokens.pop()
                split_at = issued + DAY
                kids = []
                for part in (pface // 2, pface - pface // 2):
                    rid += 1
                    kids.append((rid, part, depth + 1))
                    self.receivable(
                        rid, root, parent, debtor, holder, part, maturity, depth + 1, split_at
                    )
                self.db_split.append((parent, kids[0][0], split_at))
                tokens = kids
                if rng.random() < 0.3 and rid + 2 <= count:
                    parent, pface, depth = tokens.pop()
                    for part in (pface // 2, pface - pface // 2):
                        rid += 1
                        tokens.append((rid, part, depth + 1))
                        self.receivable(
                            rid,
                            root,
                            parent,
                            debtor,
                            holder,
                            part,
                            maturity,
                            depth + 1,
                            split_at + DAY,
                        )
                    self.db_split.append((parent, rid - 1, split_at + DAY))
            for token, tface, _ in tokens:
                # most are paid by maturity, some late, a few never
                late = rng.random()
                paid_at = (
                    maturity
                    + (rng.randrange(-30, 1) if late < 0.85 else rng.randrange(1, 60)) * DAY
                )
                if paid_at < self.now and late < 0.97:
                    block, index = self.log()
                    self.add("receivable_payments", token, block, index, paid_at, str(tface), None)
                    self.db_paid.append((token, tface, paid_at))
                else:
                    live.append(token)
        return live

    def loans(self, count: int, pledgeable: list[int]) -> None:
        rng = self.rng
        pool_balance = 0
        for loan_id in range(1, count + 1):
            proposed = self.now - rng.randrange(2, 700) * DAY
            term = rng.choice(TERMS)
            rate = rng.choice(RATES)
            lenders = rng.sample(self.lenders, rng.choice((1, 2, 2, 3)))
            amounts = [rng.randrange(50_000, 2_000_000) * 100 for _ in lenders]
            senior = [i == 0 and len(lenders) > 1 for i in range(len(lenders))]
            borrower = rng.choice(self.borrowers)
            tech = rng.choice(self.tech)
            rid = pledgeable[loan_id % len(pledgeable)]
            request = LoanRequest(
                borrower=borrower,
                tranches=[
                    TrancheRequest(lender=a, senior=s, amount_fen=x, coupon_bps=500 if s else 0)
                    for a, s, x in zip(lenders, senior, amounts, strict=True)
                ],
                receivable_ids=[rid],
                rate_bps=rate,
                term_days=term,
                fee_share_bps=1000,
                provision_share_bps=500,
                tech_partner=tech,
            )
            disbursed = proposed + 3_600
            maturity = disbursed + term * DAY
            roll = rng.random()
            events: list[tuple[str, int, str | None]] = [
                ("PROPOSED", proposed, None),
                ("ACCEPTED", proposed + 600, None),
            ]
            if roll < 0.03:
                status = "PROPOSED" if roll < 0.01 else "ACCEPTED"
                events = events[: 1 if status == "PROPOSED" else 2]
            elif roll < 0.06:
                status = "CANCELLED"
                events.append(("CANCELLED", proposed + 1_200, None))
            else:
                for i, a in enumerate(lenders):
                    last = i == len(lenders) - 1
                    events.append(("FUNDED" if last else "FUNDING", proposed + 1_800 + i, a))
                events.append(("DISBURSED", disbursed, None))
                status = "DISBURSED"
            settlements: list[tuple[int, str, int, list[int], list[int], int]] = []
            outstanding = list(amounts) if status == "DISBURSED" else [0] * len(amounts)
            if status == "DISBURSED":
                end = min(self.now - 60, maturity + 200 * DAY)
                repaid = maturity < self.now and rng.random() < 0.95
                if repaid:
                    at = min(end, maturity + rng.randrange(-10, 20) * DAY)
                    interest = [
                        x * rate * (at - disbursed) // (10_000 * 31_536_000) for x in amounts
                    ]
                    settlements.append(
                        (at, "REPAYMENT", sum(amounts) + sum(interest), interest, list(amounts), 0)
                    )
                    outstanding = [0] * len(amounts)
                    status = "REPAID"
                    events.append(("REPAID", at, None))
                else:
                    if rng.random() < 0.5:
                        at = disbursed + (self.now - disbursed) // 2
                        part = [x // 5 for x in amounts]
                        settlements.append((at, "SWEEP", sum(part), [0] * len(part), part, 0))
                        outstanding = [x - p for x, p in zip(outstanding, part, strict=True)]
                    if maturity + 90 * DAY < self.now and rng.random() < 0.6:
                        at = maturity + 91 * DAY
                        cover = min(pool_balance, sum(outstanding) // 3)
                        parts, left = [], cover
                        for x in outstanding:
                            take = min(x, left)
                            parts.append(take)
                            left -= take
                        pool_balance -= cover
                        settlements.append((at, "COVER", cover, [0] * len(parts), parts, 0))
                        outstanding = [x - p for x, p in zip(outstanding, parts, strict=True)]
                        status = "DEFAULTED"
                        events.append(("DEFAULTED", at, None))
            tranches = [
                [a, s, x, 500 if s else 0] for a, s, x in zip(lenders, senior, amounts, strict=True)
            ]
            is_out = status in ("DISBURSED", "REPAID", "DEFAULTED")
            self.add(
                "loans",
                loan_id,
                status,
                borrower,
                lenders[0],
                request.terms_document(),
                "0x" + "ab" * 32,
                str(sum(amounts)),
                json.dumps(outstanding if is_out else amounts),
                json.dumps([is_out] * len(amounts)),
                proposed,
                disbursed if is_out else 0,
                maturity if is_out else 0,
                None,
                rate,
                term,
                0,
                tech,
                json.dumps(tranches),
                json.dumps([rid]),
            )
            for st, at, lender in events:
                block, index = self.log()
                self.add("loan_events", loan_id, block, index, at, st, lender)
            for at, source, _, interest, principal, residual in sorted(settlements):
                block, index = self.log()
                fee, provision = sum(interest) // 10, sum(interest) // 20
                amount = fee + provision + sum(interest) + sum(principal) + residual
                self.add(
                    "settlements",
                    loan_id,
                    block,
                    index,
                    f"0x{block:064x}",
                    at,
                    source,
                    borrower,
                    str(amount),
                    str(fee),
                    str(provision),
                    json.dumps(interest),
                    json.dumps(principal),
                    str(residual),
                    borrower,
                )
                if provision:
                    pool_balance += provision
                    self.add("pool", block, index + 1, "PROVISION", borrower, str(provision), at)
                if source == "COVER":
                    self.add("pool", block, index + 1, "COVER", None, str(amount), at)
            if loan_id % 100 == 0:
                block, index = self.log()
                gift = 5_000_000 * 100
                pool_balance += gift
                self.add(
                    "pool",
                    block,
                    index,
                    "CONTRIBUTION",
                    rng.choice(self.lenders),
                    str(gift),
                    proposed,
                )

    def write(self) -> dict[str, int]:
        for table, rows in self.rows.items():
            marks = ",".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        for parent, first, at in self.db_split:
            self.db.execute(
                "UPDATE receivables SET status = 'SPLIT', first_child = ?, child_count = 2,"
                " holder = NULL, ended_at = ? WHERE id = ?",
                (first, at, parent),
            )
        for token, face, at in self.db_paid:
            self.db.execute(
                "UPDATE receivables SET status = 'PAID', paid_fen = ?, paid_off_at = ?"
                " WHERE id = ?",
                (str(face), at, token),
            )
        self.db.commit()
        return {t: len(r) for t, r in self.rows.items()}


def build(home: Home, loans: int, receivables: int) -> dict[str, int]:
    initialise(home, dev=True)
    with Ledger.open(home) as ledger:
        index = Index(ledger)
        head = index.sync()
        block = ledger.chain.w3.eth.get_block(head)
        filler = Filler(index.db, int(block["timestamp"]), random.Random(20_240_601))
        filler.members()
        live = filler.receivables(receivables)
        filler.loans(loans, live)
        counts = filler.write()
        index.scan_attempts(head)
        index.close()
    return counts


def timed_process(home: Home, args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (user + system) of each run of `liandai report ARGS`. The CPU
    time is what the command costs whatever else the machine is doing."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cli.main", "--home", str(home.root), "report", *args],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def phases(home: Home) -> dict[str, float]:
    """The command's steps in this process, the cycle collector paused as the command does."""
    gc.disable()
    try:
        return _phases(home)
    finally:
        gc.enable()


def _phases(home: Home) -> dict[str, float]:
    with Ledger.open(home) as ledger:
        t0 = time.perf_counter()
        book = book_of(ledger)
        t1 = time.perf_counter()
        report = Report(book, Options(as_of=book.head_at), local_names(ledger))
        doc = document(report, network=ledger.chain.network)
        t2 = time.perf_counter()
        json.dumps(doc, ensure_ascii=False, indent=2)
        t3 = time.perf_counter()
    assert doc["ledger"]["loan_book"]["count"]["value"] == len(book.loans)
    return {"load_index_s": t1 - t0, "compute_s": t2 - t1, "json_s": t3 - t2}


def measure() -> dict[str, Any]:
    """`make bench`'s part: the full size, three runs."""
    main(["--runs", "3"])
    return dict(json.loads((OUT / "supervision-report.json").read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--receivables", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.at(Path(tmp) / "home")
        counts = build(home, args.loans, args.receivables)
        timed_process(home, ["--json"], 1)  # warm the page cache and .pyc files
        json_wall, json_cpu = timed_process(home, ["--json"], args.runs)
        html_wall, html_cpu = timed_process(home, ["--html", str(Path(tmp) / "r.html")], args.runs)
        inner = [phases(home) for _ in range(args.runs)]
    result = {
        "loans": args.loans,
        "receivables": args.receivables,
        "index_rows": counts,
        "runs": args.runs,
        "report_json_s": {"median": statistics.median(json_wall), "all": json_wall},
        "report_json_cpu_s": {"median": statistics.median(json_cpu), "all": json_cpu},
        "report_html_s": {"median": statistics.median(html_wall), "all": html_wall},
        "report_html_cpu_s": {"median": statistics.median(html_cpu), "all": html_cpu},
        "in_process_s": {k: statistics.median(p[k] for p in inner) for k in inner[0]},
        "target_s": TARGET_SECONDS,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "supervision-report.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    med = {k: result[k]["median"] for k in result if k.startswith("report_")}
    phase = result["in_process_s"]
    md = [
        f"# `liandai report` at {args.loans:,} loans and {args.receivables:,} receivables",
        "",
        f"Median of {args.runs} runs, each a fresh process (`.venv/bin/python -m bench.report`), "
        f"{result['cpus']} CPUs, load average {result['load_average_1m']} at the end. CPU is "
        "user + system time of the process: the wall time on an otherwise idle machine.",
        "",
        "| what | wall s | CPU s |",
        "|---|---:|---:|",
        f"| `liandai report --json` (whole command) | {med['report_json_s']:.2f} | "
        f"{med['report_json_cpu_s']:.2f} |",
        f"| `liandai report --html FILE` (whole command) | {med['report_html_s']:.2f} | "
        f"{med['report_html_cpu_s']:.2f} |",
        f"| in process: open and load the index (sync check included) | "
        f"{phase['load_index_s']:.2f} | |",
        f"| in process: every figure and alert | {phase['compute_s']:.2f} | |",
        f"| in process: JSON text | {phase['json_s']:.2f} | |",
        "",
        f"Target: under {TARGET_SECONDS:.0f} s. Index rows: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + ".",
    ]
    (OUT / "supervision-report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0 if max(med["report_json_cpu_s"], med["report_html_cpu_s"]) < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
