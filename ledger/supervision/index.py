"""The local event index: receivables, loans and settlements, built from chain logs.

`list` and `show` read it instead of calling the chain once per token. It lives in
`<home>/index/<network>.sqlite`, catches up from the last indexed block on every use, and
is rebuilt from the deployment's first block when missing, when the deployment changed, or
when the chain no longer has the block it last indexed (a rebuilt or forked chain).
Amounts are stored as decimal text (fen can exceed SQLite's 64-bit integers).

Besides the current state, it keeps the history the supervision report needs to answer
"as of a date": every loan status change (`loan_events`), every receivable payment
(`receivable_payments`), when each receivable was accepted and when it stopped being live
(`accepted_at`, `ended_at`), members and their net assets over time (`members`,
`member_events`), policy changes (`policy_events`), each with the acting account taken from
the audit entry of the same transaction; and, on request (`scan_attempts`), `issue`
transactions that were mined but reverted (`reverted_issues`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ledger.engine.loans import (
    SOURCES,
    LoanView,
    SettlementView,
    StageView,
    TrancheView,
    decode_terms,
)
from ledger.reference import stages, waterfall
from ledger.solidity import artifacts

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

SCHEMA_VERSION = "4"
WINDOW_BLOCKS = 2_000
ZERO = "0x" + "00" * 20
ISSUE_SIGNATURE = "issue(address,uint256,uint64,bytes32)"
# Contracts whose events are indexed; audit entries of these kinds name who acted.
INDEXED = ("ReceivableToken", "LoanBook", "ProvisionPool", "Membership", "Policy", "CoverBook")
ACTOR_KINDS = (
    "MEMBER_ADMITTED",
    "MEMBER_SUSPENDED",
    "MEMBER_REINSTATED",
    "MEMBER_ROLES_CHANGED",
    "MEMBER_NET_ASSETS_SET",
    "POLICY_CHANGED",
)
TABLES = (
    "receivables",
    "receivable_payments",
    "loans",
    "loan_events",
    "settlements",
    "stages",
    "pool",
    "members",
    "member_events",
    "policy_events",
    "reverted_issues",
    "cover_events",
    "meta",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receivables (
    id INTEGER PRIMARY KEY, root INTEGER NOT NULL, parent INTEGER, debtor TEXT NOT NULL,
    holder TEXT, face_value_fen TEXT NOT NULL, paid_fen TEXT NOT NULL, maturity_at INTEGER NOT NULL,
    status TEXT NOT NULL, doc_hash TEXT NOT NULL, first_child INTEGER, child_count INTEGER NOT NULL,
    pledged_to INTEGER, depth INTEGER NOT NULL, issued_at INTEGER NOT NULL,
    paid_off_at INTEGER, accepted_at INTEGER, ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS receivables_holder ON receivables(holder);
CREATE INDEX IF NOT EXISTS receivables_status ON receivables(status);
CREATE TABLE IF NOT EXISTS receivable_payments (
    id INTEGER NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL, at INTEGER NOT NULL,
    amount_fen TEXT NOT NULL, loan_id INTEGER, PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS loans (
    id INTEGER PRIMARY KEY, status TEXT NOT NULL, borrower TEXT NOT NULL, originator TEXT NOT NULL,
    terms BLOB NOT NULL, terms_hash TEXT NOT NULL, principal_fen TEXT NOT NULL,
    outstanding_json TEXT NOT NULL, funded_json TEXT NOT NULL, proposed_at INTEGER NOT NULL,
    disbursed_at INTEGER NOT NULL, maturity_at INTEGER NOT NULL, closed_at INTEGER,
    rate_bps INTEGER NOT NULL, term_days INTEGER NOT NULL, sweep_bps INTEGER NOT NULL,
    tech_partner TEXT, tranches_json TEXT NOT NULL, receivable_ids_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS loans_borrower ON loans(borrower);
CREATE TABLE IF NOT EXISTS loan_events (
    loan_id INTEGER NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL,
    at INTEGER NOT NULL, status TEXT NOT NULL, lender TEXT, PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS settlements (
    loan_id INTEGER NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx TEXT NOT NULL,
    at INTEGER NOT NULL, source TEXT NOT NULL, payer TEXT NOT NULL, amount_fen TEXT NOT NULL,
    fee_fen TEXT NOT NULL, provision_fen TEXT NOT NULL, interest_json TEXT NOT NULL,
    principal_json TEXT NOT NULL, residual_fen TEXT NOT NULL, residual_to TEXT,
    PRIMARY KEY (block, log_index)
);
CREATE INDEX IF NOT EXISTS settlements_loan ON settlements(loan_id);
CREATE TABLE IF NOT EXISTS stages (
    loan_id INTEGER NOT NULL, stage INTEGER NOT NULL, drawn_at INTEGER, block INTEGER,
    log_index INTEGER, principal_json TEXT NOT NULL, lapsed INTEGER NOT NULL,
    PRIMARY KEY (loan_id, stage)
);
CREATE TABLE IF NOT EXISTS pool (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, kind TEXT NOT NULL, member TEXT,
    amount_fen TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS members (
    address TEXT PRIMARY KEY, roles INTEGER NOT NULL, status TEXT NOT NULL,
    net_assets_fen TEXT NOT NULL, admitted_at INTEGER NOT NULL, region TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS member_events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, at INTEGER NOT NULL, tx TEXT NOT NULL,
    address TEXT NOT NULL, kind TEXT NOT NULL, value TEXT, actor TEXT,
    PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS policy_events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, at INTEGER NOT NULL, tx TEXT NOT NULL,
    name TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL, actor TEXT,
    PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS cover_events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, at INTEGER NOT NULL, tx TEXT NOT NULL,
    loan_id INTEGER NOT NULL, layer INTEGER, provider TEXT, kind TEXT NOT NULL,
    amount_fen TEXT NOT NULL, due_at INTEGER, PRIMARY KEY (block, log_index, kind, layer)
);
CREATE INDEX IF NOT EXISTS cover_events_provider ON cover_events(provider);
CREATE TABLE IF NOT EXISTS reverted_issues (
    tx TEXT PRIMARY KEY, block INTEGER NOT NULL, at INTEGER NOT NULL, sender TEXT NOT NULL,
    supplier TEXT NOT NULL, value_fen TEXT NOT NULL, maturity_at INTEGER NOT NULL,
    doc_hash TEXT NOT NULL
);
"""


def _event_topic(contract: str, event: str) -> bytes:
    from eth_utils.abi import event_abi_to_log_topic

    for entry in artifacts.load(contract).abi:
        if entry.get("type") == "event" and entry["name"] == event:
            return bytes(event_abi_to_log_topic(entry))  # type: ignore[arg-type]
    raise KeyError(f"{contract} has no event {event}")


class Index:
    """The index of one home and network; `sync` before reading."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        # The margins a default's cover included, by transaction (CoverCalled comes first).
        self._margins_paid: dict[str, int] = {}
        path = ledger.home.root / "index" / f"{ledger.chain.network}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        if self.db.execute("PRAGMA user_version").fetchone()[0] != int(SCHEMA_VERSION):
            # An index of another schema is rebuilt from the chain, tables and all.
            tables = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for (name,) in tables.fetchall():
                self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
            self.db.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")
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
        for table in TABLES:
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
        """Each window's logs of the indexed contracts, and the audit entries that name the
        actor of a membership or policy change, in chain order."""
        from ledger.audit.kinds import kind_names

        addresses = [self.ledger.deployment.address(n) for n in INDEXED]
        actor_kinds = ["0x" + k.hex() for k, name in kind_names().items() if name in ACTOR_KINDS]
        trail = self.ledger.deployment.address("AuditTrail")
        while start <= end:
            stop = min(start + WINDOW_BLOCKS - 1, end)
            query: Any = {"address": addresses, "fromBlock": start, "toBlock": stop}
            logs = list(self.ledger.chain.w3.eth.get_logs(query))
            audit: Any = {
                "address": trail,
                "fromBlock": start,
                "toBlock": stop,
                "topics": [
                    "0x" + _event_topic("AuditTrail", "AuditRecorded").hex(),
                    None,
                    actor_kinds,
                ],
            }
            logs += list(self.ledger.chain.w3.eth.get_logs(audit))
            logs.sort(key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
            yield logs
            start = stop + 1

    def _time(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = int(self.ledger.chain.w3.eth.get_block(block)["timestamp"])
        return self._times[block]

    def _decoder(self) -> dict[tuple[str, bytes], Any]:
        if not hasattr(self, "_decoders"):
            from eth_utils.abi import event_abi_to_log_topic

            table = {}
            for contract in INDEXED:
                c = self.ledger.contract(contract)
                address = self.ledger.deployment.address(contract).lower()
                for entry in artifacts.load(contract).abi:
                    if entry.get("type") == "event":
                        topic = bytes(event_abi_to_log_topic(entry))  # type: ignore[arg-type]
                        table[(address, topic)] = getattr(c.events, entry["name"])()
            self._decoders = table
        return self._decoders

    def _apply(self, log: Any) -> None:
        address = str(log["address"]).lower()
        if address == self.ledger.deployment.address("AuditTrail").lower():
            self._on_audit_entry(log)
            return
        event = self._decoder().get((address, bytes(log["topics"][0])))
        if event is None:
            return
        decoded = event.process_log(log)
        handler = getattr(self, f"_on_{decoded['event']}", None)
        if handler is not None:
            handler(decoded["args"], log)

    def _on_audit_entry(self, log: Any) -> None:
        """The entry of a membership or policy change follows its event in the same
        transaction: its `actor` topic is who made the change."""
        from eth_utils import to_checksum_address

        actor = to_checksum_address(bytes(log["topics"][3])[-20:])
        tx = "0x" + bytes(log["transactionHash"]).hex()
        for table in ("member_events", "policy_events"):
            self.db.execute(
                f"UPDATE {table} SET actor = ? WHERE tx = ? AND actor IS NULL", (actor, tx)
            )

    # -- receivables -------------------------------------------------------------------------

    _RECEIVABLE_COLUMNS = (
        "id, root, parent, debtor, holder, face_value_fen, paid_fen, maturity_at, status,"
        " doc_hash, first_child, child_count, pledged_to, depth, issued_at, paid_off_at,"
        " accepted_at, ended_at"
    )

    def _insert_receivable(self, *values: Any) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO receivables ({self._RECEIVABLE_COLUMNS})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            values,
        )

    def _on_ReceivableIssued(self, a: Any, log: Any) -> None:
        self._insert_receivable(
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
            None,
            None,
        )

    def _status(self, rid: int, status: str) -> None:
        self.db.execute("UPDATE receivables SET status = ? WHERE id = ?", (status, rid))

    def _on_ReceivableAccepted(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE receivables SET status = 'ACTIVE', accepted_at = ? WHERE id = ?",
            (self._time(log["blockNumber"]), a["id"]),
        )

    def _on_ReceivableRejected(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE receivables SET status = 'REJECTED', holder = NULL, ended_at = ? WHERE id = ?",
            (self._time(log["blockNumber"]), a["id"]),
        )

    def _on_ReceivableCancelled(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE receivables SET status = 'CANCELLED', holder = NULL, ended_at = ? WHERE id = ?",
            (self._time(log["blockNumber"]), a["id"]),
        )

    def _on_ReceivableSplit(self, a: Any, log: Any) -> None:
        parent = self.db.execute("SELECT * FROM receivables WHERE id = ?", (a["id"],)).fetchone()
        first, values = int(a["firstChild"]), list(a["valuesFen"])
        at = self._time(log["blockNumber"])
        self.db.execute(
            "UPDATE receivables SET status = 'SPLIT', first_child = ?, child_count = ?,"
            " holder = NULL, ended_at = ? WHERE id = ?",
            (first, len(values), at, a["id"]),
        )
        for i, value in enumerate(values):
            self._insert_receivable(
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
                at,
                None,
            )

    def _on_ReceivableTransferred(self, a: Any, log: Any) -> None:
        self.db.execute("UPDATE receivables SET holder = ? WHERE id = ?", (a["to"], a["id"]))

    def _on_ReceivablePaid(self, a: Any, log: Any) -> None:
        row = self.db.execute(
            "SELECT face_value_fen FROM receivables WHERE id = ?", (a["id"],)
        ).fetchone()
        full = int(row[0]) == int(a["paidFen"])
        at = self._time(log["blockNumber"])
        self.db.execute(
            "UPDATE receivables SET paid_fen = ?, status = CASE WHEN ? THEN 'PAID' ELSE status END,"
            " paid_off_at = CASE WHEN ? THEN ? ELSE paid_off_at END WHERE id = ?",
            (str(a["paidFen"]), full, full, at, a["id"]),
        )
        self.db.execute(
            "INSERT OR REPLACE INTO receivable_payments VALUES (?,?,?,?,?,?)",
            (
                a["id"],
                log["blockNumber"],
                log["logIndex"],
                at,
                str(a["amountFen"]),
                int(a["loanId"]) or None,
            ),
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
        tranches = [[t.lender, t.senior, t.amount_fen, t.coupon_bps] for t in request.tranches]
        self.db.execute(
            "INSERT OR REPLACE INTO loans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                request.rate_bps,
                request.term_days,
                request.sweep_bps,
                request.tech_partner,
                json.dumps(tranches),
                json.dumps(request.receivable_ids),
            ),
        )
        self._loan_event(a["loanId"], log, "PROPOSED")

    def _on_TrancheTransferred(self, a: Any, log: Any) -> None:
        """A tranche sale or a securitisation close: the tranche's lender changes."""
        row = self.db.execute(
            "SELECT tranches_json FROM loans WHERE id = ?", (a["loanId"],)
        ).fetchone()
        tranches = json.loads(row["tranches_json"])
        tranches[a["index"]][0] = a["to"]
        self.db.execute(
            "UPDATE loans SET tranches_json = ? WHERE id = ?", (json.dumps(tranches), a["loanId"])
        )

    def _loan_event(self, loan_id: int, log: Any, status: str, lender: str | None = None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO loan_events VALUES (?,?,?,?,?,?)",
            (
                loan_id,
                log["blockNumber"],
                log["logIndex"],
                self._time(log["blockNumber"]),
                status,
                lender,
            ),
        )

    def _loan_status(self, loan_id: int, status: str, log: Any | None = None) -> None:
        closed = self._time(log["blockNumber"]) if log is not None else None
        self.db.execute(
            "UPDATE loans SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ?",
            (status, closed, loan_id),
        )
        if log is not None:
            self._loan_event(loan_id, log, status)

    def _on_LoanAccepted(self, a: Any, log: Any) -> None:
        self._loan_status(a["loanId"], "ACCEPTED")
        self._loan_event(a["loanId"], log, "ACCEPTED")

    def _on_LoanFunded(self, a: Any, log: Any) -> None:
        # A funding covers every tranche of that lender in the loan.
        row = self.db.execute(
            "SELECT tranches_json, funded_json FROM loans WHERE id = ?", (a["loanId"],)
        ).fetchone()
        lenders = [t[0] for t in json.loads(row["tranches_json"])]
        funded = [
            f or lender == a["lender"]
            for f, lender in zip(json.loads(row["funded_json"]), lenders, strict=True)
        ]
        status = "FUNDED" if a["fullyFunded"] else "FUNDING"
        self.db.execute(
            "UPDATE loans SET funded_json = ?, status = ? WHERE id = ?",
            (json.dumps(funded), status, a["loanId"]),
        )
        self._loan_event(a["loanId"], log, status, a["lender"])

    def _on_LoanDisbursed(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE loans SET status = 'DISBURSED', disbursed_at = ?, maturity_at = ? WHERE id = ?",
            (a["disbursedAt"], a["maturityAt"], a["loanId"]),
        )
        self._loan_event(a["loanId"], log, "DISBURSED")
        row = self.db.execute("SELECT terms FROM loans WHERE id = ?", (a["loanId"],)).fetchone()
        request = decode_terms(bytes(row["terms"]))
        if not request.staged:
            return
        # Stage 0 is drawn now, pro rata by commitment (the contract's split, which the
        # differential test holds to the reference); the others wait for their draw.
        committed = [t.amount_fen for t in request.tranches]
        first = stages.draw_parts(request.stage_amounts()[0], committed, committed)
        self.db.execute(
            "UPDATE loans SET outstanding_json = ? WHERE id = ?", (json.dumps(first), a["loanId"])
        )
        for k in range(request.stage_count()):
            self.db.execute(
                "INSERT OR REPLACE INTO stages VALUES (?,?,?,?,?,?,?)",
                (
                    a["loanId"],
                    k,
                    a["disbursedAt"] if k == 0 else None,
                    log["blockNumber"] if k == 0 else None,
                    log["logIndex"] if k == 0 else None,
                    json.dumps(first if k == 0 else []),
                    0,
                ),
            )

    def _on_StageDrawn(self, a: Any, log: Any) -> None:
        parts = [int(p) for p in a["principalFen"]]
        self.db.execute(
            "UPDATE stages SET drawn_at = ?, block = ?, log_index = ?, principal_json = ? "
            "WHERE loan_id = ? AND stage = ?",
            (
                self._time(log["blockNumber"]),
                log["blockNumber"],
                log["logIndex"],
                json.dumps(parts),
                a["loanId"],
                a["stage"],
            ),
        )
        self._reduce(a["loanId"], [-p for p in parts])

    def _on_StagesLapsed(self, a: Any, log: Any) -> None:
        for k in a["stages"]:
            self.db.execute(
                "UPDATE stages SET lapsed = 1 WHERE loan_id = ? AND stage = ?", (a["loanId"], k)
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

    # -- cover layers (DESIGN §6.2) -----------------------------------------------------------

    def _cover_event(
        self,
        log: Any,
        loan_id: int,
        layer: int | None,
        provider: str | None,
        kind: str,
        amount: int,
        due_at: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cover_events VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                self._time(log["blockNumber"]),
                "0x" + bytes(log["transactionHash"]).hex(),
                loan_id,
                layer,
                provider,
                kind,
                str(amount),
                due_at,
            ),
        )

    def _providers(self, loan_id: int) -> list[str]:
        row = self.db.execute("SELECT terms FROM loans WHERE id = ?", (loan_id,)).fetchone()
        return [c.provider for c in decode_terms(bytes(row[0])).covers] if row else []

    def _on_CoverCalled(self, a: Any, log: Any) -> None:
        """Each layer's claim (OWED) and its margin's payment (PAID) at the default; the
        margins' part of the default's cover is not the pool's."""
        loan_id = int(a["loanId"])
        providers = self._providers(loan_id)
        for i, (owed, paid) in enumerate(zip(a["owedFen"], a["marginPaidFen"], strict=True)):
            provider = providers[i] if i < len(providers) else None
            self._cover_event(log, loan_id, i, provider, "OWED", int(owed), int(a["dueAt"]))
            self._cover_event(log, loan_id, i, provider, "PAID", int(paid))
        self._margins_paid["0x" + bytes(log["transactionHash"]).hex()] = sum(a["marginPaidFen"])

    def _on_CoverHonoured(self, a: Any, log: Any) -> None:
        loan_id = int(a["loanId"])
        self._cover_event(log, loan_id, int(a["layer"]), a["provider"], "PAID", a["amountFen"])

    def _on_CoverBreached(self, a: Any, log: Any) -> None:
        loan_id, layer = int(a["loanId"]), int(a["layer"])
        self._cover_event(
            log, loan_id, layer, a["provider"], "BREACHED", a["unpaidFen"], int(a["dueAt"])
        )

    def _on_CoverReimbursed(self, a: Any, log: Any) -> None:
        loan_id = int(a["loanId"])
        providers = self._providers(loan_id)
        for i, fen in enumerate(a["layersFen"]):
            if fen:
                provider = providers[i] if i < len(providers) else None
                self._cover_event(log, loan_id, i, provider, "REIMBURSED", int(fen))
        if a["poolFen"]:
            self.db.execute(
                "INSERT OR REPLACE INTO pool VALUES (?,?,?,?,?,?)",
                (
                    log["blockNumber"],
                    log["logIndex"],
                    "REIMBURSED",
                    a["payer"],
                    str(a["poolFen"]),
                    self._time(log["blockNumber"]),
                ),
            )

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
        margins = self._margins_paid.pop("0x" + bytes(log["transactionHash"]).hex(), 0)
        self.db.execute(
            "INSERT OR REPLACE INTO pool VALUES (?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                "COVER",
                None,
                str(int(a["coverFen"]) - margins),
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

    # -- members and policy ------------------------------------------------------------------

    def _member_event(self, log: Any, address: str, kind: str, value: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO member_events VALUES (?,?,?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                self._time(log["blockNumber"]),
                "0x" + bytes(log["transactionHash"]).hex(),
                address,
                kind,
                value,
                None,
            ),
        )

    def _on_MemberAdmitted(self, a: Any, log: Any) -> None:
        at = self._time(log["blockNumber"])
        self.db.execute(
            "INSERT OR REPLACE INTO members VALUES (?,?,?,?,?,?)",
            (
                a["account"],
                int(a["roles"]),
                "ACTIVE",
                str(a["netAssetsFen"]),
                at,
                f"{int(a['region']):06d}",
            ),
        )
        self._member_event(log, a["account"], "ADMITTED", str(a["netAssetsFen"]))

    def _on_MemberSuspended(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE members SET status = 'SUSPENDED' WHERE address = ?", (a["account"],)
        )
        self._member_event(log, a["account"], "SUSPENDED", "0x" + bytes(a["reasonHash"]).hex())

    def _on_MemberReinstated(self, a: Any, log: Any) -> None:
        self.db.execute("UPDATE members SET status = 'ACTIVE' WHERE address = ?", (a["account"],))
        self._member_event(log, a["account"], "REINSTATED", None)

    def _on_MemberRolesChanged(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE members SET roles = ? WHERE address = ?", (int(a["newRoles"]), a["account"])
        )
        self._member_event(log, a["account"], "ROLES", str(int(a["newRoles"])))

    def _on_MemberNetAssetsSet(self, a: Any, log: Any) -> None:
        self.db.execute(
            "UPDATE members SET net_assets_fen = ? WHERE address = ?",
            (str(a["newFen"]), a["account"]),
        )
        self._member_event(log, a["account"], "NET_ASSETS", str(a["newFen"]))

    def _on_MemberProfileSet(self, a: Any, log: Any) -> None:
        # The region is what supervision needs (the report's look-through by region).
        self._member_event(log, a["account"], "REGION", f"{int(a['region']):06d}")

    def _on_PolicyChanged(self, a: Any, log: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO policy_events VALUES (?,?,?,?,?,?,?,?)",
            (
                log["blockNumber"],
                log["logIndex"],
                self._time(log["blockNumber"]),
                "0x" + bytes(log["transactionHash"]).hex(),
                bytes(a["name"]).rstrip(b"\0").decode("ascii", "replace"),
                str(a["oldValue"]),
                str(a["newValue"]),
                None,
            ),
        )

    # -- mined but reverted receivable issues --------------------------------------------------

    def scan_attempts(self, head: int) -> None:
        """Record `issue` transactions to ReceivableToken mined but reverted up to `head`.

        Reverted transactions leave no logs, so this reads every block's transactions, once
        (the scan keeps its own cursor, `attempts_block`), with raw JSON-RPC: about 0.3 ms a
        block on the embedded chain. The CLI simulates first, so such transactions are rare:
        a client that skipped simulation, or two issues of one document racing into a block.
        """
        from eth_abi import decode
        from eth_utils import keccak, to_checksum_address

        last = self._meta("attempts_block")
        start = self.ledger.deployment.start_block if last is None else int(last) + 1
        if start > head:
            return
        token = self.ledger.deployment.address("ReceivableToken").lower()
        selector = "0x" + keccak(text=ISSUE_SIGNATURE)[:4].hex()
        for number in range(start, head + 1):
            block = self._rpc("eth_getBlockByNumber", [hex(number), True])
            if block is None:  # a node that pruned old bodies: nothing left to read
                continue
            for tx in block["transactions"]:
                data = str(tx.get("input") or "0x")
                if str(tx.get("to") or "").lower() != token or not data.startswith(selector):
                    continue
                receipt = self._rpc("eth_getTransactionReceipt", [tx["hash"]])
                if int(receipt["status"], 16) == 1:
                    continue
                supplier, value, maturity, doc = decode(
                    ["address", "uint256", "uint64", "bytes32"], bytes.fromhex(data[10:])
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO reverted_issues VALUES (?,?,?,?,?,?,?,?)",
                    (
                        str(tx["hash"]),
                        number,
                        int(block["timestamp"], 16),
                        to_checksum_address(tx["from"]),
                        to_checksum_address(supplier),
                        str(value),
                        int(maturity),
                        "0x" + bytes(doc).hex(),
                    ),
                )
        self._set_meta(attempts_block=str(head))
        self.db.commit()

    def _rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call (hex strings, no web3 formatting: several times faster)."""
        response: Any = self.ledger.chain.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if response.get("error"):
            from ledger.errors import ChainUnavailable

            raise ChainUnavailable(f"the node answered {method} with {response['error']}")
        return response["result"]

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

    def _draws(self, loan_id: int) -> list[tuple[int, int, int, int]]:
        """A staged loan's stages drawn: (block, log index, time, amount), stage 0 first."""
        request = decode_terms(
            bytes(self.db.execute("SELECT terms FROM loans WHERE id = ?", (loan_id,)).fetchone()[0])
        )
        amounts = request.stage_amounts()
        rows = self.db.execute(
            "SELECT * FROM stages WHERE loan_id = ? AND drawn_at IS NOT NULL ORDER BY block, "
            "log_index",
            (loan_id,),
        ).fetchall()
        return [(r["block"], r["log_index"], r["drawn_at"], amounts[r["stage"]]) for r in rows]

    def stage_views(self, row: sqlite3.Row, request: Any) -> list[StageView]:
        """A staged loan's stages as `loan show` gives them (empty for an unstaged loan)."""
        if not request.staged:
            return []
        indexed = {
            r["stage"]: r
            for r in self.db.execute("SELECT * FROM stages WHERE loan_id = ?", (row["id"],))
        }
        disbursed_at = row["disbursed_at"]
        out = []
        for k, amount in enumerate(request.stage_amounts()):
            r = indexed.get(k)
            day = request.stage_days.get(k, 0)
            drawn_at = r["drawn_at"] if r is not None else None
            out.append(
                StageView(
                    stage=k,
                    day=day,
                    due_at=disbursed_at + day * waterfall.DAY if disbursed_at else None,
                    amount_fen=amount,
                    payees=request.stage_payees(k),
                    drawn_at=drawn_at,
                    principal_fen=json.loads(r["principal_json"]) if r is not None else [],
                    lapsed=bool(r["lapsed"]) if r is not None else row["status"] == "CANCELLED",
                )
            )
        return out

    def loan_view(self, row: sqlite3.Row, now: int) -> LoanView:
        """The loan as `loan show` prints it, from the index; interest due by the model."""
        request = decode_terms(bytes(row["terms"]))
        settlements = [settlement_view(s) for s in self.settlements(row["id"])]
        outstanding = json.loads(row["outstanding_json"])
        if not row["disbursed_at"]:  # owed by the borrower only once disbursed, as in `get`
            outstanding = [0] * len(outstanding)
        interest_due, coupon_due = 0, [0] * len(outstanding)
        staged = self.stage_views(row, request)
        if row["disbursed_at"]:
            terms = request.model_terms(row["disbursed_at"])
            live = row["status"] in ("DISBURSED", "DEFAULTED")
            rows = self.settlements(row["id"])
            state = replay(
                terms,
                settlements,
                now if live else (settlements[-1].at if settlements else row["disbursed_at"]),
                self._draws(row["id"]) if staged else None,
                [(r["block"], r["log_index"]) for r in rows],
            )
            interest_due, coupon_due = state.interest_due_fen, list(state.coupon_due_fen)
        funded = json.loads(row["funded_json"])
        # The lenders now: a tranche sale or a securitisation moves a tranche.
        lenders = [t[0] for t in json.loads(row["tranches_json"])]
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
            expires_at=row["proposed_at"] + request.expiry_days * 86_400,
            terms_hash=row["terms_hash"],
            receivables=request.receivable_ids,
            payees=request.effective_payees(),
            stages=staged,
            undrawn_fen=sum(
                v.amount_fen
                for v in staged
                if row["disbursed_at"] and v.drawn_at is None and not v.lapsed
            ),
            tranches=[
                TrancheView(
                    lender=lenders[i],
                    lender_name=None if name_of(lenders[i]) == lenders[i] else name_of(lenders[i]),
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
    terms: waterfall.LoanTerms,
    settlements: list[SettlementView],
    now: int,
    draws: list[tuple[int, int, int, int]] | None = None,
    order: list[tuple[int, int]] | None = None,
) -> waterfall.LoanState:
    """The loan's state at `now` by the reference model, from its settlement history.

    For a staged loan, `draws` are its stages drawn as (block, log index, time, amount),
    stage 0 first, and `order` each settlement's (block, log index): interest then runs on
    drawn principal only (DESIGN §6.4), draws and receipts taken in chain order."""
    if not draws:
        state = waterfall.LoanState.initial(terms)
        steps: list[tuple[int, int, int, int]] = [(0, i, -1, 0) for i in range(len(settlements))]
        undrawn: tuple[int, ...] = ()
    else:
        _, state, undrawn = stages.start(terms, draws[0][3])
        places = order or [(0, i) for i in range(len(settlements))]
        steps = [(b, li, -1, i) for i, (b, li) in enumerate(places)]
        steps += [(b, li, at, amount) for b, li, at, amount in draws[1:]]
        steps.sort(key=lambda e: (e[0], e[1]))
    for _, _, at, value in steps:
        if at >= 0:  # a stage drawn
            _, state, undrawn = stages.draw(terms, state, undrawn, value, at)
            continue
        s = settlements[value]
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
