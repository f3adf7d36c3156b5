"""Receivables (数字债权凭证): the typed wrapper of ReceivableToken."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput, ContractRefusal

if TYPE_CHECKING:
    pass

STATUS_NAMES = [
    "NONE",
    "PENDING",
    "ACTIVE",
    "PLEDGED",
    "PAID",
    "SPLIT",
    "REJECTED",
    "CANCELLED",
    "OVERDUE",
]
MAX_PARTS = 20
MAX_VALUE_FEN = 2**72 - 1
# Gas limits: explicit so no node estimates. A split mints one token per part.
GAS_ISSUE = 400_000
GAS_SIMPLE = 300_000
# A pledged receivable's payment runs its loan's settlement (any tranches, the release of
# every receivable of a repaid loan, a swept residual).
GAS_PAY = 1_700_000


def gas_split(parts: int) -> int:
    return 200_000 + 90_000 * parts


class ReceivableView(BaseModel):
    """One receivable, as `receivable show --json` prints it (DESIGN §5).

    `face_value_fen` is the value the token was created with (a child's share of its
    parent's unpaid value); `status` is OVERDUE when active or pledged, unpaid and past
    maturity. `root` is the originally issued receivable it descends from.
    """

    id: int
    debtor: str
    holder: str | None
    face_value_fen: int
    paid_fen: int
    maturity_at: int
    status: str
    doc_hash: str
    parent: int | None
    children: list[int]
    pledged_to: int | None
    root: int


class Issued(BaseModel):
    id: int
    tx: str


class SplitResult(BaseModel):
    id: int
    tx: str
    children: list[int]


class Receivables(EngineClient):
    """Issue, accept, split, transfer and pay receivables; read them from the chain."""

    CONTRACT = "ReceivableToken"

    def _events(self, sent: Sent, event: str) -> list[Any]:
        from web3.logs import DISCARD

        ev = getattr(self._c.events, event)()
        return list(ev.process_receipt(sent.receipt, errors=DISCARD))

    # -- actions -----------------------------------------------------------------------------

    def issue(self, supplier: str, value_fen: int, maturity_at: int, doc_hash: bytes) -> Issued:
        if not 0 < value_fen <= MAX_VALUE_FEN:
            raise BadInput(f"receivable value must be between ¥0.01 and {MAX_VALUE_FEN} fen")
        try:
            sent = self._send("issue", supplier, value_fen, maturity_at, doc_hash, gas=GAS_ISSUE)
        except ContractRefusal as exc:
            if exc.name == "DocumentAlreadyUsed":
                # A refused double financing is an alert; refused by the simulation, it left
                # no trace on the chain, so the home that tried keeps the record.
                from ledger.engine.attempts import record_refused_issue

                existing = int(str(exc.args_by_name.get("existing", 0)))
                record_refused_issue(
                    self.ledger, supplier, value_fen, maturity_at, doc_hash, existing
                )
            raise
        (event,) = self._events(sent, "ReceivableIssued")
        return Issued(id=int(event["args"]["id"]), tx=sent.tx)

    def accept(self, rid: int) -> Sent:
        return self._send("accept", rid, gas=GAS_SIMPLE)

    def reject(self, rid: int) -> Sent:
        return self._send("reject", rid, gas=GAS_SIMPLE)

    def cancel(self, rid: int) -> Sent:
        return self._send("cancel", rid, gas=GAS_SIMPLE)

    def split(self, rid: int, parts_fen: list[int]) -> SplitResult:
        if not 2 <= len(parts_fen) <= MAX_PARTS:
            raise BadInput(f"a split needs 2 to {MAX_PARTS} parts, not {len(parts_fen)}")
        sent = self._send("split", rid, parts_fen, gas=gas_split(len(parts_fen)))
        (event,) = self._events(sent, "ReceivableSplit")
        first = int(event["args"]["firstChild"])
        return SplitResult(id=rid, tx=sent.tx, children=list(range(first, first + len(parts_fen))))

    def transfer(self, rid: int, to: str) -> Sent:
        return self._send("transfer", rid, to, gas=GAS_SIMPLE)

    def pay(self, rid: int, amount_fen: int | None = None) -> Sent:
        """Pay `amount_fen`, or the whole unpaid value when None."""
        amount = self.unpaid(rid) if amount_fen is None else amount_fen
        if amount == 0:
            raise BadInput(f"receivable {rid} has nothing left to pay")
        return self._send("pay", rid, amount, gas=GAS_PAY)

    # -- reads -------------------------------------------------------------------------------

    def unpaid(self, rid: int) -> int:
        return int(self._call("unpaidOf", rid))

    def of_document(self, doc_hash: bytes, debtor: str | None = None) -> int:
        """The latest receivable `debtor` (default: the signer) issued on a document (0 when
        none); a rejected or cancelled one has freed the document."""
        who = debtor if debtor is not None else self.ledger.resolve(self.ledger.signer_name)
        return int(self._call("receivableOfDocument", who, doc_hash))

    def document_of(self, root: int) -> str:
        logs = self.ledger.events(
            "ReceivableToken", "ReceivableIssued", argument_filters={"id": root}
        )
        return "0x" + bytes(logs[0]["args"]["docHash"]).hex() if logs else "0x" + "00" * 32

    def get(self, rid: int) -> ReceivableView:
        info = self._call("receivableOf", rid)
        (
            id_,
            debtor,
            holder,
            value,
            paid,
            maturity,
            status,
            root,
            parent,
            first,
            count,
            pledged,
        ) = info
        zero = "0x" + "00" * 20
        return ReceivableView(
            id=int(id_),
            debtor=debtor,
            holder=None if holder == zero else holder,
            face_value_fen=int(value),
            paid_fen=int(paid),
            maturity_at=int(maturity),
            status=STATUS_NAMES[status],
            doc_hash=self.document_of(int(root)),
            parent=int(parent) or None,
            children=list(range(int(first), int(first) + int(count))),
            pledged_to=int(pledged) or None,
            root=int(root),
        )
