"""Differential property test of cover layers (DESIGN §6.2): contracts and model agree.

Hypothesis generates loans (1–4 tranches, both classes, both modes) with 0–4 cover layers
(guarantees, insurance, a tech partner's guarantee, the debtor's repurchase; shares, caps and
margins that bind or not, proposals that break the rules as well as admissible ones),
receipts before the default, a pool contribution, the default, and then a sequence of
partial, full, late and refused honours, breaches before and after the due date, and
recoveries (direct repayments and the pledged receivable's late payment). Every figure the
chain reports — each layer's claim, margin payment and return, the pool's cover, every
principal-only receipt, every recovery's split and reimbursement of cover — must equal
`ledger.reference.cover`, and every refusal must be one the model also refuses.

The bulk runs on anvil; a few cases on the embedded chain. LIANDAI_COVER_DIFF_CASES sets the
anvil count (default 240; `make test-long` runs 20,000).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger.engine.client import Ledger
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.errors import BadInput, Refused
from ledger.home import Home
from ledger.models import Admission
from ledger.reference import cover as model
from ledger.reference import waterfall
from ledger.roles import Role
from tests.conftest import running_anvil, seed

LONG = bool(os.environ.get("LIANDAI_LONG"))
ANVIL_CASES = int(os.environ.get("LIANDAI_COVER_DIFF_CASES", "20000" if LONG else "240"))
EMBEDDED_CASES = int(os.environ.get("LIANDAI_COVER_DIFF_EMBEDDED_CASES", "8"))
DAY = 86_400
BIG = 10**15
CLAIM_DAYS = 5
TECH_FEE_NPL_BPS = 250  # the policy's default (DESIGN §6.6)
# (provider, kind) a layer may take; the tech partner's guarantee is capped by policy.
PROVIDERS = (
    ("guarantor", "GUARANTEE"),
    ("insurer", "INSURANCE"),
    ("guarantor", "INSURANCE"),
    ("tech", "GUARANTEE"),
    ("core", "REPURCHASE"),
    ("tech", "INSURANCE"),  # refused: a tech partner gives a GUARANTEE only
    ("supplier2", "REPURCHASE"),  # refused: not a core enterprise owing the receivable
)


@dataclass
class World:
    op: Ledger
    anvil: bool
    docs: int = 0
    # The tech partner's book (DESIGN §6.6) over every loan of the world that pays it a fee:
    # while its NPL is above TECH_FEE_NPL_BPS, a receipt's fee share goes to the pool.
    tech: waterfall.TechBook = field(default_factory=waterfall.TechBook)

    def now(self) -> int:
        return int(self.op.chain.w3.eth.get_block("latest")["timestamp"])

    def at(self, sent: Any) -> int:
        return int(self.op.chain.w3.eth.get_block(sent.block)["timestamp"])

    def warp(self, seconds: int) -> None:
        if seconds <= 0:
            return
        if self.anvil:
            self.op.chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        else:
            self.op.chain.advance_time(seconds)

    def isolated(self, c: dict[str, Any]) -> None:
        if not self.anvil:
            run_case(self, c)
            return
        rpc = self.op.chain.w3.provider.make_request
        snapshot = rpc("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        tech = self.tech
        try:
            run_case(self, c)
        finally:
            self.tech = tech
            assert rpc("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
            for sender in self.op._senders.values():
                sender._nonce = None


def build_world(home: Home, rpc: str | None) -> World:
    initialise(home, rpc=rpc, dev=True)
    op = Ledger.open(home, rpc=rpc)
    # No simulation: it runs at the latest block's time, not the next one's (time is warped);
    # a refused transaction is mined and reverts, and its block's time is the model's.
    op.simulate = False
    seed(op)
    for name in ("guarantor", "insurer"):
        op.admit(Admission(address=op.resolve(name), roles=Role.GUARANTOR))
    regulator, issuer = op.as_signer("regulator"), op.as_signer("issuer")
    loans = regulator.loans
    loans.set_policy("min_originator_share_bps", 0)
    loans.set_policy("max_single_borrower_bps", 10_000)
    loans.set_policy("max_fee_share_bps", 10_000)
    loans.set_policy("max_apr_bps", 65_535)
    loans.set_policy("default_days", 1)
    loans.set_policy("claim_days", CLAIM_DAYS)
    for name in ("bank", "microloan", "supplier1", "core", "guarantor", "insurer", "tech"):
        issuer.mint(op.resolve(name), BIG)
    return World(op=op, anvil=rpc is not None)


@pytest.fixture
def anvil_world(tmp_path: Path) -> Iterator[World]:
    with running_anvil() as url:
        world = build_world(Home.at(tmp_path / "home"), url)
        yield world
        world.op.close()


@pytest.fixture(scope="module")
def embedded_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = build_world(Home.at(tmp_path_factory.mktemp("cover-embedded") / "home"), None)
    yield world
    world.op.close()


tranche = st.tuples(
    st.booleans(), st.integers(10**4, 10**7), st.integers(0, 3000), st.integers(0, 1)
)
layer = st.tuples(
    # mostly admissible providers; the last two are refused
    st.sampled_from([0, 1, 2, 3, 4] * 4 + [5, 6]),
    st.one_of(st.integers(1, 2500), st.integers(1, 9000)),  # share in bps
    st.one_of(st.integers(1, 10**6), st.integers(10**6, 10**9)),  # cap: binding or not
    st.integers(0, 1000),  # margin as ‰ of the cap
)
honour = st.tuples(st.just("honour"), st.integers(0, 3), st.integers(1, 1000), st.integers(0, 8))
after = st.one_of(
    honour,
    honour,
    st.tuples(st.just("breach"), st.integers(0, 3), st.just(0), st.integers(0, 8)),
    st.tuples(
        st.sampled_from(["repay", "receivable"]),
        st.just(0),
        st.one_of(st.integers(1, 10**5), st.integers(10**5, 4 * 10**7)),
        st.integers(0, 40),
    ),
)
case = st.fixed_dictionaries(
    {
        "tranches": st.lists(tranche, min_size=1, max_size=4),
        "rate": st.integers(0, 3000),
        "fee": st.integers(0, 3000),
        "provision": st.integers(0, 3000),
        "mode": st.sampled_from(["sequential", "pro-rata"]),
        "layers": st.integers(0, 4).flatmap(lambda n: st.lists(layer, min_size=n, max_size=n)),
        "before": st.lists(st.integers(1, 3 * 10**6), max_size=2),
        "contribution": st.one_of(st.just(0), st.integers(1, 10**6)),
        "after": st.lists(after, min_size=2, max_size=8),
    }
)


def attempt(fn: Any, *args: Any) -> Any:
    """The transaction's result, or None when the chain refuses it."""
    try:
        return fn(*args)
    except Refused:
        return None


def events(world: World, sent: Any, contract: str, event: str) -> list[dict[str, Any]]:
    from web3.logs import DISCARD

    ev = getattr(world.op.contract(contract).events, event)()
    return [dict(e["args"]) for e in ev.process_receipt(sent.receipt, errors=DISCARD)]


def run_case(world: World, c: dict[str, Any]) -> None:
    op = world.op
    r = op.resolve
    lenders = ("bank", "microloan")
    tranches = [
        TrancheRequest(
            lender=r(lenders[who]),
            senior=senior,
            amount_fen=amount,
            # a senior's coupon never exceeds the borrower's rate (CouponAboveRate)
            coupon_bps=min(coupon, c["rate"]) if senior else 0,
        )
        for senior, amount, coupon, who in c["tranches"]
    ]
    principal = sum(t.amount_fen for t in tranches)
    world.docs += 1
    face = principal + 10**7
    rid = (
        op.as_signer("core")
        .receivables.issue(
            r("supplier1"), face, world.now() + 3650 * DAY, world.docs.to_bytes(32, "big")
        )
        .id
    )
    op.as_signer("supplier1").receivables.accept(rid)
    layers = [
        model.Layer(PROVIDERS[p][0], PROVIDERS[p][1], share, cap, cap * m // 1000)  # type: ignore[arg-type]
        for p, share, cap, m in c["layers"]
    ]
    fee = c["fee"]
    request = LoanRequest(
        borrower=r("supplier1"),
        tranches=tranches,
        receivable_ids=[rid],
        rate_bps=c["rate"],
        term_days=1,
        fee_share_bps=fee,
        provision_share_bps=min(c["provision"], 10_000 - fee),
        mode=c["mode"],
        tech_partner=r("tech") if fee else None,
        covers=[
            CoverRequest(
                provider=r(x.provider),
                kind=x.kind,
                share_bps=x.share_bps,
                cap_fen=x.cap_fen,
                margin_fen=x.margin_fen,
            )
            for x in layers
        ],
    )
    errors = model.check_layers(
        layers,
        model.Policy(claim_days=CLAIM_DAYS),
        tech_partners=frozenset({"tech"}),
        debtors=frozenset({"core"}),
    )
    if any(x.provider == "supplier2" for x in layers):
        errors.append("supplier2 is no core enterprise")  # the chain's role check
    proposed = attempt(op.as_signer("bank").loans.propose, request)
    assert (proposed is None) == bool(errors), f"chain {proposed} vs model {errors}"
    if proposed is None:
        return
    loan_id = proposed.id
    op.as_signer("supplier1").loans.accept(loan_id)
    providers = sorted({x.provider for x in layers})
    if providers:
        # Funding waits for every provider.
        assert attempt(op.as_signer(lenders[c["tranches"][0][3]]).loans.fund, loan_id) is None
    for p in providers:
        op.as_signer(p).covers.accept(loan_id)
    for who in sorted({t[3] for t in c["tranches"]}):
        op.as_signer(lenders[who]).loans.fund(loan_id)
    disbursed = op.as_signer("bank").loans.disburse(loan_id)
    terms = request.model_terms(world.at(disbursed))
    loan = waterfall.LoanState.initial(terms)
    cover = model.CoverState.initial(layers)
    if fee:
        world.tech = world.tech.disbursed(sum(t.principal_fen for t in terms.tranches))

    def recover(amount: int, t: int) -> model.Recovery:
        nonlocal loan, cover
        defaulted = loan.defaulted
        rec, loan, cover = model.recover(terms, loan, cover, amount, t)
        if fee:
            world.tech, withheld = world.tech.settled(
                sum(rec.settlement.principal_fen),
                defaulted=defaulted,
                threshold_bps=TECH_FEE_NPL_BPS,
            )
            if withheld:
                rec = replace(rec, settlement=waterfall.withhold_fee(rec.settlement))
        return rec

    for amount in c["before"]:
        world.warp(DAY // 3)
        sent = op.as_signer("supplier1").loans.repay(loan_id, amount)
        recover(amount, world.at(sent))
        if loan.repaid:
            return
    if c["contribution"]:
        op.as_signer("core").loans.contribute(c["contribution"])

    world.warp(max(0, terms.maturity_at + DAY - world.now()) + 1)
    pool = op.loans.pool_balance_fen()
    sent = op.loans.declare_default(loan_id)
    dflt, loan, cover = model.declare_default(terms, loan, cover, pool, world.at(sent), CLAIM_DAYS)
    if fee:
        covered = dflt.receipt.used_fen
        world.tech = world.tech.default(covered, dflt.principal_fen - covered)
    (d,) = events(world, sent, "LoanBook", "LoanDefaulted")
    assert (d["coverFen"], list(d["principalFen"])) == (
        dflt.receipt.used_fen,
        list(dflt.receipt.principal_fen),
    )
    assert d["interestDueFen"] == dflt.interest_due_fen
    called = events(world, sent, "CoverBook", "CoverCalled")
    if layers:
        (k,) = called
        assert (
            k["principalFen"],
            tuple(k["owedFen"]),
            tuple(k["marginPaidFen"]),
            tuple(k["marginReturnedFen"]),
            k["poolFen"],
            k["dueAt"],
        ) == (
            dflt.principal_fen,
            dflt.owed_fen,
            dflt.margin_paid_fen,
            dflt.margin_returned_fen,
            dflt.pool_fen,
            dflt.due_at,
        )
    else:
        assert called == []

    for action, which, amount, delay_days in c["after"]:
        if loan.repaid:  # covered in full at the default, or repaid by a recovery
            break
        world.warp(delay_days * DAY)
        if action in ("honour", "breach") and not layers:
            continue
        if action in ("honour", "breach"):
            i = which % len(layers)
            signer = op.as_signer(layers[i].provider)
        if action == "honour":
            unpaid = cover.unpaid_fen(i)
            ask = max(1, unpaid * amount // 1000)
            sent = attempt(signer.covers.honour, loan_id, i, ask)
            if sent is None:
                with pytest.raises(BadInput):  # the model refuses too
                    model.honour(terms, loan, cover, i, ask, world.now())
                continue
            h, loan, cover = model.honour(terms, loan, cover, i, ask, world.at(sent))
            if fee:
                world.tech = world.tech.repaid(sum(h.principal_fen), defaulted=True)
            (s,) = events(world, sent, "LoanBook", "LoanSettled")
            assert (s["amountFen"], list(s["principalFen"]), s["residualFen"]) == (
                h.amount_fen,
                list(h.principal_fen),
                0,
            )
            assert sum(s["interestFen"]) == s["feeFen"] == s["provisionFen"] == 0
        elif action == "breach":
            sent = attempt(op.as_signer("bank").covers.breach, loan_id, i)
            if sent is None:
                with pytest.raises(BadInput):  # the model refuses too
                    model.breach(loan, cover, i, world.now())
                continue
            cover = model.breach(loan, cover, i, world.at(sent))
        else:
            if action == "repay":
                sent = op.as_signer("supplier1").loans.repay(loan_id, amount)
            else:
                unpaid_face = (
                    op.receivables.get(rid).face_value_fen - op.receivables.get(rid).paid_fen
                )
                amount = min(amount, unpaid_face)
                sent = op.as_signer("core").receivables.pay(rid, amount)
            rec = recover(amount, world.at(sent))
            (s,) = events(world, sent, "LoanBook", "LoanSettled")
            got = (
                s["feeFen"],
                s["provisionFen"],
                list(s["interestFen"]),
                list(s["principalFen"]),
                s["residualFen"],
            )
            want = (
                rec.settlement.fee_fen,
                rec.settlement.provision_fen,
                list(rec.settlement.interest_fen),
                list(rec.settlement.principal_fen),
                rec.settlement.residual_fen,
            )
            assert got == want, f"chain {got} != model {want}"
            back = events(world, sent, "CoverBook", "CoverReimbursed")
            if rec.reimbursed_fen:
                (b,) = back
                assert (tuple(b["layersFen"]), b["poolFen"]) == (rec.layers_fen, rec.pool_fen)
            else:
                assert back == []
            parts = (
                rec.settlement.fee_fen
                + rec.settlement.provision_fen
                + sum(rec.settlement.interest_fen)
                + sum(rec.settlement.principal_fen)
                + rec.reimbursed_fen
                + rec.settlement.residual_fen
            )
            assert parts == amount

    # The chain's state agrees with the model's afterwards.
    view = op.covers.view(loan_id, loan.principal_outstanding_fen)
    assert [(x.owed_fen, x.paid_fen, x.reimbursed_fen, x.breached) for x in view.layers] == [
        (o, p, b, br)
        for o, p, b, br in zip(
            cover.owed_fen, cover.paid_fen, cover.reimbursed_fen, cover.breached, strict=True
        )
    ]
    assert (view.pool_paid_fen, view.pool_reimbursed_fen) == (
        cover.pool_paid_fen,
        cover.pool_reimbursed_fen,
    )
    info = op.contract("LoanBook").functions.loanOf(loan_id).call()
    assert info[4] == loan.principal_outstanding_fen
    assert info[0] == (6 if loan.repaid else 7)  # REPAID or DEFAULTED
    assert op.balance_fen(op.deployment.address("CoverBook")) == 0


def cases(count: int):  # type: ignore[no-untyped-def]
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


PARTS = max(2, -(-ANVIL_CASES // 2500))
PER_PART = -(-ANVIL_CASES // PARTS)


@pytest.mark.parametrize("part", range(PARTS))
@cases(PER_PART)
@given(c=case)
def test_cover_contracts_and_model_agree_on_anvil(
    anvil_world: World, part: int, c: dict[str, Any]
) -> None:
    anvil_world.isolated(c)


@cases(EMBEDDED_CASES)
@given(c=case)
def test_cover_contracts_and_model_agree_on_the_embedded_chain(
    embedded_world: World, c: dict[str, Any]
) -> None:
    run_case(embedded_world, c)
