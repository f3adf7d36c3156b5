"""Securitisation deals (资产证券化, DESIGN §6.5): the typed wrapper of Securitisation.

Create a deal over tranches the originator holds, subscribe to its note classes at par,
close or cancel it, distribute what its tranches collected, write off a defaulted loan's
tranche, claim, and move notes between members. The contract checks every rule; each send
is simulated first, so a refusal names the rule and its numbers and nothing is mined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

from ledger.engine.markets.tranches import check_stages_drawn
from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput

if TYPE_CHECKING:
    pass

DEAL_STATUS = ["NONE", "SUBSCRIBING", "CLOSED", "CANCELLED"]
MIN_CLASSES, MAX_CLASSES, MAX_TRANCHES = 2, 5, 16
GAS_CREATE = 3_500_000
GAS_DEAL = 1_500_000


class ClassRequest(BaseModel):
    """One note class of a new deal (senior first; the last is the junior)."""

    name: str = Field(min_length=1, max_length=32)
    amount_fen: int = Field(gt=0)
    coupon_bps: int = Field(default=0, ge=0, lt=2**16)


class DealRequest(BaseModel):
    """What `abs create` sends."""

    tranches: list[tuple[int, int]] = Field(min_length=1, max_length=MAX_TRANCHES)
    classes: list[ClassRequest] = Field(min_length=MIN_CLASSES, max_length=MAX_CLASSES)
    servicer: str
    fee_bps: int = Field(ge=0, lt=2**16)
    period_days: int = Field(ge=1, lt=2**16)

    @model_validator(mode="after")
    def _junior_has_no_coupon(self) -> DealRequest:
        if self.classes[-1].coupon_bps:
            raise ValueError("the junior class (the last) has no coupon")
        if len({c.name for c in self.classes}) != len(self.classes):
            raise ValueError("class names must differ")
        if len(set(self.tranches)) != len(self.tranches):
            raise ValueError("a tranche is listed twice")
        return self


class ClassView(BaseModel):
    index: int
    name: str
    token: str
    coupon_bps: int
    amount_fen: int
    balance_fen: int
    coupon_due_fen: int
    subscribed_fen: int
    paid_fen: int
    claimed_fen: int


class DealTrancheView(BaseModel):
    loan_id: int
    index: int
    outstanding_fen: int
    written_off: bool


class DistributionView(BaseModel):
    at: int
    cash_fen: int
    fee_fen: int
    coupon_fen: list[int]
    principal_fen: list[int]
    excess_fen: int
    tx: str


class WriteOffView(BaseModel):
    at: int
    loan_id: int
    index: int
    loss_fen: int
    reduced_fen: list[int]
    tx: str


class DealView(BaseModel):
    """A deal as `abs show --json` prints it.

    Attributes:
        account: the deal's own e-CNY account; `account_balance_fen` is its balance, which
            equals `cash_fen` (collected, not yet distributed; before close: subscriptions)
            plus what holders have not yet claimed (Σ paid − claimed).
    """

    id: int
    status: str
    originator: str
    servicer: str
    account: str
    fee_bps: int
    period_days: int
    pool_fen: int
    retention_fen: int
    originator_junior_fen: int
    fee_due_fen: int
    created_at: int
    closed_at: int
    last_distribution_at: int
    account_balance_fen: int
    cash_fen: int
    classes: list[ClassView]
    tranches: list[DealTrancheView]
    distributions: list[DistributionView]
    write_offs: list[WriteOffView]


def _b32(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 32:
        raise BadInput(f"class name {text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


class Deals(EngineClient):
    """Securitisation deals: every action of §6.5 and the deal as the chain has it."""

    CONTRACT = "Securitisation"

    def _send(self, fn: str, *args: Any, gas: int = GAS_DEAL) -> Sent:
        return super()._send(fn, *args, gas=gas)

    def create(self, request: DealRequest) -> tuple[int, Sent]:
        from web3.logs import DISCARD

        for loan_id, index in request.tranches:
            check_stages_drawn(self.ledger, loan_id, index)
        terms = (
            [t[0] for t in request.tranches],
            [t[1] for t in request.tranches],
            [_b32(c.name) for c in request.classes],
            [c.amount_fen for c in request.classes],
            [c.coupon_bps for c in request.classes],
            request.servicer,
            request.fee_bps,
            request.period_days,
        )
        sent = self._send("create", terms, gas=GAS_CREATE)
        (event,) = self._c.events.DealCreated().process_receipt(sent.receipt, errors=DISCARD)
        return int(event["args"]["dealId"]), sent

    def subscribe(self, deal_id: int, class_index: int, amount_fen: int) -> Sent:
        return self._send("subscribe", deal_id, class_index, amount_fen)

    def close(self, deal_id: int) -> Sent:
        return self._send("close", deal_id, gas=GAS_CREATE)

    def cancel(self, deal_id: int) -> Sent:
        return self._send("cancel", deal_id, gas=GAS_CREATE)

    def distribute(self, deal_id: int) -> Sent:
        return self._send("distribute", deal_id)

    def write_off(self, deal_id: int, loan_id: int, index: int) -> Sent:
        return self._send("writeOff", deal_id, loan_id, index)

    def claim(self, deal_id: int) -> Sent:
        return self._send("claim", deal_id)

    def class_index(self, deal_id: int, name: str) -> int:
        """A class by its name (or its 0-based index given as digits)."""
        count = int(self._call("dealOf", deal_id)[13])
        names = [
            bytes(self._call("classOf", deal_id, c)[0]).rstrip(b"\0").decode() for c in range(count)
        ]
        if name in names:
            return names.index(name)
        if name.isdigit() and int(name) < count:
            return int(name)
        raise BadInput(f"deal #{deal_id} has no class {name!r} (classes: {', '.join(names)})")

    def transfer(self, deal_id: int, class_index: int, to: str, units: int) -> Sent:
        """Move notes: the holder's ERC-20 transfer on the class's token."""
        token = self._call("classOf", deal_id, class_index)[1]
        from ledger.solidity import artifacts

        contract = self.ledger.chain.w3.eth.contract(
            address=token, abi=artifacts.load("DealNote").abi
        )
        data = contract.functions.transfer(to, units)._encode_transaction_data()
        return self.ledger.sender.transact(token, data, gas=GAS_DEAL, simulate=self.ledger.simulate)

    def units_of(self, deal_id: int, class_index: int, holder: str) -> int:
        token = self._call("classOf", deal_id, class_index)[1]
        from ledger.solidity import artifacts

        contract = self.ledger.chain.w3.eth.contract(
            address=token, abi=artifacts.load("DealNote").abi
        )
        return int(contract.functions.balanceOf(holder).call())

    def claimable(self, deal_id: int, holder: str) -> list[int]:
        count = int(self._call("dealOf", deal_id)[13])
        return [int(self._call("claimableOf", deal_id, c, holder)) for c in range(count)]

    def count(self) -> int:
        return int(self._call("nextDealId")) - 1

    def get(self, deal_id: int) -> DealView:
        info = self._call("dealOf", deal_id)
        (
            status,
            originator,
            servicer,
            account,
            fee_bps,
            period_days,
            pool,
            retention,
            fee_due,
            created_at,
            closed_at,
            _accrued_to,
            last_at,
            class_count,
            tranche_count,
        ) = info
        classes = []
        for c in range(int(class_count)):
            k = self._call("classOf", deal_id, c)
            classes.append(
                ClassView(
                    index=c,
                    name=bytes(k[0]).rstrip(b"\0").decode("utf-8", "replace"),
                    token=k[1],
                    coupon_bps=k[2],
                    amount_fen=k[3],
                    balance_fen=k[4],
                    coupon_due_fen=k[5],
                    subscribed_fen=k[6],
                    paid_fen=k[7],
                    claimed_fen=k[8],
                )
            )
        book = self.ledger.contract("LoanBook").functions
        tranches = []
        for t in range(int(tranche_count)):
            loan_id, index, written_off = self._call("trancheOf", deal_id, t)
            outstanding = int(book.trancheOf(loan_id, index).call()[4])
            tranches.append(
                DealTrancheView(
                    loan_id=loan_id,
                    index=index,
                    outstanding_fen=outstanding,
                    written_off=written_off,
                )
            )
        balance = self.ledger.balance_fen(account)
        unclaimed = sum(k.paid_fen - k.claimed_fen for k in classes)
        originator_junior = self.units_of(deal_id, len(classes) - 1, originator)
        return DealView(
            id=deal_id,
            status=DEAL_STATUS[status],
            originator=originator,
            servicer=servicer,
            account=account,
            fee_bps=fee_bps,
            period_days=period_days,
            pool_fen=pool,
            retention_fen=retention,
            originator_junior_fen=originator_junior,
            fee_due_fen=fee_due,
            created_at=created_at,
            closed_at=closed_at,
            last_distribution_at=last_at,
            account_balance_fen=balance,
            cash_fen=balance - unclaimed,
            classes=classes,
            tranches=tranches,
            distributions=self.distributions(deal_id),
            write_offs=self.write_offs(deal_id),
        )

    def _time(self, block: int) -> int:
        return int(self.ledger.chain.w3.eth.get_block(block)["timestamp"])

    def distributions(self, deal_id: int) -> list[DistributionView]:
        out = []
        for log in self.ledger.events(
            "Securitisation", "Distributed", argument_filters={"dealId": deal_id}
        ):
            a = log["args"]
            out.append(
                DistributionView(
                    at=self._time(int(log["blockNumber"])),
                    cash_fen=a["cashFen"],
                    fee_fen=a["feeFen"],
                    coupon_fen=list(a["couponFen"]),
                    principal_fen=list(a["principalFen"]),
                    excess_fen=a["excessFen"],
                    tx=_hex(log["transactionHash"]),
                )
            )
        return out

    def write_offs(self, deal_id: int) -> list[WriteOffView]:
        out = []
        for log in self.ledger.events(
            "Securitisation", "WrittenOff", argument_filters={"dealId": deal_id}
        ):
            a = log["args"]
            out.append(
                WriteOffView(
                    at=self._time(int(log["blockNumber"])),
                    loan_id=a["loanId"],
                    index=a["index"],
                    loss_fen=a["lossFen"],
                    reduced_fen=list(a["reducedFen"]),
                    tx=_hex(log["transactionHash"]),
                )
            )
        return out
