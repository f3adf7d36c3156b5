"""Consent to credit-file queries: the typed wrapper of the CreditConsent contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput

if TYPE_CHECKING:
    pass

DAY = 86_400
MAX_DAYS = 3650  # CreditConsent.MAX_DAYS
DEFAULT_DAYS = 365
DEFAULT_PURPOSE = "credit assessment"
GAS_CONSENT = 200_000


def encode_purpose(text: str) -> bytes:
    """A purpose as the contract keeps it: UTF-8, 1 to 32 bytes, zero-padded to 32."""
    raw = text.strip().encode("utf-8")
    if not raw:
        raise BadInput("a consent names its purpose (--purpose TEXT)")
    if len(raw) > 32:
        raise BadInput(f"purpose {text!r} is {len(raw)} bytes in UTF-8; at most 32")
    if b"\0" in raw:
        raise BadInput("a purpose cannot contain a NUL character")
    return raw.ljust(32, b"\0")


def decode_purpose(word: bytes | str) -> str:
    """The purpose text of a zero-padded bytes32 (0x-hex accepted)."""
    raw = bytes.fromhex(word[2:]) if isinstance(word, str) else bytes(word)
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(f"a consent lasts 1 to {MAX_DAYS} days, not {days}")
    return days


class ConsentView(BaseModel):
    """A consent `borrower` granted `lender` (`consentOf`), with its state now."""

    borrower: str
    lender: str
    purpose: str
    granted_at: int
    expires_at: int
    revoked_at: int
    queries: int
    state: str  # NONE | LIVE | REVOKED | EXPIRED


class QueryView(BaseModel):
    """One query of a borrower's credit file: a line of its data-usage log (查询记录)."""

    borrower: str
    lender: str
    purpose: str
    at: int
    granted_at: int
    expires_at: int
    query_number: int
    block: int
    tx: str


class Queried(BaseModel):
    """The query transaction `credit file` sends first."""

    borrower: str
    lender: str
    purpose: str
    at: int
    granted_at: int  # the consent it was made under
    tx: str
    block: int
    gas_used: int
    seq: int  # its CREDIT_QUERIED audit entry


class Consents(EngineClient):
    """Grant, revoke and query consent; read consents and the data-usage log."""

    CONTRACT = "CreditConsent"

    def _send(self, fn: str, *args: Any, gas: int = GAS_CONSENT) -> Sent:
        return super()._send(fn, *args, gas=gas)

    def grant(self, lender: str, days: int = DEFAULT_DAYS, purpose: str = DEFAULT_PURPOSE) -> Sent:
        """The signer (the borrower) consents to `lender` reading its credit file."""
        return self._send("grant", lender, check_days(days), encode_purpose(purpose))

    def revoke(self, lender: str) -> Sent:
        return self._send("revoke", lender)

    def query(self, borrower: str) -> Queried:
        """Record the signer's (a lender's) query of `borrower`'s file; refused on-chain
        without a live consent."""
        from web3.logs import DISCARD

        sent = self._send("query", borrower)
        (event,) = self._c.events.CreditQueried().process_receipt(sent.receipt, errors=DISCARD)
        trail = self.ledger.contract("AuditTrail")
        (entry,) = trail.events.AuditRecorded().process_receipt(sent.receipt, errors=DISCARD)
        args = event["args"]
        return Queried(
            borrower=args["borrower"],
            lender=args["lender"],
            purpose=decode_purpose(args["purpose"]),
            at=int(entry["args"]["at"]),
            granted_at=int(args["grantedAt"]),
            tx=sent.tx,
            block=sent.block,
            gas_used=sent.gas_used,
            seq=int(entry["args"]["seq"]),
        )

    def get(self, borrower: str, lender: str) -> ConsentView:
        granted, expires, revoked, queries, purpose = self._c.functions.consentOf(
            borrower, lender
        ).call()
        now = int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])
        if granted == 0:
            state = "NONE"
        elif revoked:
            state = "REVOKED"
        elif now >= expires:
            state = "EXPIRED"
        else:
            state = "LIVE"
        return ConsentView(
            borrower=borrower,
            lender=lender,
            purpose=decode_purpose(purpose),
            granted_at=int(granted),
            expires_at=int(expires),
            revoked_at=int(revoked),
            queries=int(queries),
            state=state,
        )

    def granted_by(self, borrower: str) -> list[ConsentView]:
        """Every lender `borrower` ever granted consent to, with the consent's state now."""
        lenders: dict[str, None] = {}
        for log in self.ledger.events(
            "CreditConsent", "ConsentGranted", argument_filters={"borrower": borrower}
        ):
            lenders[log["args"]["lender"]] = None
        return [self.get(borrower, lender) for lender in lenders]

    def log(self, borrower: str) -> list[QueryView]:
        """Every query of `borrower`'s credit file, oldest first: its data-usage log."""
        w3 = self.ledger.chain.w3
        times: dict[int, int] = {}
        out = []
        for log in self.ledger.events(
            "CreditConsent", "CreditQueried", argument_filters={"borrower": borrower}
        ):
            block = int(log["blockNumber"])
            if block not in times:
                times[block] = int(w3.eth.get_block(block)["timestamp"])
            args = log["args"]
            out.append(
                QueryView(
                    borrower=args["borrower"],
                    lender=args["lender"],
                    purpose=decode_purpose(args["purpose"]),
                    at=times[block],
                    granted_at=int(args["grantedAt"]),
                    expires_at=int(args["expiresAt"]),
                    query_number=int(args["queryNumber"]),
                    block=block,
                    tx="0x" + bytes(log["transactionHash"]).hex().removeprefix("0x"),
                )
            )
        return out
