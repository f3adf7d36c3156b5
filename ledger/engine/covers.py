"""Cover layers (分险, DESIGN §6.2): the typed wrapper of CoverBook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput

if TYPE_CHECKING:
    pass

COVER_KINDS = ("GUARANTEE", "INSURANCE", "REPURCHASE")
GAS_ACCEPT = 400_000
GAS_BREACH = 250_000


def gas_honour(tranches: int) -> int:
    return 400_000 + 60_000 * tranches


class CoverLayerView(BaseModel):
    """One layer of a loan's cover, as `loan show --json` lists it in `cover[]`.

    Attributes:
        index: its place in the terms (0-based).
        provider, provider_name: who gives it.
        kind: GUARANTEE, INSURANCE or REPURCHASE.
        share_bps, cap_fen, margin_fen: its terms.
        accepted: its provider accepted it (margin deposited).
        owed_fen: its claim, set at default (0 before).
        paid_fen: paid by its margin at default and by honours since.
        unpaid_fen: what is left of the claim (0 once lapsed).
        reimbursed_fen: paid back to it by recoveries.
        due_at: when the claim falls due (0 before a default).
        breached: the claim was marked breached.
        lapsed: the claim has lapsed (the loan's principal reached 0 with it unpaid).
    """

    index: int
    provider: str
    provider_name: str | None
    kind: str
    share_bps: int
    cap_fen: int
    margin_fen: int
    accepted: bool
    owed_fen: int
    paid_fen: int
    unpaid_fen: int
    reimbursed_fen: int
    due_at: int
    breached: bool
    lapsed: bool


class CoverView(BaseModel):
    """A loan's cover, as `cover show --json` prints it."""

    loan: int
    layers: list[CoverLayerView]
    closed: bool
    defaulted_at: int
    due_at: int
    principal_at_default_fen: int
    pool_paid_fen: int
    pool_reimbursed_fen: int


class Covers(EngineClient):
    """Accept, honour and breach cover layers; read a loan's cover back."""

    CONTRACT = "CoverBook"

    # -- actions -----------------------------------------------------------------------------

    def accept(self, loan_id: int, terms_hash: bytes | None = None) -> Sent:
        """The signer accepts its layers of the loan by the terms hash (the proposal's own
        unless given), depositing their margins."""
        if terms_hash is None:
            terms_hash = bytes(self.ledger.loans._call("loanOf", loan_id)[9])
        return self._send("accept", loan_id, terms_hash, gas=GAS_ACCEPT)

    def own_layer(self, loan_id: int, *, claim: bool = True) -> int:
        """The signer's first layer of the loan (with a claim unpaid, when `claim`)."""
        me = self.ledger.sender.address
        layers = self.view(loan_id).layers
        mine = [x for x in layers if x.provider == me]
        if not mine:
            raise BadInput(f"{self.ledger.name_of(me)} provides no cover layer of loan {loan_id}")
        if claim:
            open_ = [x for x in mine if x.unpaid_fen > 0]
            if open_:
                return open_[0].index
        return mine[0].index

    def honour(self, loan_id: int, layer: int, amount_fen: int) -> Sent:
        n = int(self.ledger.loans._call("loanOf", loan_id)[10])
        return self._send("honour", loan_id, layer, amount_fen, gas=gas_honour(n))

    def breach(self, loan_id: int, layer: int) -> Sent:
        return self._send("breach", loan_id, layer, gas=GAS_BREACH)

    # -- reads -------------------------------------------------------------------------------

    def layer_count(self, loan_id: int) -> int:
        """How many cover layers the loan has (0 for none, or an unknown loan)."""
        return int(self._c.functions.coverOf(loan_id).call()[0])

    def view(self, loan_id: int, outstanding_fen: int | None = None) -> CoverView:
        """The loan's cover; `outstanding_fen` (the loan's principal outstanding) decides
        which unpaid claims have lapsed, read from the loan book when not given."""
        info = self._call("coverOf", loan_id)
        count, closed, defaulted_at, due_at, d, pool_paid, pool_back = info
        if outstanding_fen is None:
            outstanding_fen = int(self.ledger.loans._call("loanOf", loan_id)[4])
        layers = []
        for i in range(int(count)):
            x = self._call("layerOf", loan_id, i)
            provider = x[0]
            name = self.ledger.name_of(provider)
            owed, paid = int(x[7]), int(x[8])
            lapsed = bool(defaulted_at) and owed > paid and outstanding_fen == 0
            layers.append(
                CoverLayerView(
                    index=i,
                    provider=provider,
                    provider_name=None if name == provider else name,
                    kind=COVER_KINDS[x[1]],
                    share_bps=x[2],
                    cap_fen=x[3],
                    margin_fen=x[4],
                    accepted=x[5],
                    breached=x[6],
                    owed_fen=owed,
                    paid_fen=paid,
                    unpaid_fen=0 if lapsed else owed - paid,
                    reimbursed_fen=x[9],
                    due_at=int(due_at),
                    lapsed=lapsed,
                )
            )
        return CoverView(
            loan=loan_id,
            layers=layers,
            closed=closed,
            defaulted_at=int(defaulted_at),
            due_at=int(due_at),
            principal_at_default_fen=int(d),
            pool_paid_fen=int(pool_paid),
            pool_reimbursed_fen=int(pool_back),
        )
