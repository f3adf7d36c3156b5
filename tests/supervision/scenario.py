"""The hand-built supervision scenario: two lenders, three borrowers, two debtors.

Day 0 is the scenario's start on the chain clock; every step moves the clock to its day.
Amounts in the comments are yuan; the code works in fen.

Receivables (debtor → first holder, face, due day):
  R1 core → supplier1  2,000,000  day 200   pledged to L1, released, pledged to L2
  R2 core → supplier2  1,000,000  day 150   split 600,000 (R2a) / 400,000 (R2b);
                                            R2b passed to supplier3 and split again
                                            300,000 (R2b1, tier 3) / 100,000 (R2b2, tier 3)
  R3 core2 → supplier3   500,000  day 30    pledged to L5, never paid: THE overdue one
  R4 core2 → supplier1   200,000  day 20    paid in full on day 35 (late)
  R5 core → supplier2     50,000  day 150   never accepted (pending)
  R2b2 is paid by core on day 50 (on time).

Loans (borrower, tranches, rate, term, disbursed day):
  L1 supplier1  bank senior 560,000 @5% + microloan junior 240,000   10%  30d  day 0
     fee 20% to tech; repaid with 850,000 on day 20
  L4 supplier3  bank senior 400,000 @6% + microloan junior 200,000   12%  30d  day 0
     guaranteed by guarantor: GUARANTEE 40%, cap 100,000, no margin
     defaulted on day 121: the pool's 70,400 covers the senior first, loss 529,600; the
     guarantor's claim of 100,000 (min(40% × 600,000, cap)) is due on day 126 (claim_days 5),
     unpaid, and bank marks it breached on day 130
  L5 supplier3  microloan 300,000                                     8%  180d day 0
     backed by R3 (due day 30, unpaid): its collections lag
  L3 supplier2  bank junior 300,000 + microloan junior 300,000        9%  60d  day 10
     fee 10% to tech, provision 10%; 4,000 interest-only receipt on day 40
     (fee 400, provision 400, 1,600 to each lender); overdue 70 days at day 140
  L2 supplier1  microloan 850,000                                    12%  180d day 20

Pool: core contributes 50,000 and bank 20,000 on day 0, L3's receipt provisions 400, the
default takes all 70,400, tech contributes 10,000 on day 125.

Regulator: sets claim_days to 5 on day 0; suspends supplier2 on day 126 and reinstates it
on day 127, suspends core2 on day 128, sets microloan's net assets to 10,000,000 (its
single-borrower limit becomes 1,000,000 and its 850,000 exposure to supplier1 is 85% of it)
and max_apr_bps to 20% on day 129.

Duplicate documents: core tries R1's document again through the CLI on day 1 (refused by
simulation), and R3's on day 125 without simulation (mined, reverted).

The report is read on day 140.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from cli.main import main
from ledger.engine.client import Ledger
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.errors import ContractRefusal
from ledger.home import Home
from ledger.models import Admission
from ledger.roles import Role

DAY = 86_400
YUAN = 100


def doc(n: int) -> bytes:
    return bytes([n]) * 32


@dataclass
class Facts:
    """What the scenario made: ids, times and addresses the tests check against."""

    t0: int = 0
    names: dict[str, str] = field(default_factory=dict)
    r: dict[str, int] = field(default_factory=dict)
    loan: dict[str, int] = field(default_factory=dict)
    at: dict[str, int] = field(default_factory=dict)
    reverted_tx: str = ""
    as_of: int = 0

    def addr(self, name: str) -> str:
        return self.names[name]


class Builder:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.ledger = Ledger.open(home)
        self.facts = Facts()

    def close(self) -> None:
        self.ledger.close()

    def now(self) -> int:
        return int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])

    def day(self, n: int) -> None:
        """Move the chain clock to day `n` (the next block is at or after it)."""
        target = self.facts.t0 + n * DAY
        while (now := self.now()) < target:
            self.ledger.chain.advance_time(target - now)

    def as_(self, name: str) -> Ledger:
        other = self.ledger.as_signer(name)
        other.simulate = False  # setup steps that succeed: no pre-send simulation
        return other

    def addr(self, name: str) -> str:
        return self.ledger.resolve(name)

    def issue(self, debtor: str, holder: str, yuan: int, due_day: int, n: int) -> int:
        issued = self.as_(debtor).receivables.issue(
            self.addr(holder), yuan * YUAN, self.facts.t0 + due_day * DAY, doc(n)
        )
        return issued.id

    def loan(
        self,
        borrower: str,
        rid: int,
        tranches: list[tuple[str, bool, int, int]],
        rate_bps: int,
        days: int,
        originator: str = "microloan",
        covers: list[CoverRequest] | None = None,
        **terms: Any,
    ) -> int:
        request = LoanRequest(
            borrower=self.addr(borrower),
            tranches=[
                TrancheRequest(
                    lender=self.addr(lender), senior=senior, amount_fen=yuan * YUAN, coupon_bps=c
                )
                for lender, senior, yuan, c in tranches
            ],
            receivable_ids=[rid],
            rate_bps=rate_bps,
            term_days=days,
            covers=covers or [],
            **terms,
        )
        loan = self.as_(originator).loans.propose(request).id
        self.as_(borrower).loans.accept(loan)
        for provider in dict.fromkeys(self.ledger.name_of(c.provider) for c in covers or []):
            self.as_(str(provider)).covers.accept(loan)
        for lender in dict.fromkeys(t[0] for t in tranches):
            self.as_(lender).loans.fund(loan)
        self.as_(originator).loans.disburse(loan)
        return loan

    def build(self) -> Facts:
        f = self.facts
        lg = self.ledger
        for name in ("supplier3", "core2"):
            lg.keyring.create(name, dev=True)
        lg._names = None
        lg.admit(Admission(address=self.addr("supplier3"), roles=Role.SUPPLIER))
        lg.admit(Admission(address=self.addr("core2"), roles=Role.CORE_ENTERPRISE))
        lg.admit(Admission(address=self.addr("guarantor"), roles=Role.GUARANTOR))
        issuer = self.as_("issuer")
        for name, yuan in (
            ("bank", 1_000_000),
            ("microloan", 2_000_000),
            ("core2", 300_000),
            ("supplier1", 50_000),
            ("tech", 10_000),
        ):
            issuer.mint(self.addr(name), yuan * YUAN)
        f.names = {
            n: self.addr(n)
            for n in (
                "core",
                "core2",
                "supplier1",
                "supplier2",
                "supplier3",
                "bank",
                "microloan",
                "tech",
                "regulator",
                "operator",
                "guarantor",
            )
        }
        f.t0 = self.now() + 60
        self.day(0)
        self.as_("regulator").loans.set_policy("claim_days", 5)
        f.at["claim_days"] = self.now()

        # -- day 0: receivables, splits, pool, L1, L4, L5
        r = f.r
        r["R1"] = self.issue("core", "supplier1", 2_000_000, 200, 1)
        r["R2"] = self.issue("core", "supplier2", 1_000_000, 150, 2)
        r["R3"] = self.issue("core2", "supplier3", 500_000, 30, 3)
        r["R4"] = self.issue("core2", "supplier1", 200_000, 20, 4)
        r["R5"] = self.issue("core", "supplier2", 50_000, 150, 5)
        for key, holder in (
            ("R1", "supplier1"),
            ("R2", "supplier2"),
            ("R3", "supplier3"),
            ("R4", "supplier1"),
        ):
            self.as_(holder).receivables.accept(r[key])
        r["R2a"], r["R2b"] = (
            self.as_("supplier2")
            .receivables.split(r["R2"], [600_000 * YUAN, 400_000 * YUAN])
            .children
        )
        self.as_("supplier2").receivables.transfer(r["R2b"], self.addr("supplier3"))
        r["R2b1"], r["R2b2"] = (
            self.as_("supplier3")
            .receivables.split(r["R2b"], [300_000 * YUAN, 100_000 * YUAN])
            .children
        )
        self.as_("core").loans.contribute(50_000 * YUAN)
        self.as_("bank").loans.contribute(20_000 * YUAN)
        tech = self.addr("tech")
        f.loan["L1"] = self.loan(
            "supplier1",
            r["R1"],
            [("bank", True, 560_000, 500), ("microloan", False, 240_000, 0)],
            1000,
            30,
            fee_share_bps=2000,
            tech_partner=tech,
        )
        f.loan["L4"] = self.loan(
            "supplier3",
            r["R2b1"],
            [("bank", True, 400_000, 600), ("microloan", False, 200_000, 0)],
            1200,
            30,
            covers=[
                CoverRequest(
                    provider=self.addr("guarantor"),
                    kind="GUARANTEE",
                    share_bps=4000,
                    cap_fen=100_000 * YUAN,
                )
            ],
        )
        f.loan["L5"] = self.loan("supplier3", r["R3"], [("microloan", False, 300_000, 0)], 800, 180)

        # -- day 1: the same document again, through the CLI: refused before sending
        self.day(1)
        f.at["refused"] = self.now()
        self.ledger.close()  # the CLI opens the embedded chain itself
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            args = ["--home", str(self.home.root), "--as", "core", "receivable", "issue"]
            args += ["--to", "supplier2", "--amount", "1,000", "--due", "2099-12-31"]
            code = main([*args, "--doc-hash", "0x" + doc(1).hex()])
        assert code == 1 and "DocumentAlreadyUsed" in err.getvalue(), err.getvalue()
        self.ledger = lg = Ledger.open(self.home)

        # -- day 10: L3, pari passu
        self.day(10)
        f.loan["L3"] = self.loan(
            "supplier2",
            r["R2a"],
            [("bank", False, 300_000, 0), ("microloan", False, 300_000, 0)],
            900,
            60,
            fee_share_bps=1000,
            provision_share_bps=1000,
            tech_partner=tech,
        )

        # -- day 20: L1 repaid in one receipt, R1 pledged again to L2
        self.day(20)
        self.as_("supplier1").loans.repay(f.loan["L1"], 850_000 * YUAN)
        f.loan["L2"] = self.loan(
            "supplier1", r["R1"], [("microloan", False, 850_000, 0)], 1200, 180
        )

        # -- day 35: R4 paid late; day 40: L3 interest-only receipt; day 50: R2b2 on time
        self.day(35)
        self.as_("core2").receivables.pay(r["R4"])
        self.day(40)
        self.as_("supplier2").loans.repay(f.loan["L3"], 4_000 * YUAN)
        self.day(50)
        self.as_("core").receivables.pay(r["R2b2"])

        # -- day 121: L4 defaulted (maturity day 30 + 90 default days)
        self.day(121)
        self.as_("bank").loans.declare_default(f.loan["L4"])
        f.at["defaulted"] = self.now()

        # -- day 125: a tech contribution; R3's document again (by its own debtor: a
        # document is bound to its debtor), mined without simulation
        self.day(125)
        self.as_("tech").loans.contribute(10_000 * YUAN)
        try:
            self.as_("core2").receivables.issue(
                self.addr("supplier1"), 1_000 * YUAN, f.t0 + 300 * DAY, doc(3)
            )
            raise AssertionError("the mined duplicate must revert")
        except ContractRefusal as exc:
            assert exc.name == "DocumentAlreadyUsed"
        block: Any = lg.chain.w3.eth.get_block("latest", full_transactions=True)
        f.reverted_tx = "0x" + bytes(block["transactions"][-1]["hash"]).hex()
        f.at["reverted"] = int(block["timestamp"])

        # -- days 126-129: the regulator acts
        regulator = self.as_("regulator")
        self.day(126)
        regulator.suspend(self.addr("supplier2"))
        self.day(127)
        regulator.reinstate(self.addr("supplier2"))
        self.day(128)
        regulator.suspend(self.addr("core2"))
        f.at["core2_suspended"] = self.now()
        self.day(129)
        regulator.set_net_assets(self.addr("microloan"), 10_000_000 * YUAN)
        regulator.loans.set_policy("max_apr_bps", 2000)
        f.at["policy"] = self.now()

        # -- day 130: the guarantor's claim on L4, due on day 126, is marked breached
        self.day(130)
        self.as_("bank").covers.breach(f.loan["L4"], 0)
        f.at["breached"] = self.now()

        self.day(140)
        f.as_of = self.now()
        return f


def build(home: Home) -> Facts:
    b = Builder(home)
    try:
        return b.build()
    finally:
        b.close()
