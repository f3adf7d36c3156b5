"""Differential property test: the contracts and the reference model agree to the fen.

Hypothesis generates loans (1–6 tranches, both classes, both principal modes, odd amounts,
rates, penalty and grace, fee and provision shares) and receipt sequences at random times
(before and after maturity, partial and overpaying) arriving as direct repayments, as the
pledged receivable's payment and as sweeps; loans left open end in a default with the pool's
cover. Some cases sell a tranche mid-life (DESIGN §6.3) to the other lender before one of the
receipts: the price moves from buyer to seller in the sale, the waterfall is the model's
unchanged, and the sold tranche's interest and principal go to the buyer from then on.
Every settlement on-chain must equal `ledger.reference.waterfall` on every part, and
sum exactly to its receipt. The tech partner's book (DESIGN §6.6) is modelled across cases
too: some cases first default a loan of the same tech partner and set `tech_fee_npl_bps` at
random, so receipts run with the fee withheld (to the pool) or paid, as the model decides.

Staged loans (DESIGN §6.4) get cases of their own: 1–4 later stages of odd amounts and days,
draws and receipts in random order, and an end by repayment, by `lapse` from maturity or by
default. Every draw's split over the tranches (pro rata by commitment), every settlement
(interest on drawn principal only) and every lapse's refunds must equal
`ledger.reference.stages` on top of the waterfall model, and the tech partner's book, which
counts a staged loan's committed principal until its undrawn stages lapse, the model's.

The bulk runs on anvil (the same bytecode, a fast EVM); a smaller run on the embedded chain.
LIANDAI_DIFF_CASES sets the anvil count (default 2,000; `make test-long` runs 100,000);
LIANDAI_DIFF_STAGED_CASES the staged ones (default 400).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.reference import stages, waterfall
from tests.conftest import running_anvil, seed

LONG = bool(os.environ.get("LIANDAI_LONG"))
ANVIL_CASES = int(os.environ.get("LIANDAI_DIFF_CASES", "100000" if LONG else "2000"))
EMBEDDED_CASES = int(os.environ.get("LIANDAI_DIFF_EMBEDDED_CASES", "1000" if LONG else "40"))
STAGED_CASES = int(os.environ.get("LIANDAI_DIFF_STAGED_CASES", "20000" if LONG else "400"))
STAGED_EMBEDDED_CASES = 15
DAY = 86_400
BIG = 10**15  # fen given to each party up front


@dataclass
class World:
    op: Ledger
    lenders: list[Ledger]
    borrower: Ledger
    core: Ledger
    regulator: Ledger
    anvil: bool
    docs: int = 0
    book: waterfall.TechBook = field(default_factory=waterfall.TechBook)
    npl_bps: int = 250

    def now(self) -> int:
        return int(self.op.chain.w3.eth.get_block("latest")["timestamp"])

    def isolated(self, c: dict, run: Any = None) -> None:  # type: ignore[type-arg]
        """Run one case (by `run`, default `run_case`); on anvil, inside a snapshot reverted
        afterwards (time included).

        anvil's cost per block grows with the size of its state (measured: 10 → 2 cases/s
        over 800 cases), so every case starts from the same small deployment instead."""
        run = run or run_case
        if not self.anvil:
            run(self, c)
            return
        rpc = self.op.chain.w3.provider.make_request
        snapshot = rpc("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        self.book, self.npl_bps = waterfall.TechBook(), 250  # reverted with the chain
        try:
            run(self, c)
        finally:
            assert rpc("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
            for sender in self.op._senders.values():
                sender._nonce = None  # the reverted transactions' nonces are free again

    def warp(self, seconds: int) -> None:
        """Let at least `seconds` pass before the next block (past the head, not the wall)."""
        if seconds <= 0:
            return
        if self.anvil:  # the next transaction's block carries the jump; no empty block
            self.op.chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        else:
            self.op.chain.advance_time(seconds)


def build_world(home: Home, rpc: str | None) -> World:
    initialise(home, rpc=rpc, dev=True)
    op = Ledger.open(home, rpc=rpc)
    op.simulate = False
    seed(op)
    issuer, regulator = op.as_signer("issuer"), op.as_signer("regulator")
    # Loose compliance so any generated tranche mix is admissible; default right after maturity.
    loans = regulator.loans
    loans.set_policy("min_originator_share_bps", 0)
    loans.set_policy("max_single_borrower_bps", 10_000)
    loans.set_policy("max_fee_share_bps", 10_000)
    loans.set_policy("max_apr_bps", 65_535)
    loans.set_policy("default_days", 1)
    for name in ("bank", "microloan", "supplier1", "core"):
        issuer.mint(op.resolve(name), BIG)
    return World(
        op=op,
        lenders=[op.as_signer("bank"), op.as_signer("microloan")],
        borrower=op.as_signer("supplier1"),
        core=op.as_signer("core"),
        regulator=regulator,
        anvil=rpc is not None,
    )


@pytest.fixture
def anvil_world(tmp_path: Path) -> Iterator[World]:
    """A fresh anvil and deployment per part (each case reverted after it runs)."""
    with running_anvil() as url:
        world = build_world(Home.at(tmp_path / "home"), url)
        yield world
        world.op.close()


@pytest.fixture(scope="module")
def embedded_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = build_world(Home.at(tmp_path_factory.mktemp("diff-embedded") / "home"), None)
    yield world
    world.op.close()


tranche = st.tuples(st.booleans(), st.integers(1, 10**7), st.integers(0, 3000), st.integers(0, 1))
receipt = st.tuples(
    st.integers(0, 150 * DAY),  # delay before it
    st.sampled_from(["repay", "receivable", "sweep"]),
    st.one_of(st.integers(1, 3 * 10**5), st.integers(1, 7 * 10**7)),  # small or large
)
case = st.fixed_dictionaries(
    {
        "tranches": st.lists(tranche, min_size=1, max_size=6),
        "rate": st.integers(0, 3000),
        "penalty": st.integers(0, 2000),
        "grace": st.integers(0, 10),
        "term": st.integers(1, 120),
        "fee": st.integers(0, 5000),
        "provision": st.integers(0, 5000),
        "mode": st.sampled_from(["sequential", "pro-rata"]),
        "sweep": st.integers(1, 10_000),
        "receipts": st.lists(receipt, min_size=1, max_size=5),
        "default_at_end": st.booleans(),
        # a sale of tranche (seed mod count) before receipt number k, at a price
        "sale": st.one_of(
            st.none(),
            st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(1, 10**7)),
        ),
        # a defaulted loan of the same tech partner first, and tech_fee_npl_bps
        "prior": st.one_of(
            st.none(),
            st.tuples(st.integers(1, 10**6), st.integers(0, 10_000)),
        ),
    }
)


def settlement_of(world: World, sent_receipt: object, loan_id: int) -> dict[str, object]:
    from web3.logs import DISCARD

    events = (
        world.op.contract("LoanBook")
        .events.LoanSettled()
        .process_receipt(sent_receipt, errors=DISCARD)
    )
    (event,) = [e for e in events if e["args"]["loanId"] == loan_id]
    return dict(event["args"])


def check(model: waterfall.Settlement, chain: dict[str, object], amount: int) -> None:
    got = (
        chain["amountFen"],
        chain["feeFen"],
        chain["provisionFen"],
        list(chain["interestFen"]),  # type: ignore[call-overload]
        list(chain["principalFen"]),
        chain["residualFen"],
    )  # type: ignore[call-overload]
    want = (
        amount,
        model.fee_fen,
        model.provision_fen,
        list(model.interest_fen),
        list(model.principal_fen),
        model.residual_fen,
    )
    assert got == want, f"chain {got} != model {want}"
    assert (
        model.fee_fen
        + model.provision_fen
        + sum(model.interest_fen)
        + sum(model.principal_fen)
        + model.residual_fen
        == amount
    )


def issue(world: World, face: int) -> int:
    world.docs += 1
    rid = world.core.receivables.issue(
        world.borrower.resolve("supplier1"),
        face,
        world.now() + 3650 * DAY,
        world.docs.to_bytes(32, "big"),
    ).id
    world.borrower.receivables.accept(rid)
    return rid


def default_prior(world: World, amount: int, npl_bps: int) -> None:
    """A one-fen-fee loan of the tech partner, defaulted at once; then the NPL threshold."""
    op, bank = world.op, world.lenders[0]
    request = LoanRequest(
        borrower=op.resolve("supplier1"),
        tranches=[TrancheRequest(lender=op.resolve("bank"), senior=False, amount_fen=amount)],
        receivable_ids=[issue(world, amount)],
        rate_bps=0,
        term_days=1,
        fee_share_bps=1,
        tech_partner=op.resolve("tech"),
    )
    loan_id = bank.loans.propose(request).id
    world.borrower.loans.accept(loan_id)
    bank.loans.fund(loan_id)
    bank.loans.disburse(loan_id)
    world.book = world.book.disbursed(amount)
    world.warp(2 * DAY + 1)
    pool = bank.loans.pool_balance_fen()
    bank.loans.declare_default(loan_id)
    cover = min(pool, amount)
    world.book = world.book.default(cover, amount - cover)
    world.regulator.loans.set_policy("tech_fee_npl_bps", npl_bps)
    world.npl_bps = npl_bps


def tech_book_on_chain(world: World) -> waterfall.TechBook:
    prudential = world.op.contract("Prudential").functions
    outstanding, defaulted = prudential.techBookOf(world.op.resolve("tech")).call()
    return waterfall.TechBook(outstanding_fen=outstanding, defaulted_fen=defaulted)


def sell(world: World, loan_id: int, holders: list[str], seed_: int, price: int) -> list[str]:
    """Tranche `seed_ mod count` sold by its holder to the other lender (DESIGN §6.3): the
    price moves seller → buyer in the sale's one transaction; the new holders returned."""
    index = seed_ % len(holders)
    names = {world.op.resolve(n): (n, i) for i, n in enumerate(("bank", "microloan"))}
    seller_name, who = names[holders[index]]
    buyer_name = ("bank", "microloan")[1 - who]
    seller, buyer = world.lenders[who], world.lenders[1 - who]
    seller_at, buyer_at = holders[index], world.op.resolve(buyer_name)
    before = world.op.balance_fen(seller_at), world.op.balance_fen(buyer_at)
    seller.tranches.offer(loan_id, index, buyer_at, price, 30)
    sale = buyer.tranches.buy(loan_id, index)
    assert (sale.seller, sale.buyer, sale.price_fen) == (seller_at, buyer_at, price)
    after = world.op.balance_fen(seller_at), world.op.balance_fen(buyer_at)
    assert (after[0] - before[0], before[1] - after[1]) == (price, price), seller_name
    note("a tranche sold mid-life")
    return [buyer_at if i == index else h for i, h in enumerate(holders)]


def run_case(world: World, c: dict) -> None:  # type: ignore[type-arg]
    op, borrower, core = world.op, world.borrower, world.core
    if c.get("prior"):
        default_prior(world, *c["prior"])
    fee = c["fee"]
    provision = min(c["provision"], 10_000 - fee)
    tranches = [
        TrancheRequest(
            lender=world.lenders[who].resolve(("bank", "microloan")[who]),
            senior=senior,
            amount_fen=amount,
            # a senior's coupon never exceeds the borrower's rate (CouponAboveRate)
            coupon_bps=min(coupon, c["rate"]) if senior else 0,
        )
        for senior, amount, coupon, who in c["tranches"]
    ]
    principal = sum(t.amount_fen for t in tranches)
    face = principal * 2
    rid = issue(world, face)
    request = LoanRequest(
        borrower=borrower.resolve("supplier1"),
        tranches=tranches,
        receivable_ids=[rid],
        rate_bps=c["rate"],
        term_days=c["term"],
        penalty_bps=c["penalty"],
        grace_days=c["grace"],
        fee_share_bps=fee,
        provision_share_bps=provision,
        mode=c["mode"],
        tech_partner=op.resolve("tech") if fee else None,
        sweep_bps=c["sweep"],
    )
    loan_id = world.lenders[0].loans.propose(request).id
    borrower.loans.accept(loan_id)
    for who in sorted({t[3] for t in c["tranches"]}):
        world.lenders[who].loans.fund(loan_id)
    disbursed = world.lenders[0].loans.disburse(loan_id)
    t0 = int(op.chain.w3.eth.get_block(disbursed.block)["timestamp"])
    terms = request.model_terms(t0)
    state = waterfall.LoanState.initial(terms)
    if fee:  # only loans paying a fee share are in the tech partner's book
        world.book = world.book.disbursed(principal)

    def settle(amount: int, t: int) -> waterfall.Settlement:
        nonlocal state
        defaulted, withheld = state.defaulted, False
        model, state = waterfall.settle(terms, state, amount, t)
        if fee:
            world.book, withheld = world.book.settled(
                sum(model.principal_fen), defaulted=defaulted, threshold_bps=world.npl_bps
            )
            if withheld:
                model = waterfall.withhold_fee(model)
        note("fee withheld" if withheld else "fee paid" if fee else "no fee")
        return model

    unpaid = face
    sweeping = op.contract("DigitalRMB").functions.sweepOf(borrower.resolve("supplier1")).call()
    holders = [t.lender for t in tranches]
    for k, (delay, source, amount) in enumerate(c["receipts"]):
        if c.get("sale") and c["sale"][0] == k:
            holders = sell(world, loan_id, holders, *c["sale"][1:])
        lenders_before = {h: world.op.balance_fen(h) for h in set(holders)}
        world.warp(delay)
        if source == "receivable" and unpaid > 0:
            amount = min(amount, unpaid)
            sent = core.receivables.pay(rid, amount)
            unpaid -= amount
        elif source == "sweep" and sweeping[0] == loan_id and amount * c["sweep"] >= 10_000:
            gross = amount * 10_000 // c["sweep"]
            sent = core.transfer(borrower.resolve("supplier1"), gross)
            # The borrower's sub-fen carry of earlier sweeps may add one fen to the share.
            amount = int(settlement_of(world, sent.receipt, loan_id)["amountFen"])  # type: ignore[call-overload]
            assert amount - gross * c["sweep"] // 10_000 in (0, 1)
        else:
            sent = borrower.loans.repay(loan_id, amount)
        t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
        model = settle(amount, t)
        check(model, settlement_of(world, sent.receipt, loan_id), amount)
        # Each tranche's interest and principal reached its holder of the moment.
        paid: dict[str, int] = dict.fromkeys(holders, 0)
        for i, holder in enumerate(holders):
            paid[holder] += model.interest_fen[i] + model.principal_fen[i]
        for holder, before in lenders_before.items():
            assert world.op.balance_fen(holder) - before == paid[holder], holder
        if state.repaid:
            break
    info = op.contract("LoanBook").functions.loanOf(loan_id).call()
    if state.repaid:
        assert info[0] == 6  # REPAID
        assert tech_book_on_chain(world) == world.book
        return
    assert info[0] == 5  # DISBURSED
    if c["default_at_end"]:
        world.warp(max(0, terms.maturity_at + DAY - world.now()) + 1)
        pool = world.lenders[0].loans.pool_balance_fen()
        sent = op.loans.declare_default(loan_id)
        t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
        cover, state = waterfall.cover(terms, state, pool, t)
        if fee:
            world.book = world.book.default(cover.used_fen, state.principal_outstanding_fen)
        from web3.logs import DISCARD

        (event,) = (
            op.contract("LoanBook")
            .events.LoanDefaulted()
            .process_receipt(sent.receipt, errors=DISCARD)
        )
        assert event["args"]["coverFen"] == cover.used_fen
        assert list(event["args"]["principalFen"]) == list(cover.principal_fen)
        assert event["args"]["interestDueFen"] == state.interest_due_fen
    else:
        # Close it by repaying everything owed now (the model says how much), then check.
        world.warp(1)
        owed_state = waterfall.accrue(terms, state, world.now() + 1)
        total = owed_state.interest_due_fen + owed_state.principal_outstanding_fen + 1
        sent = borrower.loans.repay(loan_id, total)
        t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
        model = settle(total, t)
        check(model, settlement_of(world, sent.receipt, loan_id), total)
        assert state.repaid
    # The chain's own view agrees with the model afterwards, too.
    info = op.contract("LoanBook").functions.loanOf(loan_id).call()
    assert info[4] == state.principal_outstanding_fen
    assert tech_book_on_chain(world) == world.book


staged_case = st.fixed_dictionaries(
    {
        "tranches": st.lists(tranche, min_size=1, max_size=4),
        "rate": st.integers(0, 3000),
        "penalty": st.integers(0, 2000),
        "grace": st.integers(0, 10),
        "term": st.integers(2, 120),
        "fee": st.integers(0, 5000),
        "provision": st.integers(0, 5000),
        "mode": st.sampled_from(["sequential", "pro-rata"]),
        "first": st.integers(1, 10**6),  # stage 0's weight in the principal
        # each later stage: (weight, day seed)
        "stages": st.lists(
            st.tuples(st.integers(1, 10**6), st.integers(0, 10**6)), min_size=1, max_size=4
        ),
        "actions": st.lists(
            st.one_of(
                st.tuples(st.just("draw"), st.integers(1, 4), st.integers(0, 20 * DAY)),
                st.tuples(
                    st.just("repay"),
                    st.integers(0, 60 * DAY),
                    st.one_of(st.integers(1, 3 * 10**5), st.integers(1, 7 * 10**7)),
                ),
            ),
            min_size=1,
            max_size=6,
        ),
        "end": st.sampled_from(["repay", "lapse", "default"]),
        # a defaulted loan of the same tech partner first, and tech_fee_npl_bps, so that a
        # receipt's fee may be withheld (the undrawn stages count in the book until they lapse)
        "prior": st.one_of(
            st.none(),
            st.tuples(st.integers(1, 10**6), st.integers(0, 10_000)),
        ),
    }
)


def lapsed_refunds(world: World, sent_receipt: object) -> list[int] | None:
    from web3.logs import DISCARD

    events = (
        world.op.contract("LoanBook")
        .events.StagesLapsed()
        .process_receipt(sent_receipt, errors=DISCARD)
    )
    return list(events[0]["args"]["refundsFen"]) if events else None


def run_staged_case(world: World, c: dict) -> None:  # type: ignore[type-arg]
    """One staged loan: every draw, settlement and lapse against the reference model."""
    from web3.logs import DISCARD

    op, borrower, core = world.op, world.borrower, world.core
    # On anvil a warp moves the next block's time, not the latest's that a simulation uses.
    borrower = borrower.as_signer("supplier1")
    borrower.simulate = False
    book = op.contract("LoanBook")
    if c.get("prior"):
        default_prior(world, *c["prior"])
    fee = c["fee"]
    tranches = [
        TrancheRequest(
            lender=world.lenders[who].resolve(("bank", "microloan")[who]),
            senior=senior,
            amount_fen=amount,
            coupon_bps=min(coupon, c["rate"]) if senior else 0,
        )
        for senior, amount, coupon, who in c["tranches"]
    ]
    principal = sum(t.amount_fen for t in tranches)
    weights = [c["first"]] + [wt for wt, _ in c["stages"]]
    count = min(len(weights), principal)
    # every stage pays at least 1 fen; the rest by the weights
    amounts = [1 + a for a in waterfall.split_pro_rata(principal - count, weights[:count])]
    days = {k: c["stages"][k - 1][1] % c["term"] for k in range(1, count)}
    payees = [
        (op.resolve(("supplier2", "core")[k % 2]), amount) for k, amount in enumerate(amounts)
    ]
    world.docs += 1
    rid = core.receivables.issue(
        borrower.resolve("supplier1"),
        principal * 2,
        world.now() + 3650 * DAY,
        world.docs.to_bytes(32, "big"),
    ).id
    borrower.receivables.accept(rid)
    request = LoanRequest(
        borrower=borrower.resolve("supplier1"),
        tranches=tranches,
        receivable_ids=[rid],
        rate_bps=c["rate"],
        term_days=c["term"],
        penalty_bps=c["penalty"],
        grace_days=c["grace"],
        fee_share_bps=fee,
        provision_share_bps=min(c["provision"], 10_000 - fee),
        mode=c["mode"],
        tech_partner=op.resolve("tech") if fee else None,
        payees=payees,
        payee_stages=list(range(count)) if count > 1 else [],
        stage_days=days,
    )
    loan_id = world.lenders[0].loans.propose(request).id
    borrower.loans.accept(loan_id)
    for who in sorted({t[3] for t in c["tranches"]}):
        world.lenders[who].loans.fund(loan_id)
    disbursed = world.lenders[0].loans.disburse(loan_id)
    t0 = int(op.chain.w3.eth.get_block(disbursed.block)["timestamp"])
    terms = request.model_terms(t0)
    if fee:  # the committed principal joins the tech partner's book, drawn or not
        world.book = world.book.disbursed(principal)

    lapsed_in_book = False

    def settle(amount: int, t: int) -> waterfall.Settlement:
        nonlocal state, lapsed_in_book
        defaulted = state.defaulted
        model, state = waterfall.settle(terms, state, amount, t)
        if fee:
            # A receipt that repays the loan lapses its undrawn stages first (in the book).
            lapsing = sum(undrawn) if state.repaid else 0
            lapsed_in_book = lapsed_in_book or lapsing != 0
            world.book, withheld = world.book.settled(
                sum(model.principal_fen),
                defaulted=defaulted,
                threshold_bps=world.npl_bps,
                lapsed_fen=lapsing,
            )
            if withheld:
                model = waterfall.withhold_fee(model)
            note("staged: fee withheld" if withheld else "staged: fee paid")
        return model

    def lapse() -> list[int]:
        nonlocal undrawn
        refunds, undrawn = stages.lapse(undrawn)
        if fee and not lapsed_in_book:
            world.book = world.book.lapsed(sum(refunds))
        return list(refunds)

    if count > 1:
        _, state, undrawn = stages.start(terms, amounts[0])
    else:
        state, undrawn = waterfall.LoanState.initial(terms), (0,) * len(tranches)
    for i in range(len(tranches)):
        assert book.functions.trancheOf(loan_id, i).call()[4] == state.outstanding_fen[i]
    drawn = {0}
    for action in c["actions"]:
        if action[0] == "draw":
            k = action[1]
            if k >= count or k in drawn:
                continue
            now = world.now()
            target = max(now, t0 + days[k] * DAY) + action[2]
            if target + 600 >= terms.maturity_at:
                continue  # too close to maturity to be sure of the next block's time
            world.warp(target - now)
            sent = borrower.loans.draw(loan_id, k)
            t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
            model_draw, state, undrawn = stages.draw(terms, state, undrawn, amounts[k], t)
            (event,) = book.events.StageDrawn().process_receipt(sent.receipt, errors=DISCARD)
            assert list(event["args"]["principalFen"]) == list(model_draw.principal_fen)
            drawn.add(k)
        else:
            world.warp(action[1])
            sent = borrower.loans.repay(loan_id, action[2])
            t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
            model = settle(action[2], t)
            check(model, settlement_of(world, sent.receipt, loan_id), action[2])
            if state.repaid:
                refunds = lapse()
                got = lapsed_refunds(world, sent.receipt)
                assert got == (refunds if any(refunds) or count > len(drawn) else None)
                assert tech_book_on_chain(world) == world.book
                return
    if c["end"] == "lapse" and count > len(drawn):
        world.warp(max(0, terms.maturity_at - world.now()) + 1)
        sent = borrower.loans.lapse(loan_id)
        assert lapsed_refunds(world, sent.receipt) == lapse()
        assert tech_book_on_chain(world) == world.book
    if c["end"] == "default" and state.principal_outstanding_fen:
        world.warp(max(0, terms.maturity_at + DAY - world.now()) + 1)
        pool = world.lenders[0].loans.pool_balance_fen()
        sent = op.loans.declare_default(loan_id)
        t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
        cover, state = waterfall.cover(terms, state, pool, t)
        if fee:
            world.book = world.book.default(cover.used_fen, state.principal_outstanding_fen)
        (event,) = book.events.LoanDefaulted().process_receipt(sent.receipt, errors=DISCARD)
        assert list(event["args"]["principalFen"]) == list(cover.principal_fen)
        refunds = lapse()
        assert lapsed_refunds(world, sent.receipt) == (refunds if count > len(drawn) else None)
    else:
        world.warp(1)
        owed = waterfall.accrue(terms, state, world.now() + 1)
        total = owed.interest_due_fen + owed.principal_outstanding_fen + 1
        sent = borrower.loans.repay(loan_id, total)
        t = int(op.chain.w3.eth.get_block(sent.block)["timestamp"])
        model = settle(total, t)
        check(model, settlement_of(world, sent.receipt, loan_id), total)
        assert state.repaid
        refunds = lapse()
        expect_lapse = count > len(drawn) and c["end"] != "lapse"
        assert lapsed_refunds(world, sent.receipt) == (refunds if expect_lapse else None)
    info = book.functions.loanOf(loan_id).call()
    assert info[4] == state.principal_outstanding_fen
    assert tech_book_on_chain(world) == world.book


def cases(count: int):  # type: ignore[no-untyped-def]
    # No shrinking: on a chain it takes many minutes, and the falsifying case is printed whole.
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# The anvil cases come in parts of at most 2,500, each on a fresh anvil, shared by the
# parallel test workers.
PARTS = max(4, -(-ANVIL_CASES // 2500))
PER_PART = -(-ANVIL_CASES // PARTS)


@pytest.mark.parametrize("part", range(PARTS))
@cases(PER_PART)
@given(c=case)
def test_contract_and_model_agree_on_every_settlement_on_anvil(
    anvil_world: World,
    part: int,
    c: dict,  # type: ignore[type-arg]
) -> None:
    anvil_world.isolated(c)


@cases(EMBEDDED_CASES)
@given(c=case)
def test_contract_and_model_agree_on_every_settlement_on_the_embedded_chain(
    embedded_world: World, c: dict
) -> None:  # type: ignore[type-arg]
    run_case(embedded_world, c)


STAGED_PARTS = 2
STAGED_PER_PART = -(-STAGED_CASES // STAGED_PARTS)


@pytest.mark.parametrize("part", range(STAGED_PARTS))
@cases(STAGED_PER_PART)
@given(c=staged_case)
def test_contract_and_model_agree_on_staged_loans_on_anvil(
    anvil_world: World,
    part: int,
    c: dict,  # type: ignore[type-arg]
) -> None:
    anvil_world.isolated(c, run_staged_case)


@cases(STAGED_EMBEDDED_CASES)
@given(c=staged_case)
def test_contract_and_model_agree_on_staged_loans_on_the_embedded_chain(
    embedded_world: World, c: dict
) -> None:  # type: ignore[type-arg]
    run_staged_case(embedded_world, c)


def test_the_differential_case_count_meets_the_bar() -> None:
    assert PARTS * PER_PART >= ANVIL_CASES
    assert ANVIL_CASES >= 2000 or os.environ.get("LIANDAI_DIFF_CASES")
