"""Named invariants of the whole system, checked after every random step (hypothesis).

A state machine drives members, e-CNY, receivables, loans and the provision pool at random:
mints and burns, payments between members (swept when the payee is a sweeping borrower),
suspensions and reinstatements, receivables issued, accepted, rejected, cancelled, split,
passed on and paid (in part or in full, pledged or not), loans proposed (sometimes against
receivables already pledged, some of them staged), accepted, funded, disbursed, drawn stage
by stage, lapsed, repaid, cancelled and declared defaulted, tranches offered and sold
(delivery versus payment), tranches pooled into securitisation deals (subscribed, closed or
cancelled, distributed, claimed), pool contributions, consents to credit-file queries granted and
revoked and files queried, and time passing. Many steps are refused by the contracts; that
is part of the test. After every step one `eth_call` (the Lens fixture) reads the whole
ledger and these invariants must hold:

1. e-CNY total supply equals what was minted minus what was burnt, and the known holders
   hold all of it: Σ balances + Σ held = supply, where what the engines owe a suspended
   member is held for it (DESIGN §6.1) and the e-CNY contract holds exactly Σ held;
2. every contract holds the e-CNY its books say: the loan book exactly the funding of loans
   awaiting disbursement plus the undrawn stages of staged loans (DESIGN §6.4), the pool
   its contributions plus provisions minus cover, the others nothing;
3. no receivable is pledged to two loans, and every pledge record points at a pledging loan;
4. per issued receivable, the unpaid value of its live descendants plus everything paid on
   its lineage equals its face value, and the payments are exactly what its debtor paid;
5. each loan's outstanding principal equals what was drawn (a staged loan's stages so far,
   an unstaged loan's whole principal) minus principal repaid minus cover, tranche by
   tranche;
6. each lender's recorded exposure to a borrower equals its open funding of that borrower
   (a bought tranche counts for its buyer what was outstanding when it bought it, and
   nothing more for its seller);
7. every settlement splits its receipt exactly (fee + provision + interest + principal +
   residual);
8. cover layers (DESIGN §6.2): each layer owes at most its cap and its share of the
   principal at default, has paid at most that and had back at most what it paid; the pool
   had back at most what it paid; the cover book holds exactly the margins deposited and not
   yet paid, returned or released (in 2), and the pool's books count its cover and what
   recoveries paid back to it; a settlement's split includes what it paid back (in 7);
9. a credit file is read only under a live consent: every query a lender makes succeeds
   exactly when the borrower's consent to it is granted, not revoked and not expired and
   the lender is an active LENDER, and each consent on-chain (granted, expiry, revoked,
   query count) is what the grants, revocations and queries made of it;
10. the Prudential contract's books (DESIGN §6.6) agree with the loans: each lender's
   funded book and its exposure to each related group are its open funding; the tech
   partner's book is the outstanding principal of its fee-paying live loans, and of it
   that of the defaulted ones;
11. each securitisation deal's books equal its account's e-CNY (DESIGN §6.5): its
   subscriptions before close; after, what its tranches collected less the fees paid and
   what holders claimed, recomputed from the events; the classes' payments plus the fees
   are what was distributed (and the deal accounts are known holders in 1);
12. the audit trail verifies: each new entry hashes correctly, links to its predecessor with
   no gap in `seq`, and the last equals `head()` (incrementally, every step); and the full
   verifier (`ledger.audit.trail.verify_trail`, event bindings included) passes at the end of
   every run.

It runs on anvil: every run starts from the same seeded state by `evm_revert` to a
snapshot, so nothing is redeployed. `LIANDAI_INVARIANT_RUNS` and `LIANDAI_INVARIANT_STEPS`
set the size (defaults 200 runs × 50 steps, in four tests of 50 runs; `LIANDAI_LONG=1`
runs 1,000 × 80). About 10 ms a step on the 2-core build machine: 200 × 50 takes
100-140 s of one worker.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.engine.deploy import SUITE
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.errors import LedgerError
from ledger.home import Home
from ledger.models import Admission
from ledger.roles import Role
from tests.conftest import seed
from tests.security import support
from tests.security.support import (
    DAY,
    LONG,
    Books,
    Deployed,
    Lens,
    Snapshot,
    TrailWatcher,
    anvil_node,
    deploy_fixture,
)

RUNS = int(os.environ.get("LIANDAI_INVARIANT_RUNS", "1000" if LONG else "200"))
STEPS = int(os.environ.get("LIANDAI_INVARIANT_STEPS", "80" if LONG else "50"))

MEMBERS = (
    "operator",
    "issuer",
    "core",
    "supplier1",
    "supplier2",
    "bank",
    "microloan",
    "tech",
    "auditor",
    "regulator",
    "guarantor",
)
SUPPLIERS = ("supplier1", "supplier2")
LENDERS = ("bank", "microloan")
SUSPENDABLE = ("supplier1", "supplier2", "microloan", "tech", "guarantor")
EXTRA_BALANCES = {
    "issuer": 100_000_00,
    "supplier1": 50_000_00,
    "supplier2": 50_000_00,
    "tech": 10_000_00,
    "guarantor": 100_000_00,
}

CAP = 10**12  # draws stay small (a run's choices must fit hypothesis's 8 KB buffer)
small = st.integers(1, 2_000_000)
# Mostly ordinary amounts; now and then one at a storage or arithmetic limit.
amounts = st.one_of(
    small, small, small, st.integers(1, 10**9), st.sampled_from([2**72 - 1, 2**72, 2**255])
)


def upto(limit: int) -> st.SearchStrategy[int]:
    """1 .. limit (capped), for amounts drawn against a balance or a debt."""
    return st.integers(1, max(1, min(limit, CAP)))


@dataclass
class World:
    """The seeded deployment every run starts from."""

    deployed: Deployed
    snapshot_id: str
    holders: list[str]
    lens_address: str
    books: Books
    trail: tuple[int, bytes, int]
    names: dict[str, str]
    runs: int = 0
    transactions: int = 0
    refused: int = 0
    settlements: int = 0
    defaults: int = 0
    queries: int = 0
    draws: int = 0
    lapses: int = 0
    sales: int = 0
    deals: int = 0
    distributions: int = 0
    entries: int = 0
    checks: int = 0
    full_runs: int = 0


WORLD: World | None = None
DEALS = range(1, 9)  # the deal accounts a run may use, known holders from the start


def deal_account(securitisation: str, deal_id: int) -> str:
    """A deal's e-CNY account: the securitisation contract's address xor its id."""
    return to_checksum_address((int(securitisation, 16) ^ deal_id).to_bytes(20, "big"))


def build_world(home: Home, url: str) -> World:
    initialise(home, rpc=url, dev=True)
    ledger = Ledger.open(home, rpc=url)
    ledger.simulate = False
    seed(ledger)
    ledger.admit(Admission(address=ledger.resolve("guarantor"), roles=Role.GUARANTOR))
    issuer = ledger.as_signer("issuer")
    for name, fen in EXTRA_BALANCES.items():
        issuer.mint(ledger.resolve(name), fen)
    ledger.as_signer("regulator").loans.set_policy("default_days", 1)
    deployed = Deployed(home, url, ledger)
    contributed, seeded = seed_business(deployed)
    lens = deploy_fixture(ledger, "Lens")
    contracts = [deployed.contract_address(n) for n in SUITE]
    holders = [ledger.resolve(n) for n in MEMBERS] + contracts + [lens.address]
    holders += [deal_account(deployed.contract_address("Securitisation"), d) for d in DEALS]
    books = Books(minted=ledger.total_supply_fen(), contributed=contributed)
    for sent in seeded:  # the staged loan's disbursement: its stage 0 and undrawn stages
        books.read_receipt(ledger, sent.receipt)
    watcher = TrailWatcher(deployed.contract_address("AuditTrail"))
    snap = Lens(ledger, lens, holders).read()
    assert watcher.check(ledger, snap) == []
    names = {ledger.resolve(n): n for n in MEMBERS}
    deployed.fix_block_times()
    return World(
        deployed, deployed.snapshot(), holders, lens.address, books, watcher.state(), names
    )


def seed_business(world: Deployed) -> tuple[int, list[Any]]:
    """Receivables and loans in every state, so every rule has something to act on from
    the first step: a PENDING receivable, ACTIVE and split ones, loans PROPOSED, ACCEPTED,
    freshly DISBURSED (one of them staged, stage 1 due now and stage 2 from day 10) and
    DISBURSED past maturity + default_days (sweeping its borrower's receipts). Returns what
    was contributed to the pool and the transactions whose receipts the books must read."""
    ledger = world.ledger
    core, bank = ledger.as_signer("core"), ledger.as_signer("bank")
    micro, s1, s2 = (ledger.as_signer(n) for n in ("microloan", "supplier1", "supplier2"))
    at = {n: ledger.resolve(n) for n in MEMBERS}
    now = world.now()
    ids = []
    for i, (holder, fen) in enumerate(
        [
            ("supplier1", 3_000_000),
            ("supplier1", 2_000_000),
            ("supplier1", 1_500_000),
            ("supplier2", 4_000_000),
            ("supplier2", 2_500_000),
            ("supplier2", 900_000),
            ("supplier2", 1_200_000),
        ]
    ):
        due = now + (80 + 10 * i) * DAY
        issued = core.receivables.issue(at[holder], fen, due, keccak(text=f"seed doc {i}"))
        ids.append(issued.id)
        if i != 5:  # this one stays PENDING
            ledger.as_signer(holder).receivables.accept(issued.id)
    s1.receivables.split(ids[2], [1_000_000, 500_000])

    def request(borrower: str, rid: int, tranches: list[TrancheRequest], **kw: Any) -> Any:
        return LoanRequest(
            borrower=at[borrower],
            tranches=tranches,
            receivable_ids=[rid],
            rate_bps=1200,
            term_days=30,
            **kw,
        )

    junior = TrancheRequest(lender=at["bank"], senior=False, amount_fen=1_000_000)
    bank.loans.propose(request("supplier1", ids[0], [junior]))  # stays PROPOSED
    overdue = micro.loans.propose(
        request(
            "supplier2",
            ids[3],
            [
                TrancheRequest(
                    lender=at["bank"], senior=True, amount_fen=1_400_000, coupon_bps=500
                ),
                TrancheRequest(lender=at["microloan"], senior=False, amount_fen=600_000),
            ],
            fee_share_bps=2000,
            provision_share_bps=1000,
            tech_partner=at["tech"],
            sweep_bps=2000,
        )
    )
    s2.loans.accept(overdue.id)
    bank.loans.fund(overdue.id)
    micro.loans.fund(overdue.id)
    micro.loans.disburse(overdue.id)
    world.warp(32 * DAY)  # past its 30-day term and the 1-day default delay
    fresh = bank.loans.propose(request("supplier1", ids[1], [junior]))
    s1.loans.accept(fresh.id)
    bank.loans.fund(fresh.id)
    bank.loans.disburse(fresh.id)  # DISBURSED, due in 30 days
    accepted = bank.loans.propose(request("supplier2", ids[6], [junior]))
    s2.loans.accept(accepted.id)  # stays ACCEPTED
    staged = bank.loans.propose(
        request(
            "supplier2",
            ids[4],
            [junior],
            payees=[(at["supplier2"], 500_000), (at["core"], 300_000), (at["core"], 200_000)],
            payee_stages=[0, 1, 2],
            stage_days={1: 0, 2: 10},
        )
    )
    s2.loans.accept(staged.id)
    bank.loans.fund(staged.id)
    disbursed = bank.loans.disburse(staged.id)  # DISBURSED, stages 1 and 2 undrawn
    bank.loans.contribute(100_000)
    return 100_000, [disbursed]


class LedgerMachine(RuleBasedStateMachine):
    """One run: from the seeded snapshot, random steps, invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.w = WORLD
        d = self.w.deployed
        d.revert(self.w.snapshot_id)
        self.w.snapshot_id = d.snapshot()
        self.ledger = d.reopen()
        self.contracts = {n: d.contract_address(n) for n in SUITE}
        compiled = support.fixture_contracts()["Lens"]
        lens = self.ledger.chain.w3.eth.contract(address=self.w.lens_address, abi=compiled.abi)
        self.lens = Lens(self.ledger, lens, self.w.holders)
        self.books = deepcopy(self.w.books)
        self.trail = TrailWatcher(self.contracts["AuditTrail"])
        self.trail.restore(self.w.trail)
        self.signers = {n: self.ledger.as_signer(n) for n in MEMBERS}
        self.addr = {n: self.ledger.resolve(n) for n in MEMBERS}
        self.docs = 0
        self.used_docs: dict[bytes, int] = {}  # document → the receivable it backs
        self.suspended: set[str] = set()
        self.covered: list[int] = []  # loans proposed with cover layers
        # (borrower, lender) → [granted_at, expires_at, revoked_at, queries]
        self.consents: dict[tuple[str, str], list[int]] = {}
        self.booked: dict[tuple[int, int], int] = {}  # (loan, tranche) bought → its booking
        self.deals: list[tuple[int, str, int]] = []  # closed deals: (id, originator, loan)
        self.terms: dict[int, tuple[int, str, bytes]] = {}
        self._snap: Snapshot | None = None
        self.steps = -1  # invariants run once before the first step
        self.w.runs += 1

    # ---------------------------------------------------------------------- plumbing

    @property
    def snap(self) -> Snapshot:
        """The ledger as of now (read again after anything that may have changed it)."""
        if self._snap is None:
            self._snap = self.lens.read()
        return self._snap

    def act(self, who: str, action: Any) -> Any:
        """Run one transaction as `who`; a refusal is an outcome, not a failure."""
        self.w.transactions += 1
        self._snap = None
        try:
            result = action(self.signers[who])
        except LedgerError:
            self.w.refused += 1
            return None
        receipt = getattr(result, "receipt", None)
        if receipt is None and hasattr(result, "tx"):
            receipt = self.ledger.chain.w3.eth.get_transaction_receipt(result.tx)
        if receipt is not None:
            self.books.read_receipt(self.ledger, receipt)
            self.trail.feed(receipt)
        return result

    def name(self, address: str) -> str | None:
        return self.w.names.get(address)

    def balance(self, name: str) -> int:
        return self.snap.balances[self.addr[name]]

    def receivables(self, *statuses: str, unpledged: bool = False) -> list[Any]:
        return [
            r
            for r in self.snap.receivables.values()
            if r.status in statuses and not (unpledged and r.pledged_to)
        ]

    def loans(self, *statuses: str) -> list[Any]:
        return [loan for loan in self.snap.loans.values() if loan.status in statuses]

    # ------------------------------------------------------------------------- e-CNY

    @rule(to=st.sampled_from(MEMBERS), fen=amounts)
    def issuer_mints(self, to: str, fen: int) -> None:
        if self.act("issuer", lambda lg: lg.mint(self.addr[to], fen)):
            self.books.minted += fen

    @precondition(lambda self: self.balance("issuer") > 0)
    @rule(data=st.data())
    def issuer_burns(self, data: st.DataObject) -> None:
        fen = data.draw(
            st.one_of(upto(self.balance("issuer")), st.just(self.balance("issuer") + 1))
        )
        if self.act("issuer", lambda lg: lg.burn(fen)):
            self.books.burnt += fen

    @rule(payer=st.sampled_from(MEMBERS), payee=st.sampled_from(MEMBERS), data=st.data())
    def member_pays_member(self, payer: str, payee: str, data: st.DataObject) -> None:
        fen = data.draw(st.one_of(upto(self.balance(payer)), amounts))
        self.act(payer, lambda lg: lg.transfer(self.addr[payee], fen))

    @rule(who=st.sampled_from(MEMBERS), data=st.data())
    def member_contributes_to_the_pool(self, who: str, data: st.DataObject) -> None:
        fen = data.draw(upto(self.balance(who) // 4 + 1))
        if self.act(who, lambda lg: lg.loans.contribute(fen)):
            self.books.contributed += fen

    @rule(who=st.sampled_from(SUSPENDABLE))
    def regulator_suspends_or_reinstates(self, who: str) -> None:
        if who in self.suspended:
            if self.act("regulator", lambda lg: lg.reinstate(self.addr[who])):
                self.suspended.discard(who)
        elif self.act("regulator", lambda lg: lg.suspend(self.addr[who])):
            self.suspended.add(who)

    @rule(who=st.sampled_from(SUSPENDABLE))
    def a_member_claims_what_was_held_for_it(self, who: str) -> None:
        # Refused while suspended or with nothing held; otherwise the held fen move back.
        self.act(who, lambda lg: lg.claim_held()[0])

    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        self.w.deployed.warp(days * DAY)
        self._snap = None

    # ------------------------------------------------------------------- receivables

    @rule(to=st.sampled_from(SUPPLIERS), fen=st.integers(1, 5_000_000), days=st.integers(1, 90))
    def core_issues_a_receivable(self, to: str, fen: int, days: int) -> None:
        self.docs += 1
        doc = keccak(text=f"run {self.w.runs} doc {self.docs}")
        due = self.snap.time + days * DAY + 3600
        issued = self.act("core", lambda lg: lg.receivables.issue(self.addr[to], fen, due, doc))
        if issued:
            self.used_docs[doc] = issued.id

    @precondition(lambda self: self.used_docs)
    @rule(data=st.data())
    def core_reuses_a_document(self, data: st.DataObject) -> None:
        """Double financing: a document that backs a receivable never backs another, unless
        that receivable was rejected or cancelled (never accepted), which frees it."""
        doc = data.draw(st.sampled_from(list(self.used_docs)))  # in issue order
        freed = self.snap.receivables[self.used_docs[doc]].status in ("REJECTED", "CANCELLED")
        due = self.snap.time + 30 * DAY
        issued = self.act(
            "core", lambda lg: lg.receivables.issue(self.addr["supplier1"], 1, due, doc)
        )
        if freed and "supplier1" not in self.suspended:
            assert issued is not None, f"freed document {doc.hex()} was refused"
            self.used_docs[doc] = issued.id
        elif not freed:
            assert issued is None, f"document {doc.hex()} backed a second receivable"

    @precondition(lambda self: self.receivables("PENDING"))
    @rule(data=st.data(), verb=st.sampled_from(["accept", "accept", "reject", "cancel"]))
    def pending_receivable_is_accepted_rejected_or_cancelled(
        self, data: st.DataObject, verb: str
    ) -> None:
        r = data.draw(st.sampled_from(self.receivables("PENDING")))
        who = self.name(r.debtor if verb == "cancel" else r.holder)
        if who is not None:
            self.act(who, lambda lg: getattr(lg.receivables, verb)(r.id))

    @precondition(lambda self: self.receivables("ACTIVE", "OVERDUE", unpledged=True))
    @rule(data=st.data())
    def holder_splits_a_receivable(self, data: st.DataObject) -> None:
        r = data.draw(st.sampled_from(self.receivables("ACTIVE", "OVERDUE", unpledged=True)))
        unpaid = r.value - r.paid
        if unpaid < 2:
            return
        cuts = sorted(data.draw(st.sets(st.integers(1, unpaid - 1), min_size=1, max_size=3)))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, unpaid], strict=True)]
        who = self.name(r.holder)
        if who is not None:
            self.act(who, lambda lg: lg.receivables.split(r.id, parts))

    @precondition(lambda self: self.receivables("ACTIVE", "OVERDUE", unpledged=True))
    @rule(data=st.data(), to=st.sampled_from((*SUPPLIERS, *LENDERS)))
    def holder_passes_a_receivable_on(self, data: st.DataObject, to: str) -> None:
        r = data.draw(st.sampled_from(self.receivables("ACTIVE", "OVERDUE", unpledged=True)))
        who = self.name(r.holder)
        if who is not None:
            self.act(who, lambda lg: lg.receivables.transfer(r.id, self.addr[to]))

    @precondition(lambda self: self.receivables("ACTIVE", "PLEDGED", "OVERDUE"))
    @rule(data=st.data(), full=st.booleans())
    def debtor_pays_a_receivable(self, data: st.DataObject, full: bool) -> None:
        r = data.draw(st.sampled_from(self.receivables("ACTIVE", "PLEDGED", "OVERDUE")))
        unpaid = r.value - r.paid
        fen = unpaid if full else data.draw(upto(unpaid + 1))
        if self.act("core", lambda lg: lg.receivables.pay(r.id, fen)):
            self.books.paid_on_root[r.root] += fen

    # ------------------------------------------------------------------------- loans

    @precondition(lambda self: self.receivables("ACTIVE", "OVERDUE", "PLEDGED"))
    @rule(data=st.data())
    def lender_proposes_a_loan(self, data: st.DataObject) -> None:
        pool = self.receivables("ACTIVE", "OVERDUE", "PLEDGED")
        first = data.draw(st.sampled_from(pool))
        borrower = self.name(first.holder)
        if borrower is None:
            return
        same = [r.id for r in pool if r.holder == first.holder and r.id != first.id]
        extra = data.draw(st.lists(st.sampled_from(same), max_size=1)) if same else []
        ids = [first.id, *extra]
        originator = data.draw(st.sampled_from(LENDERS))
        tranches = []
        for i in range(data.draw(st.integers(1, 3))):
            lender = originator if i == 0 else data.draw(st.sampled_from(LENDERS))
            senior = data.draw(st.booleans())
            tranches.append(
                TrancheRequest(
                    lender=self.addr[lender],
                    senior=senior,
                    amount_fen=data.draw(st.integers(1, 3_000_000)),
                    coupon_bps=data.draw(st.integers(0, 1500)) if senior else 0,
                )
            )
        rate = data.draw(st.integers(0, 2400))
        fee = data.draw(st.sampled_from([0, 0, 1000, 2000, 3000]))
        term = data.draw(st.integers(1, 60))
        principal = sum(t.amount_fen for t in tranches)
        staged: dict[str, Any] = {}
        later = data.draw(st.integers(0, 2)) if term > 1 and principal > 3 else 0
        if later:  # a staged loan: stage 0 to the borrower, later stages to core
            cuts = sorted(
                data.draw(
                    st.lists(
                        st.integers(1, principal - 1), min_size=later, max_size=later, unique=True
                    )
                )
            )
            edges = [0, *cuts, principal]
            amounts = [b - a for a, b in itertools.pairwise(edges)]
            staged = {
                "payees": [
                    (self.addr[borrower] if k == 0 else self.addr["core"], fen)
                    for k, fen in enumerate(amounts)
                ],
                "payee_stages": list(range(later + 1)),
                # early days, so that draws often find their stage due
                "stage_days": {
                    k: data.draw(st.integers(0, min(term - 1, 2))) for k in range(1, later + 1)
                },
            }
        request = LoanRequest(
            borrower=self.addr[borrower],
            tranches=tranches,
            receivable_ids=ids,
            rate_bps=rate,
            term_days=term,
            penalty_bps=data.draw(st.integers(0, 2400 - rate)),
            grace_days=data.draw(st.integers(0, 3)),
            fee_share_bps=fee,
            provision_share_bps=data.draw(st.sampled_from([0, 500, 1000, 3000])),
            mode=data.draw(st.sampled_from(["sequential", "pro-rata"])),
            tech_partner=self.addr["tech"] if fee else None,
            sweep_bps=data.draw(st.sampled_from([0, 0, 0, 1000, 5000])),
            covers=[self.cover_layer(data) for _ in range(data.draw(st.integers(0, 3)))],
            **staged,
        )
        if self.act(originator, lambda lg: lg.loans.propose(request)) and request.covers:
            self.covered.append(int(self.ledger.loans._call("nextLoanId")) - 1)

    def cover_layer(self, data: st.DataObject) -> CoverRequest:
        who, kind = data.draw(
            st.sampled_from(
                [
                    ("guarantor", "GUARANTEE"),
                    ("guarantor", "INSURANCE"),
                    ("tech", "GUARANTEE"),
                    ("core", "REPURCHASE"),
                ]
            )
        )
        cap = data.draw(st.integers(1, 3_000_000))
        return CoverRequest(
            provider=self.addr[who],
            kind=kind,
            share_bps=data.draw(st.integers(1, 2000)),
            cap_fen=cap,
            margin_fen=data.draw(st.integers(0, min(cap, 500_000))),
        )

    @precondition(lambda self: self.covered)
    @rule(data=st.data())
    def the_providers_accept_their_cover(self, data: st.DataObject) -> None:
        loan_id = data.draw(st.sampled_from(self.covered))
        for who in data.draw(st.permutations(["guarantor", "tech", "core"])):
            self.act(who, lambda lg, w=who: lg.covers.accept(loan_id))

    @precondition(lambda self: self.covered)
    @rule(data=st.data(), who=st.sampled_from(("guarantor", "tech", "core", "bank")))
    def a_provider_honours_a_claim(self, data: st.DataObject, who: str) -> None:
        loan_id = data.draw(st.sampled_from(self.covered))
        layer, fen = data.draw(st.integers(0, 2)), data.draw(amounts)
        self.act(who, lambda lg: lg.covers.honour(loan_id, layer, fen))

    @precondition(lambda self: self.covered)
    @rule(data=st.data())
    def a_member_marks_a_claim_breached(self, data: st.DataObject) -> None:
        loan_id = data.draw(st.sampled_from(self.covered))
        self.act("bank", lambda lg: lg.covers.breach(loan_id, data.draw(st.integers(0, 2))))

    @precondition(lambda self: self.loans("PROPOSED"))
    @rule(data=st.data())
    def borrower_accepts_a_loan(self, data: st.DataObject) -> None:
        loan = data.draw(st.sampled_from(self.loans("PROPOSED")))
        who = self.name(loan.borrower)
        if who is not None:
            self.act(who, lambda lg: lg.loans.accept(loan.id))

    @precondition(lambda self: self.loans("ACCEPTED", "FUNDING"))
    @rule(data=st.data())
    def lender_funds_a_loan(self, data: st.DataObject) -> None:
        loan = data.draw(st.sampled_from(self.loans("ACCEPTED", "FUNDING")))
        who = self.name(data.draw(st.sampled_from([t.lender for t in loan.tranches])))
        if who is not None:
            self.act(who, lambda lg: lg.loans.fund(loan.id))

    @precondition(lambda self: self.loans("FUNDED"))
    @rule(data=st.data())
    def originator_disburses_a_loan(self, data: st.DataObject) -> None:
        loan = data.draw(st.sampled_from(self.loans("FUNDED")))
        who = self.name(loan.originator)
        if who is not None:
            self.act(who, lambda lg: lg.loans.disburse(loan.id))

    def _staged_first(self) -> list[Any]:
        """Disbursed loans with undrawn stages if there are any, else all disbursed loans."""
        disbursed = self.loans("DISBURSED")
        return [loan for loan in disbursed if self.books.undrawn.get(loan.id)] or disbursed

    @precondition(lambda self: self.loans("DISBURSED"))
    @rule(data=st.data(), stage=st.integers(0, 2))
    def borrower_draws_a_stage(self, data: st.DataObject, stage: int) -> None:
        # Refused for an unstaged loan, a stage drawn or lapsed, before its day or after
        # maturity; otherwise the stage's payees are paid from the book.
        loan = data.draw(st.sampled_from(self._staged_first()))
        who = self.name(loan.borrower)
        if who is not None:
            self.act(who, lambda lg: lg.loans.draw(loan.id, stage))

    @precondition(lambda self: self.loans("DISBURSED"))
    @rule(data=st.data(), by=st.sampled_from(("borrower", "lender", "operator")))
    def undrawn_stages_lapse(self, data: st.DataObject, by: str) -> None:
        # Refused before maturity or with nothing undrawn; otherwise the lenders are refunded.
        loan = data.draw(st.sampled_from(self._staged_first()))
        address = {"borrower": loan.borrower, "lender": loan.tranches[0].lender}.get(by)
        who = self.name(address) if address else "operator"
        if who is not None:
            self.act(who, lambda lg: lg.loans.lapse(loan.id))

    @precondition(lambda self: self.loans("DISBURSED", "DEFAULTED"))
    @rule(data=st.data(), payer=st.sampled_from(("borrower", "core", "bank")))
    def someone_repays_a_loan(self, data: st.DataObject, payer: str) -> None:
        loan = data.draw(st.sampled_from(self.loans("DISBURSED", "DEFAULTED")))
        who = self.name(loan.borrower) if payer == "borrower" else payer
        owed = loan.outstanding + loan.interest_due
        fen = data.draw(st.one_of(upto(owed), upto(owed + 10**6)))
        if who is not None:
            self.act(who, lambda lg: lg.loans.repay(loan.id, fen))

    @precondition(lambda self: self.loans("DISBURSED", "DEFAULTED"))
    @rule(data=st.data())
    def borrower_repays_several_loans_at_once(self, data: st.DataObject) -> None:
        open_ = self.loans("DISBURSED", "DEFAULTED")
        picked = data.draw(st.lists(st.sampled_from(open_), min_size=1, max_size=3))
        fen = [data.draw(upto(loan.outstanding + loan.interest_due)) for loan in picked]
        who = self.name(picked[0].borrower) or "core"
        ids = [loan.id for loan in picked]
        self.act(who, lambda lg: lg.loans.repay_many(list(zip(ids, fen, strict=True))))

    @precondition(lambda self: self.loans("PROPOSED", "ACCEPTED", "FUNDING", "FUNDED"))
    @rule(data=st.data(), by_originator=st.booleans())
    def a_loan_is_cancelled_before_disbursement(
        self, data: st.DataObject, by_originator: bool
    ) -> None:
        loan = data.draw(st.sampled_from(self.loans("PROPOSED", "ACCEPTED", "FUNDING", "FUNDED")))
        who = self.name(loan.originator if by_originator else loan.borrower)
        if who is not None:
            self.act(who, lambda lg: lg.loans.cancel(loan.id))

    @precondition(lambda self: self.loans("DISBURSED"))
    @rule(data=st.data(), by=st.sampled_from(("lender", "operator")))
    def a_loan_is_declared_defaulted(self, data: st.DataObject, by: str) -> None:
        loan = data.draw(st.sampled_from(self.loans("DISBURSED")))
        who = self.name(loan.tranches[0].lender) if by == "lender" else "operator"
        if who is not None:
            self.act(who, lambda lg: lg.loans.declare_default(loan.id))

    @precondition(lambda self: self.loans("DISBURSED", "DEFAULTED"))
    @rule(
        data=st.data(),
        kind=st.sampled_from(("lender", "lender", "lender", "tech", "supplier2", "itself")),
        other_buys=st.sampled_from((False, False, False, True)),
    )
    def a_tranche_is_sold_delivery_versus_payment(
        self, data: st.DataObject, kind: str, other_buys: bool
    ) -> None:
        """DESIGN §6.3: its holder offers a tranche to one buyer, who pays the holder in the
        transaction that makes it the tranche's lender; the originator's floor, a buyer that
        is no active LENDER or a TECH_PARTNER or over its limit, and a wrong buyer refused."""
        held = [
            (loan, i)
            for loan in self.loans("DISBURSED", "DEFAULTED")
            for i in range(len(loan.tranches))
        ]
        # Mostly a tranche its originator does not hold (the floor refuses most of the rest).
        saleable = [(loan, i) for loan, i in held if loan.tranches[i].lender != loan.originator]
        loan, index = data.draw(
            st.sampled_from(saleable if saleable and kind != "itself" else held)
        )
        seller = self.name(loan.tranches[index].lender)
        if seller is None:
            return
        others = [n for n in LENDERS if n != seller]
        buyer = {"lender": others[0] if others else seller, "itself": seller}.get(kind, kind)
        price = data.draw(upto(2 * loan.tranches[index].outstanding + 1))
        to = self.addr[buyer]
        offered = self.act(seller, lambda lg: lg.tranches.offer(loan.id, index, to, price, 3))
        if offered is None:
            return
        taker = data.draw(st.sampled_from(MEMBERS)) if other_buys else buyer
        outstanding = self.snap.loans[loan.id].tranches[index].outstanding
        before = self.snap
        sold = self.act(taker, lambda lg: lg.tranches.buy(loan.id, index))
        if sold is None:
            return
        assert taker == buyer, f"{taker} bought a tranche offered to {buyer}"
        after = self.snap
        seller_at = self.addr[seller]
        assert before.balances[to] - after.balances[to] == price
        got = after.balances[seller_at] + after.held[seller_at]
        assert got - before.balances[seller_at] - before.held[seller_at] == price
        assert after.loans[loan.id].tranches[index].lender == to
        assert after.loans[loan.id].tranches[index].outstanding == outstanding
        self.booked[(loan.id, index)] = outstanding
        self.w.sales += 1

    # ------------------------------------------------------------- securitisation

    @precondition(lambda self: self.loans("DISBURSED") and len(self.deals) < len(DEALS) - 1)
    @rule(
        data=st.data(),
        coupon=st.integers(0, 1500),
        fee=st.one_of(st.integers(0, 50), st.just(51)),  # 51: over max_servicing_fee_bps
        servicer=st.sampled_from(("tech", "tech", "originator", "supplier2")),
    )
    def a_lender_securitises_a_tranche(
        self, data: st.DataObject, coupon: int, fee: int, servicer: str
    ) -> None:
        """DESIGN §6.5: a holder pools a tranche into a deal, the other lender takes class A
        at par, the holder the junior; closed (the tranche to the deal, the money to the
        holder in one transaction) or, when refused (retention, balances), cancelled."""
        from ledger.engine.markets.deals import ClassRequest, DealRequest

        loan = data.draw(st.sampled_from(self.loans("DISBURSED")))
        index = data.draw(st.integers(0, len(loan.tranches) - 1))
        holder = self.name(loan.tranches[index].lender)
        pool = loan.tranches[index].outstanding
        if holder not in LENDERS or pool < 2:
            return
        # mostly a junior above the 5% retention; now and then one below it
        a = data.draw(
            st.one_of(*[st.integers(max(1, pool // 2), pool * 9 // 10 or 1)] * 4, st.just(pool - 1))
        )
        other = next(n for n in LENDERS if n != holder)
        request = DealRequest(
            tranches=[(loan.id, index)],
            classes=[
                ClassRequest(name="A", amount_fen=a, coupon_bps=coupon),
                ClassRequest(name="J", amount_fen=pool - a),
            ],
            servicer=self.addr[holder if servicer == "originator" else servicer],
            fee_bps=fee,
            period_days=30,
        )
        if self.act(holder, lambda lg: lg.deals.create(request)[1]) is None:
            return
        deal_id = self.ledger.deals.count()
        self.act(other, lambda lg: lg.deals.subscribe(deal_id, 0, a))
        self.act(holder, lambda lg: lg.deals.subscribe(deal_id, 1, pool - a))
        if self.act(holder, lambda lg: lg.deals.close(deal_id)) is None:
            assert self.act(holder, lambda lg: lg.deals.cancel(deal_id)) is not None
            return
        self.booked[(loan.id, index)] = 0  # a deal's account books no exposure
        self.deals.append((deal_id, holder, loan.id))
        self.w.deals += 1
        # Mostly a receipt at once, and the servicer paying it out through the waterfall.
        borrower = self.name(loan.borrower)
        if borrower and data.draw(st.integers(0, 3)):
            fen = data.draw(upto(loan.outstanding + loan.interest_due))
            self.act(borrower, lambda lg: lg.loans.repay(loan.id, fen))
            who = holder if servicer == "originator" else "tech"
            if self.act(who, lambda lg: lg.deals.distribute(deal_id)) is not None:
                self.w.distributions += 1

    @precondition(lambda self: self.deals)
    @rule(
        data=st.data(),
        by=st.sampled_from(("tech", "originator", "bank", "supplier1")),
        receipt_first=st.booleans(),
    )
    def a_deal_distributes(self, data: st.DataObject, by: str, receipt_first: bool) -> None:
        """What the deal's tranche collected paid out through the note waterfall: by the
        servicer any time, by anyone else once the period has passed (else refused)."""
        deal_id, originator, loan_id = data.draw(st.sampled_from(self.deals))
        loan = self.snap.loans[loan_id]
        borrower = self.name(loan.borrower)
        if receipt_first and borrower and loan.status in ("DISBURSED", "DEFAULTED"):
            fen = data.draw(upto(loan.outstanding + loan.interest_due))
            self.act(borrower, lambda lg: lg.loans.repay(loan_id, fen))
        who = originator if by == "originator" else by
        if self.act(who, lambda lg: lg.deals.distribute(deal_id)) is not None:
            self.w.distributions += 1

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), who=st.sampled_from((*LENDERS, "supplier1")))
    def a_noteholder_claims(self, data: st.DataObject, who: str) -> None:
        deal_id, _, _ = data.draw(st.sampled_from(self.deals))
        self.act(who, lambda lg: lg.deals.claim(deal_id))

    # ------------------------------------------------------------- credit consent

    def _now(self) -> int:
        return int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])

    def _block_time(self, block: int) -> int:
        return int(self.ledger.chain.w3.eth.get_block(block)["timestamp"])

    @rule(
        borrower=st.sampled_from(MEMBERS),
        lender=st.sampled_from((*LENDERS, *LENDERS, "supplier2")),
        days=st.one_of(st.integers(1, 3), st.integers(30, 400)),
    )
    def a_member_grants_consent_to_read_its_file(
        self, borrower: str, lender: str, days: int
    ) -> None:
        sent = self.act(borrower, lambda lg: lg.consents.grant(self.addr[lender], days))
        allowed = (
            borrower not in self.suspended
            and lender in LENDERS
            and lender not in self.suspended
            and borrower != lender
        )
        assert (sent is not None) == allowed, (borrower, lender, self.suspended)
        if sent is not None:
            at = self._block_time(sent.block)
            self.consents[(borrower, lender)] = [at, at + days * DAY, 0, 0]

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def a_borrower_revokes_a_consent(self, data: st.DataObject) -> None:
        borrower, lender = data.draw(st.sampled_from(sorted(self.consents)))
        model = self.consents[(borrower, lender)]
        now = self._now()
        sent = self.act(borrower, lambda lg: lg.consents.revoke(self.addr[lender]))
        if sent is not None:
            assert borrower not in self.suspended and model[2] == 0 and now < model[1]
            model[2] = self._block_time(sent.block)
        elif borrower not in self.suspended and model[2] == 0:
            assert now >= model[1] - 60, "a live consent could not be revoked"

    @rule(data=st.data(), granted=st.sampled_from((True, True, True, False)))
    def a_lender_queries_a_credit_file(self, data: st.DataObject, granted: bool) -> None:
        if granted and self.consents:  # mostly a pair with a consent, live or not
            borrower, lender = data.draw(st.sampled_from(sorted(self.consents)))
        else:
            lender = data.draw(st.sampled_from(MEMBERS))
            borrower = data.draw(st.sampled_from(MEMBERS))
        model = self.consents.get((borrower, lender))
        now = self._now()
        queried = self.act(lender, lambda lg: lg.consents.query(self.addr[borrower]))
        active_lender = lender in LENDERS and lender not in self.suspended
        if queried is not None:
            assert active_lender and model is not None and model[2] == 0
            assert queried.at < model[1] and queried.granted_at == model[0]
            model[3] += 1
            self.w.queries += 1
        elif active_lender and model is not None and model[2] == 0:
            assert now >= model[1] - 60, "a query under a live consent was refused"

    # -------------------------------------------------------------------- invariants

    @invariant()
    def ecny_total_supply_equals_minted_minus_burnt(self) -> None:
        self.w.checks += 1  # the first invariant: once per step, and once before the first
        self.steps += 1
        assert support.ecny_supply_is_minted_less_burnt(self.snap, self.books, self.contracts) == []

    @invariant()
    def every_contract_holds_what_its_books_say(self) -> None:
        problems = support.contract_balances_match_books(self.snap, self.books, self.contracts)
        assert problems == []

    @invariant()
    def no_receivable_is_pledged_to_two_loans(self) -> None:
        assert support.no_receivable_pledged_to_two_loans(self.snap) == []

    @invariant()
    def live_receivables_plus_payments_equal_each_roots_face_value(self) -> None:
        assert support.receivable_roots_conserve_face_value(self.snap, self.books) == []

    @invariant()
    def each_loans_outstanding_is_principal_less_repaid_less_cover(self) -> None:
        problems = support.loan_outstanding_is_principal_less_repaid_and_cover(
            self.snap, self.books
        )
        assert problems == []

    @invariant()
    def each_lenders_exposure_is_its_open_funding(self) -> None:
        assert support.exposure_is_open_funding(self.snap, self.booked) == []

    @invariant()
    def the_prudential_books_agree_with_the_loans(self) -> None:
        problems = support.prudential_books_match_loans(
            self.ledger, self.snap, self.terms, self.books, self.booked
        )
        assert problems == []

    @invariant()
    def every_settlement_splits_exactly(self) -> None:
        assert self.books.problems == []

    @invariant()
    def cover_claims_stay_within_share_cap_and_payment(self) -> None:
        assert support.cover_claims_are_bounded(self.ledger, self.snap, self.covered) == []

    @invariant()
    def each_consent_is_what_was_granted_revoked_and_queried(self) -> None:
        consent = self.ledger.contract("CreditConsent").functions
        for (borrower, lender), model in self.consents.items():
            granted, expires, revoked, queries, _ = consent.consentOf(
                self.addr[borrower], self.addr[lender]
            ).call()
            assert [granted, expires, revoked, queries] == model, (borrower, lender)

    @invariant()
    def each_deals_books_equal_its_balance(self) -> None:
        if self.deals:
            assert support.deal_books_match_balances(self.ledger) == []

    @invariant()
    def the_audit_trail_verifies(self) -> None:
        assert self.trail.check(self.ledger, self.snap) == []

    def teardown(self) -> None:
        self.w.full_runs += self.steps == STEPS
        self.w.settlements += self.books.settlements
        self.w.defaults += self.books.defaults
        self.w.draws += self.books.draws
        self.w.lapses += self.books.lapses
        verdict = verify_trail(self.ledger)
        self.w.entries = max(self.w.entries, verdict.entries)
        assert verdict.ok, verdict


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    global WORLD
    with anvil_node() as url:
        WORLD = build_world(Home.at(tmp_path_factory.mktemp("invariants") / "home"), url)
        try:
            yield WORLD
        finally:
            WORLD.deployed.ledger.close()
            WORLD = None


QUARTERS = 4


@pytest.mark.parametrize("quarter", range(1, QUARTERS + 1), ids=lambda q: f"quarter {q}")
def test_named_invariants_hold_after_every_random_step(
    world: World, quarter: int, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """RUNS runs in all, in quarters (each its own hypothesis search) so that xdist can
    spread them over its workers instead of leaving one long test for the end."""
    runs = -(-RUNS // QUARTERS)
    world.runs = world.full_runs = world.checks = world.transactions = world.refused = 0
    world.settlements = world.defaults = world.queries = world.sales = 0
    world.deals = world.distributions = 0
    world.draws = world.lapses = 0
    started = time.perf_counter()
    run_state_machine_as_test(
        LedgerMachine,
        # Every run takes exactly STEPS steps: without this, hypothesis ends some runs early
        # on purpose (to explore shorter histories); the long run and the many refusals
        # already cover short histories. (`_min_steps` is hypothesis's own knob for it.)
        _min_steps=STEPS,
        settings=settings(
            max_examples=runs,
            stateful_step_count=STEPS,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    elapsed = time.perf_counter() - started
    steps = world.checks - world.runs
    summary = (
        f"invariants, quarter {quarter}: {world.runs} runs ({world.full_runs} of {STEPS} "
        f"steps), {steps} steps ({world.transactions} transactions, {world.refused} refused "
        f"by the contracts; {world.settlements} settlements, {world.defaults} defaults, "
        f"{world.draws} stages drawn, {world.lapses} lapses, "
        f"{world.queries} credit-file queries, {world.sales} tranche sales, {world.deals} "
        f"deals closed, {world.distributions} distributions), 12 named "
        "invariants after every step, "
        "trail of up to "
        f"{world.entries} entries verified after every run, {elapsed:.0f} s"
    )
    record_property("invariant_runs", world.full_runs)
    record_property("invariant_steps", steps)
    with capsys.disabled():
        print(f"\n{summary}")
    if os.environ.get("LIANDAI_INVARIANT_REPORT"):
        with open(os.environ["LIANDAI_INVARIANT_REPORT"], "a", encoding="utf-8") as out:
            out.write(summary + "\n")
    assert world.full_runs >= runs
    # The machine must get somewhere: money through the waterfall, loans into default.
    assert world.settlements >= world.runs
    assert world.defaults > 0 or world.runs < 20
    assert world.draws + world.lapses > 0 or world.runs < 20  # staged loans move too
