"""Tranche sales (转让, DESIGN §6.3): the typed wrapper of TrancheMarket.

A sale is delivery versus payment in one transaction: the buyer pays the price to the
seller and becomes the tranche's lender. The contract checks every rule; `offer` and `buy`
are simulated first, so a refusal is reported with the rule and its numbers and nothing is
mined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ledger.engine.refusals import explain
from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput, ContractRefusal

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

MAX_OFFER_DAYS = 365  # TrancheMarket.MAX_OFFER_DAYS
DEFAULT_OFFER_DAYS = 7
GAS_OFFER = 400_000
GAS_BUY = 600_000
ZERO_ADDRESS = "0x" + "00" * 20

OfferStatus = Literal["OPEN", "EXPIRED", "SOLD", "WITHDRAWN", "REPLACED", "LAPSED"]


class OfferView(BaseModel):
    """One offer of a tranche, as `tranche list --json` prints it.

    Attributes:
        loan_id: the loan.
        index: the tranche's index in the loan (0-based, in tranche order).
        seller: the holder that offered it.
        buyer: the one member that may take it.
        price_fen: what the buyer pays the seller.
        expires_at: after this time the offer cannot be taken.
        status: OPEN, EXPIRED, SOLD, WITHDRAWN, REPLACED (by a newer offer) or LAPSED (the
            tranche went into a securitisation deal).
        offered_at: block time of the offer.
        tx: the offer's transaction.
        sold_tx: the sale's transaction (SOLD only).
    """

    loan_id: int
    index: int
    seller: str
    buyer: str
    price_fen: int
    expires_at: int
    status: OfferStatus
    offered_at: int
    tx: str
    sold_tx: str | None = None


class SaleView(BaseModel):
    """A completed sale: what `tranche buy --json` prints."""

    tx: str
    loan_id: int
    index: int
    seller: str
    buyer: str
    price_fen: int
    outstanding_fen: int
    coupon_due_fen: int


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def check_offer(index: int, price_fen: int, days: int) -> None:
    """Bad input caught before anything is sent (the contract refuses it too)."""
    if index < 0:
        raise BadInput(f"tranche index {index} is negative (tranches count from 0)")
    if price_fen <= 0:
        raise BadInput("the price must be positive")
    if not 1 <= days <= MAX_OFFER_DAYS:
        raise BadInput(f"an offer lasts 1 to {MAX_OFFER_DAYS} days, not {days}")


def check_stages_drawn(ledger: Ledger, loan_id: int, index: int) -> None:
    """A tranche of a staged loan changes holder only once every stage is drawn (the loan
    book refuses the move too, `StagesNotDrawn`); said before an offer or a deal is made
    that could never complete."""
    stages = ledger.loans.stages(loan_id)
    not_drawn = sum(1 for s in stages if s.drawn_at is None)
    if not_drawn:
        args: dict[str, object] = {"loanId": loan_id, "index": index, "notDrawn": not_drawn}
        rule = explain("StagesNotDrawn", args, ledger.name_of)
        raise ContractRefusal("StagesNotDrawn", args, rule)


class Tranches(EngineClient):
    """Offer, buy and withdraw tranche sales; list the offers."""

    CONTRACT = "TrancheMarket"

    def offer(self, loan_id: int, index: int, buyer: str, price_fen: int, days: int) -> Sent:
        check_offer(index, price_fen, days)
        check_stages_drawn(self.ledger, loan_id, index)
        return self._send("offer", loan_id, index, buyer, price_fen, days, gas=GAS_OFFER)

    def buy(self, loan_id: int, index: int) -> SaleView:
        from web3.logs import DISCARD

        if index < 0:
            raise BadInput(f"tranche index {index} is negative (tranches count from 0)")
        sent = self._send("buy", loan_id, index, gas=GAS_BUY)
        (event,) = self._c.events.TrancheSold().process_receipt(sent.receipt, errors=DISCARD)
        a = event["args"]
        return SaleView(
            tx=sent.tx,
            loan_id=int(a["loanId"]),
            index=int(a["index"]),
            seller=a["seller"],
            buyer=a["buyer"],
            price_fen=int(a["priceFen"]),
            outstanding_fen=int(a["outstandingFen"]),
            coupon_due_fen=int(a["couponDueFen"]),
        )

    def withdraw(self, loan_id: int, index: int) -> Sent:
        return self._send("withdraw", loan_id, index, gas=GAS_OFFER)

    def deal_of(self, loan_id: int, index: int) -> int:
        return int(self._call("dealOf", loan_id, index))

    def offers(self, loan_id: int | None = None) -> list[OfferView]:
        """Every offer made, oldest first, with what became of it."""
        ledger = self.ledger
        filters = {"loanId": loan_id} if loan_id is not None else None
        events: list[tuple[int, int, str, Any]] = []
        for name in ("TrancheOffered", "TrancheSold", "OfferWithdrawn", "TrancheLocked"):
            for log in ledger.events("TrancheMarket", name, argument_filters=filters):
                events.append((int(log["blockNumber"]), int(log["logIndex"]), name, log))
        events.sort(key=lambda e: (e[0], e[1]))
        now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
        times: dict[int, int] = {}
        offers: list[OfferView] = []
        live: dict[tuple[int, int], OfferView] = {}
        for block, _, name, log in events:
            a = log["args"]
            key = (int(a["loanId"]), int(a["index"]))
            current = live.get(key)
            if name == "TrancheOffered":
                if block not in times:
                    times[block] = int(ledger.chain.w3.eth.get_block(block)["timestamp"])
                if current is not None:
                    current.status = "EXPIRED" if current.expires_at < times[block] else "REPLACED"
                view = OfferView(
                    loan_id=key[0],
                    index=key[1],
                    seller=a["seller"],
                    buyer=a["buyer"],
                    price_fen=int(a["priceFen"]),
                    expires_at=int(a["expiresAt"]),
                    status="OPEN",
                    offered_at=times[block],
                    tx=_hex(log["transactionHash"]),
                )
                offers.append(view)
                live[key] = view
            elif current is not None:
                if name == "TrancheSold":
                    current.status = "SOLD"
                    current.sold_tx = _hex(log["transactionHash"])
                elif name == "OfferWithdrawn":
                    locked = self._locked_in_same_tx(events, log)
                    current.status = "LAPSED" if locked else "WITHDRAWN"
                elif name == "TrancheLocked":
                    continue
                del live[key]
        for view in live.values():
            if view.status == "OPEN" and view.expires_at < now:
                view.status = "EXPIRED"
        return offers

    @staticmethod
    def _locked_in_same_tx(events: list[tuple[int, int, str, Any]], log: Any) -> bool:
        return any(
            name == "TrancheLocked" and other["transactionHash"] == log["transactionHash"]
            for _, _, name, other in events
        )
