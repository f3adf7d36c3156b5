"""The local event index: receivables, loans and settlements, built from chain logs.

`list` and `show` read it instead of calling the chain once per token. It lives in
`<home>/index/<network>.sqlite`, catches up from the last indexed block on every use, and
is rebuilt from the deployment's first block when missing, when the deployment changed, or
when the chain no longer has the block it last indexed (a rebuilt or forked chain).
Amounts are stored as decimal text (fen can exceed SQLite's 64-bit integers).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ledger import artifacts, waterfall
from ledger.loans import SOURCES, LoanView, SettlementView, TrancheView, decode_terms

if TYPE_CHECKING:
    from ledger.client import Ledger

SCHEMA_VERSION = "1"
WINDOW_BLOCKS = 2_000
ZERO = "0x" + "00" * 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receivables (
    id INTEGER PRIMARY KEY, root INTEGER NOT NULL, parent INTEGER, debtor TEXT NOT NULL,
    holder TEXT, face_value_fen TEXT NOT NULL, paid_fen TEXT NOT NULL, maturity_at INTEGER NOT NULL,
    status TEXT NOT NULL, doc_hash TEXT NOT NULL, first_child INTEGER, child_count INTEGER NOT NULL,
    pledged_to INTEGER, depth INTEGER NOT NULL, issued_at INTEGER NOT NULL,
    paid_off_at INTEGER
);
CREATE INDEX IF NOT EXISTS receivables_holder ON receivables(holder);
CREATE INDEX IF NOT EXISTS receivables_status ON receivables(status);
CREATE TABLE IF NOT EXISTS loans (
    id INTEGER PRIMARY KEY, status TEXT NOT NULL, borrower TEXT NOT NULL, originator TEXT NOT NULL,
    terms BLOB NOT NULL, terms_hash TEXT NOT NULL, principal_fen TEXT NOT NULL,
    outstanding_json TEXT NOT NULL, funded_json TEXT NOT NULL, proposed_at INTEGER NOT NULL,
    disbursed_at INTEGER NOT NULL, maturity_at INTEGER NOT NULL, closed_at INTEGER
);
CREATE INDEX IF NOT EXISTS loans_borrower ON loans(borrower);
CREATE TABLE IF NOT EXISTS settlements (
    loan_id INTEGER NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL,
    at INTEGER NOT NULL, source TEXT NOT NULL, payer TEXT NOT NULL, amount_fen TEXT NOT NULL,
    fee_fen TEXT NOT NULL, provision_fen TEXT NOT NULL, interest_json TEXT NOT NULL,
    principal_json TEXT NOT NULL, residual_fen TEXT NOT NULL, residual_to TEXT,
    PRIMARY KEY (block, log_index)
);
CREATE INDEX IF NOT EXISTS settlements_loan ON settlements(loan_id);
CREATE TABLE IF NOT EXISTS pool (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, kind TEXT NOT NULL, member TEXT,
    amount_fen TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (block, log_index)
);
"""


class Index:
    """The index of one home and network; `sync` before reading."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        path = ledger.home.root / "index" / f"{ledger.chain.network}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(_SCHEMA)
        self._times: dict[int, int] = {}

    def close(self) -> None:
        self.db.close()

    # -- sync --------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def _identity(self) -> str:
        d = self.ledger.deployment
        return f"{SCHEMA_VERSION}:{d.chain_id}:{d.address('AuditTrail')}:{d.start_block}"

    def _reset(self) -> None:
        for table in ("receivables", "loans", "settlements", "pool", "meta"):
            self.db.execute(f"DELETE FROM {table}")

    def sync(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Catch up with the chain; return the block indexed to."""
        w3 = self.ledger.chain.w3
        head = int(w3.eth.block_number)
        last = self._meta("last_block")
        stale = self._meta("identity") != self._identity()
        if not stale and last is not None:
            known = self._meta("last_hash")
            block = w3.eth.get_block(int(last)) if int(last) <= head else None
            stale = block is None or "0x" + bytes(block["hash"]).hex() != known
        if stale:
            self._reset()
            last = None
        start = self.ledger.deployment.start_block if last is None else int(last) + 1
        if start <= head:
            for n, logs in enumerate(self._windows(start, head)):
                for log in logs:
                    self._apply(log)
                if progress is not None:
                    progress(
                        min(head, start + (n + 1) * WINDOW_BLOCKS - 1) - start + 1, head - start + 1
                    )
        if start <= head or stale:
            head_hash = "0x" + bytes(w3.eth.get_block(head)["hash"]).hex()
            self._set_meta(identity=self._identity(), last_block=str(head), last_hash=head_hash)
        self.db.commit()
        return head

    def _windows(self, start: int, end: int) -> Iterator[list[Any]]:
        addresses = [
            self.ledger.deployment.address(n)
            for n in ("ReceivableToken", "LoanBook", "ProvisionPool")
        ]
        while start <= end:
            stop = min(start + WINDOW_BLOCKS - 1, end)
            query: Any = {"address": addresses, "fromBlock": start, "toBlock": stop}
            yield list(self.ledger.chain.w3.eth.get_logs(query))
            start = stop + 1

    def _time(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = int(self.ledger.chain.w3.eth.get_block(block)["timestamp"])
        return self._times[block]

    def _decoder(self) -> dict[tuple[str, bytes], Any]:
        if not hasattr(self, "_decoders"):
            from ledger.audit import _topic0

            table = {}
            for contract in ("ReceivableToken", "LoanBook", "ProvisionPool"):
                c = self.ledger.contract(contract)
                address = self.ledger.deployment.address(contract).lower()
                for entry in artifacts.load(contract).abi:
                    if entry.get("type") == "event":
                        table[(address, _topic0(entry))] = getattr(c.events, entry["name"])()
            self._decoders = table
        return self._decoders

    def _apply(self, log: Any) -> None:
        key = (str(log["address"]).lower(), bytes(log["topics"][0]))
        event = self._decoder().get(key)
        if event is None:
            return
        decoded = event.process_log(log)
        handler = getattr(self, f"_on_{decoded['event']}", None)
        if handler is not None:
            handler(decoded["args"], log)

    # -- receivables -------------------------------------------------------------------------

    def _on_ReceivableIssued(self, a: Any, log: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO receivables VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a["id"],
                a["id"],
                None,
                a["debtor"],
                a["supplier"],
                str(a["valueFen"]),
                "0",
                a["maturityAt"],
                "PENDING",
                "0x" + bytes(a["docHash"]).hex(),
                None,
                0,
                None,
                0,
                self._time(log["blockNumber"]),
                None,
            ),
        )

    def _status(self, rid: int, status: str) -> None:
        self.db.execute("UPDATE receivables SET status = ? WHERE id = ?", (status, rid))

    def _on_ReceivableAccepted(self, a: Any, log: Any) -> None:
        self._status(a["id"], "ACTIVE")

    def _on_ReceivableRejected(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE receivables SET status = 'REJECTED', holder = NULL WHERE id = ?", (a["id"],)
        )

    def _on_ReceivableCancelled(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE receivables SET status = 'CANCELLED', holder = NULL WHERE id = ?", (a["id"],)
        )

    def _on_ReceivableSplit(self, a: Any, log: Any) -> None:
        parent = self.db.execute("SELECT * FROM receivables WHERE id = ?", (a["id"],)).fetchone()
        first, values = int(a["firstChild"]), list(a["valuesFen"])
        self.db.execute(
            "UPDATE receivables SET status = 'SPLIT', first_child = ?, child_count = ?,"
            " holder = NULL WHERE id = ?",
            (first, len(values), a["id"]),
        )
        at = self._time(log["blockNumber"])
        for i, value in enumerate(values):
            self.db.execute(
                "INSERT OR REPLACE INTO receivables VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    first + i,
                    parent["root"],
                    a["id"],
                    parent["debtor"],
                    a["holder"],
                    str(value),
                    "0",
                    parent["maturity_at"],
                    "ACTIVE",
                    parent["doc_hash"],
                    None,
                    0,
                    None,
                    parent["depth"] + 1,
                    at,
                    None,
                ),
            )

    def _on_ReceivableTransferred(self, a: Any, log: Any) -> None:
        self.db.execute("UPDATE receivables SET holder = ? WHERE id = ?", (a["to"], a["id"]))

    def _on_ReceivablePaid(self, a: Any, log: Any) -> None:
        row = self.db.execute(
            "SELECT face_value_fen FROM receivables WHERE id = ?", (a["id"],)
        ).fetchone()
        full = int(row[0]) == int(a["paidFen"])
        self.db.execute(
            "UPDATE receivables SET paid_fen = ?, status = CASE WHEN ? THEN 'PAID' ELSE status END,"
            " paid_off_at = CASE WHEN ? THEN ? ELSE paid_off_at END WHERE id = ?",
            (str(a["paidFen"]), full, full, self._time(log["blockNumber"]), a["id"]),
        )

    def _on_ReceivablesPledged(self, a: Any, log: Any) -> None:
        for rid in a["ids"]:
            self.db.execute(
                "UPDATE receivables SET status = 'PLEDGED', pledged_to = ? WHERE id = ?",
                (a["loanId"], rid),
            )

    def _on_ReceivablesReleased(self, a: Any, log: Any) -> None:
        for rid in a["ids"]:
            self.db.execute(
                "UPDATE receivables SET status = 'ACTIVE', pledged_to = NULL "
                "WHERE id = ? AND status = 'PLEDGED' AND pledged_to = ?",
                (rid, a["loanId"]),
            )

    # -- loans -------------------------------------------------------------------------------

    def _on_LoanProposed(self, a: Any, log: Any) -> None:
        request = decode_terms(bytes(a["terms"]))
        outstanding = [t.amount_fen for t in request.tranches]
        self.db.execute(
            "INSERT OR REPLACE INTO loans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a["loanId"],
                "PROPOSED",
                a["borrower"],
                a["originator"],
                bytes(a["terms"]),
                "0x" + bytes(a["termsHash"]).hex(),
                str(request.principal_fen),
                json.dumps(outstanding),
                json.dumps([False] * len(outstanding)),
                self._time(log["blockNumber"]),
                0,
                0,
                None,
            ),
        )

    def _loan_status(self, loan_id: int, status: str, log: Any | None = None) -> None:
        closed = self._time(log["blockNumber"]) if log is not None else None
        self.db.execute(
            "UPDATE loans SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ?",
            (status, closed, loan_id),
        )

    def _on_LoanAccepted(self, a: Any, log: Any) -> None:
        self._loan_status(a["loanId"], "ACCEPTED")

    def _on_LoanFunded(self, a: Any, log: Any) -> None:
        # A funding covers every tranche of that lender in the loan.
        row = self.db.execute(
            "SELECT terms, funded_json FROM loans WHERE id = ?", (a["loanId"],)
        ).fetchone()
        lenders = [t.lender for t in decode_terms(bytes(row["terms"])).tranches]
        funded = [
            f or lender == a["lender"]
            for f, lender in zip(json.loads(row["funded_json"]), lenders, strict=True)
        ]
        self.db.execute(
            "UPDATE loans SET funded_json = ?, status = ? WHERE id = ?",
            (json.dumps(funded), "FUNDED" if a["fullyFunded"] else "FUNDING", a["loanId"]),
        )

    def _on_LoanDisbursed(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE loans SET status = 'DISBURSED', disbursed_at = ?, maturity_at = ? WHERE id = ?",
            (a["disbursedAt"], a["maturityAt"], a["loanId"]),
        )

    def _on_LoanCancelled(self, a: Any, log: Any) -> None:
        self._loan_status(a["loanId"], "CANCELLED", log)

    def _reduce(self, loan_id: int, principal: list[int]) -> None:
        row = self.db.execute(
            "SELECT outstanding_json FROM loans WHERE id = ?", (loan_id,)
        ).fetchone()
        left = [o - p for o, p in zip(json.loads(row[0]), principal, strict=True)]
        self.db.execute(
            "UPDATE loans SET outstanding_json = ? WHERE id = ?", (json.dumps(left), loan_id)
        )

    def _settlement(
        self,
        loan_id: int,
        log: Any,
        source: str,
        payer: str,
        amount: int,
        fee: int,
        provision: int,
        interest: list[int],
        principal: list[int],
        residual: int,
        residual_to: str | None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO settlements VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                loan_id,
                log["blockNumber"],
                log["logIndex"],
                "0x" + bytes(log["transactionHash"]).hex(),
                self._time(log["blockNumber"]),
                source,
                payer,
                str(amount),
                str(fee),
                str(provision),
                json.dumps(interest),
                json.dumps(principal),
                str(residual),
                residual_to,
            ),
        )
        self._reduce(loan_id, principal)

    def _on_LoanSettled(self, a: Any, log: Any) -> None:
        self._settlement(
            a["loanId"],
            log,
            SOURCES[a["source"]],
            a["payer"],
            a["amountFen"],
            a["feeFen"],
            a["provisionFen"],
            list(a["interestFen"]),
            list(a["principalFen"]),
            a["residualFen"],
            a["residualTo"],
        )
        if a["provisionFen"]:
            self.db.execute(
                "INSERT OR REPLACE INTO pool VALUES (?,?,?,?,?,?)",
                (
                    log["blockNumber"],
                    log["logIndex"],
                    "PROVISION",
                    a["payer"],
                    str(a["provisionFen"]),
                    self._time(log["blockNumber"]),
                ),
            )
        if a["repaid"]:
            self._loan_status(a["loanId"], "REPAID", log)

    def _on_LoanDefaulted(self, a: Any, log: Any) -> None:
        parts = list(a["principalFen"])
        self._settlement(
            a["loanId"],
            log,
            "COVER",
            self.ledger.deployment.address("ProvisionPool"),
            a["coverFen"],
            0,
            0,
            [0] * len(parts),
            parts,
            0,
            None,
        )
        self.db.execute(
            "INSERT OR REPLACE INTO pool VALUES (?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                "COVER",
                None,
                str(a["coverFen"]),
                self._time(log["blockNumber"]),
            ),
        )
        closed = a["lossFen"] == 0 and a["interestDueFen"] == 0
        self._loan_status(a["loanId"], "REPAID" if closed else "DEFAULTED", log)

    def _on_PoolContributed(self, a: Any, log: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO pool VALUES (?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                "CONTRIBUTION",
                a["contributor"],
                str(a["amountFen"]),
                self._time(log["blockNumber"]),
            ),
        )

    # -- reads -------------------------------------------------------------------------------

    def receivables(
        self, *, holder: str | None = None, status: str | None = None, now: int | None = None
    ) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM receivables", []
        where = []
        if holder is not None:
            where.append("holder = ?")
            args.append(holder)
        if status is not None and status != "OVERDUE":
            where.append("status = ?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
        if status == "OVERDUE":
            rows = [r for r in rows if derived_status(r, now or 0) == "OVERDUE"]
        return rows

    def receivable(self, rid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM receivables WHERE id = ?", (rid,)).fetchone()

    def loans(self, *, borrower: str | None = None, status: str | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM loans", []
        where = []
        if borrower is not None:
            where.append("borrower = ?")
            args.append(borrower)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.db.execute(sql + " ORDER BY id", args).fetchall()

    def settlements(self, loan_id: int) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM settlements WHERE loan_id = ? ORDER BY block, log_index", (loan_id,)
        ).fetchall()

    def loan_view(self, row: sqlite3.Row, now: int) -> LoanView:
        """The loan as `loan show` prints it, from the index; interest due by the model."""
        request = decode_terms(bytes(row["terms"]))
        settlements = [settlement_view(s) for s in self.settlements(row["id"])]
        outstanding = json.loads(row["outstanding_json"])
        interest_due, coupon_due = 0, [0] * len(outstanding)
        if row["disbursed_at"]:
            terms = request.model_terms(row["disbursed_at"])
            live = row["status"] in ("DISBURSED", "DEFAULTED")
            state = replay(
                terms,
                settlements,
                now if live else (settlements[-1].at if settlements else row["disbursed_at"]),
            )
            interest_due, coupon_due = state.interest_due_fen, list(state.coupon_due_fen)
        funded = json.loads(row["funded_json"])
        name_of = self.ledger.name_of
        return LoanView(
            id=row["id"],
            status=row["status"],
            borrower=row["borrower"],
            originator=row["originator"],
            principal_fen=int(row["principal_fen"]),
            outstanding_fen=sum(outstanding),
            interest_due_fen=interest_due,
            rate_bps=request.rate_bps,
            penalty_bps=request.penalty_bps,
            term_days=request.term_days,
            grace_days=request.grace_days,
            fee_share_bps=request.fee_share_bps,
            provision_share_bps=request.provision_share_bps,
            mode=request.mode,
            sweep_bps=request.sweep_bps,
            tech_partner=request.tech_partner,
            disbursed_at=row["disbursed_at"],
            maturity_at=row["maturity_at"],
            terms_hash=row["terms_hash"],
            receivables=request.receivable_ids,
            payees=request.effective_payees(),
            tranches=[
                TrancheView(
                    lender=t.lender,
                    lender_name=None if name_of(t.lender) == t.lender else name_of(t.lender),
                    class_="senior" if t.senior else "junior",
                    amount_fen=t.amount_fen,
                    coupon_bps=t.coupon_bps,
                    outstanding_fen=outstanding[i],
                    coupon_due_fen=coupon_due[i],
                    funded=funded[i],
                )
                for i, t in enumerate(request.tranches)
            ],
            settlements=settlements,
        )


def settlement_view(row: sqlite3.Row) -> SettlementView:
    return SettlementView(
        at=row["at"],
        source=row["source"],
        payer=row["payer"],
        amount_fen=int(row["amount_fen"]),
        fee_fen=int(row["fee_fen"]),
        provision_fen=int(row["provision_fen"]),
        interest_fen=json.loads(row["interest_json"]),
        principal_fen=json.loads(row["principal_json"]),
        residual_fen=int(row["residual_fen"]),
        residual_to=row["residual_to"],
        tx=row["tx"],
    )


def replay(
    terms: waterfall.LoanTerms, settlements: list[SettlementView], now: int
) -> waterfall.LoanState:
    """The loan's state at `now` by the reference model, from its settlement history."""
    state = waterfall.LoanState.initial(terms)
    for s in settlements:
        if s.source == "COVER":
            _, state = waterfall.cover(terms, state, s.amount_fen, s.at)
        else:
            _, state = waterfall.settle(terms, state, s.amount_fen, s.at)
    return waterfall.accrue(terms, state, now)


def derived_status(row: sqlite3.Row, now: int) -> str:
    """OVERDUE when active or pledged, unpaid and past maturity (as the contract derives it)."""
    status = str(row["status"])
    if (
        status in ("ACTIVE", "PLEDGED")
        and now > row["maturity_at"]
        and int(row["paid_fen"]) < int(row["face_value_fen"])
    ):
        return "OVERDUE"
    return status
