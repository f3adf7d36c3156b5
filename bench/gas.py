"""Gas of every user-level operation, measured on a fresh embedded chain.

Gas is deterministic for the same bytecode, inputs and state, so accounts have fixed keys
here (calldata with more zero bytes is cheaper). `gas-snapshot.json` at the repository
root holds the committed figures; `make test` fails when they drift, and
`python -m bench.gas --update` rewrites the file on purpose.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

from ledger.engine.accounts import DEV_WARNING
from ledger.engine.client import Ledger
from ledger.engine.setup import DEV_ACCOUNTS, initialise
from ledger.home import Home, write_json_atomic
from ledger.models import Admission, Profile
from ledger.roles import Role
from ledger.solidity.artifacts import manifest

SNAPSHOT = Path(__file__).resolve().parent.parent / "gas-snapshot.json"


def fixed_home(root: Path) -> Home:
    """A home whose dev accounts have fixed keys, so addresses (and gas) repeat."""
    home = Home.at(root)
    home.ensure()
    keys = {}
    for name in ("operator", *DEV_ACCOUNTS, "newcomer"):
        acct = Account.from_key(keccak(text=f"liandai gas snapshot {name}"))
        keys[name] = {"address": acct.address, "private_key": acct.key.hex()}
    write_json_atomic(home.dev_keys_file, {"warning": DEV_WARNING, "accounts": keys})
    return home


def measure() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        home = fixed_home(Path(tmp) / "home")
        initialise(home, dev=True)
        gas: dict[str, int] = {}
        with Ledger.open(home) as op:
            for name, roles in [
                ("issuer", Role.ECNY_ISSUER),
                ("core", Role.CORE_ENTERPRISE),
                ("supplier1", Role.SUPPLIER),
                ("supplier2", Role.SUPPLIER),
                ("regulator", Role.REGULATOR),
            ]:
                sent = op.admit(Admission(address=op.resolve(name), roles=roles))
            gas["member.admit"] = sent.gas_used
            issuer, core = op.as_signer("issuer"), op.as_signer("core")
            s1, s2 = op.resolve("supplier1"), op.resolve("supplier2")
            gas["ecny.mint.new_holder"] = issuer.mint(op.resolve("core"), 1_000_000_00).gas_used
            gas["ecny.mint.existing_holder"] = issuer.mint(op.resolve("core"), 1_00).gas_used
            gas["ecny.transfer.new_recipient"] = core.transfer(s1, 10_000_00).gas_used
            gas["ecny.transfer.existing_recipient"] = core.transfer(s1, 10_000_00).gas_used
            gas["ecny.transfer.emptying_sender"] = (
                op.as_signer("supplier1").transfer(s2, 20_000_00).gas_used
            )
            issuer.mint(op.resolve("issuer"), 5_00)
            gas["ecny.burn"] = issuer.burn(1_00).gas_used
            regulator = op.as_signer("regulator")
            gas["member.suspend"] = regulator.suspend(s2).gas_used
            gas["member.reinstate"] = regulator.reinstate(s2).gas_used
            gas["member.set_net_assets"] = regulator.set_net_assets(s2, 1_000_00).gas_used
            profile = Profile(region="440300", kind="MICRO", group="Delta Group")
            gas["member.set_profile"] = regulator.set_profile(s2, profile).gas_used
            newcomer = Admission(
                address=op.resolve("newcomer"),
                roles=Role.LENDER,
                net_assets_fen=10**12,
                profile=Profile(licence="BANK", licence_expiry_at=2**40, region="440100"),
            )
            gas["member.admit.with_profile"] = op.admit(newcomer).gas_used
            gas.update(_receivables_and_loans(op))
    for name, entry in manifest()["contracts"].items():
        gas[f"size.{name}"] = int(entry["deployedSize"])
    return dict(sorted(gas.items()))


def _year_ahead(op: Ledger) -> int:
    """A receivable's due date a year after the chain's time (the steps advance it)."""
    return int(op.chain.w3.eth.get_block("latest")["timestamp"]) + 365 * 86_400


def _gas(op: Ledger, tx: str) -> int:
    return int(op.chain.w3.eth.get_transaction_receipt(tx)["gasUsed"])  # type: ignore[arg-type]


def _receivables_and_loans(op: Ledger) -> dict[str, int]:
    """Receivable lifecycle, loan lifecycle, and one receipt on 1, 2 and 5 tranches."""
    from ledger.engine.loans import LoanRequest, TrancheRequest

    gas: dict[str, int] = {}
    loans: dict[int, int] = {}
    for name, roles, licence in [
        ("bank", Role.LENDER, "BANK"),
        ("microloan", Role.LENDER, "MICROLOAN"),
        ("tech", Role.TECH_PARTNER, "NONE"),
        ("auditor", Role.AUDITOR, "NONE"),
    ]:
        profile = Profile(licence=licence)
        op.admit(
            Admission(address=op.resolve(name), roles=roles, net_assets_fen=10**15, profile=profile)
        )
    issuer, core, s1 = op.as_signer("issuer"), op.as_signer("core"), op.as_signer("supplier1")
    for name in ("bank", "microloan", "supplier1"):
        issuer.mint(op.resolve(name), 10**12)
    now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
    due = now + 365 * 86_400
    supplier = op.resolve("supplier1")
    first = core.receivables.issue(supplier, 1_000_000_00, due, keccak(text="doc 1"))
    gas["receivable.issue"] = _gas(op, first.tx)
    gas["receivable.accept"] = s1.receivables.accept(first.id).gas_used
    split = s1.receivables.split(first.id, [600_000_00, 400_000_00])
    gas["receivable.split_in_2"] = _gas(op, split.tx)
    gas["receivable.transfer"] = s1.receivables.transfer(
        split.children[1], op.resolve("supplier2")
    ).gas_used
    gas["receivable.pay_partial_unpledged"] = core.receivables.pay(
        split.children[1], 100_000_00
    ).gas_used
    lenders = [op.resolve("bank"), op.resolve("microloan")]
    for count in (1, 2, 5):
        doc = core.receivables.issue(supplier, 10_000_000_00, due, keccak(text=f"loan {count}"))
        s1.receivables.accept(doc.id)
        tranches = [
            TrancheRequest(
                lender=lenders[(i + 1) % 2],
                senior=i < count - 1,
                amount_fen=100_000_00,
                coupon_bps=500 if i < count - 1 else 0,
            )
            for i in range(count)
        ]
        request = LoanRequest(
            borrower=supplier,
            tranches=tranches,
            receivable_ids=[doc.id],
            rate_bps=1000,
            term_days=90,
            fee_share_bps=2000,
            provision_share_bps=1000,
            tech_partner=op.resolve("tech"),
        )
        originator = op.as_signer("microloan")
        proposed = originator.loans.propose(request)
        loans[count] = proposed.id
        accept = s1.loans.accept(proposed.id)
        funds = [
            op.as_signer(n).loans.fund(proposed.id) for n in ("microloan", "bank")[: min(count, 2)]
        ]
        disburse = originator.loans.disburse(proposed.id)
        op.chain.advance_time(30 * 86_400)
        first_receipt = s1.loans.repay(proposed.id, 10_000_00)
        second_receipt = s1.loans.repay(proposed.id, 10_000_00)
        gas[f"loan.settle.{count}_tranches"] = second_receipt.gas_used
        if count == 2:
            gas["loan.propose.2_tranches"] = _gas(op, proposed.tx)
            gas["loan.accept"] = accept.gas_used
            gas["loan.fund"] = funds[-1].gas_used
            gas["loan.disburse"] = disburse.gas_used
            gas["loan.settle.first_receipt.2_tranches"] = first_receipt.gas_used
            pledged_pay = core.receivables.pay(doc.id, 50_000_00)
            gas["loan.settle.receivable_payment.2_tranches"] = pledged_pay.gas_used
    contribute = op.as_signer("bank").loans.contribute(1_000_00)
    gas["pool.contribute"] = contribute.gas_used
    gas.update(_batch(op, supplier, due))
    gas.update(_default_and_audit(op, loans[5]))
    # The tech partner's defaulted principal is now far above tech_fee_npl_bps of its
    # outstanding: a receipt's fee share goes to the pool (DESIGN §6.6).
    withheld = s1.loans.repay(loans[2], 10_000_00)
    gas["loan.settle.fee_withheld.2_tranches"] = withheld.gas_used
    gas.update(_tranche_sale(op, loans[2]))
    gas.update(_securitisation(op, supplier, _year_ahead(op)))
    gas.update(_consent(op))
    gas.update(_held_cancel_and_sweep(op, supplier, _year_ahead(op)))
    gas.update(_cover(op, supplier))
    gas.update(_staged(op, supplier, due))
    return gas


def _staged(op: Ledger, supplier: str, due: int) -> dict[str, int]:
    """Staged drawdown (DESIGN §6.4) on a 2-tranche loan of 3 stages: its proposal and
    disbursement (stage 0), a draw, a receipt on drawn principal, a lapse from maturity; and a
    full repayment that lapses an undrawn stage as the loan closes."""
    from ledger.engine.loans import LoanRequest, TrancheRequest

    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    originator, bank = op.as_signer("microloan"), op.as_signer("bank")
    s2 = op.resolve("supplier2")
    # earlier steps moved the clock by months: collateral that outlives the loans
    due = int(op.chain.w3.eth.get_block("latest")["timestamp"]) + 365 * 86_400

    def loan(label: str) -> tuple[int, str]:
        doc = core.receivables.issue(supplier, 1_000_000_00, due, keccak(text=label))
        s1.receivables.accept(doc.id)
        request = LoanRequest(
            borrower=supplier,
            tranches=[
                TrancheRequest(
                    lender=op.resolve("microloan"),
                    senior=True,
                    amount_fen=120_000_00,
                    coupon_bps=500,
                ),
                TrancheRequest(lender=op.resolve("bank"), senior=False, amount_fen=80_000_00),
            ],
            receivable_ids=[doc.id],
            rate_bps=1000,
            term_days=90,
            fee_share_bps=2000,
            provision_share_bps=1000,
            tech_partner=op.resolve("tech"),
            payees=[(s2, 100_000_00), (s2, 60_000_00), (s2, 40_000_00)],
            payee_stages=[0, 1, 2],
            stage_days={1: 10, 2: 20},
        )
        proposed = originator.loans.propose(request)
        s1.loans.accept(proposed.id)
        originator.loans.fund(proposed.id)
        bank.loans.fund(proposed.id)
        return proposed.id, proposed.tx

    gas: dict[str, int] = {}
    staged, tx = loan("staged")
    gas["loan.propose.staged_3_stages"] = _gas(op, tx)
    gas["loan.disburse.staged"] = originator.loans.disburse(staged).gas_used
    op.chain.advance_time(10 * 86_400)
    gas["loan.draw.2_tranches"] = s1.loans.draw(staged, 1).gas_used
    op.chain.advance_time(10 * 86_400)
    gas["loan.settle.staged_2_tranches"] = s1.loans.repay(staged, 10_000_00).gas_used
    op.chain.advance_time(70 * 86_400)
    gas["loan.lapse.2_tranches"] = bank.loans.lapse(staged).gas_used
    closing, _ = loan("closing")
    originator.loans.disburse(closing)
    op.chain.advance_time(5 * 86_400)
    gas["loan.settle.repaid_lapsing_2_stages"] = s1.loans.repay(closing, 200_000_00).gas_used
    return gas


def _securitisation(op: Ledger, supplier: str, due: int) -> dict[str, int]:
    """Two deals over a tranche of microloan's each (2 and 4 classes): create, subscribe,
    close, one distribution each after a repayment, and a claim."""
    from ledger.engine.loans import LoanRequest, TrancheRequest
    from ledger.engine.markets.deals import ClassRequest, DealRequest

    gas: dict[str, int] = {}
    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    micro, investor = op.as_signer("microloan"), op.as_signer("newcomer")
    shapes = {
        2: [("A", 80_000_00, 500), ("J", 20_000_00, 0)],
        4: [
            ("A", 50_000_00, 400),
            ("B", 20_000_00, 600),
            ("C", 20_000_00, 900),
            ("J", 10_000_00, 0),
        ],
    }
    for count, classes in shapes.items():
        doc = core.receivables.issue(supplier, 1_000_000_00, due, keccak(text=f"deal {count}"))
        s1.receivables.accept(doc.id)
        request = LoanRequest(
            borrower=supplier,
            tranches=[
                TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=100_000_00)
            ],
            receivable_ids=[doc.id],
            rate_bps=1000,
            term_days=90,
        )
        loan = micro.loans.propose(request).id
        s1.loans.accept(loan)
        micro.loans.fund(loan)
        micro.loans.disburse(loan)
        deal, created = micro.deals.create(
            DealRequest(
                tranches=[(loan, 0)],
                classes=[ClassRequest(name=n, amount_fen=a, coupon_bps=c) for n, a, c in classes],
                servicer=op.resolve("tech"),
                fee_bps=50,
                period_days=30,
            )
        )
        subscribed = [
            (micro if c == len(classes) - 1 else investor).deals.subscribe(deal, c, amount)
            for c, (_, amount, _) in enumerate(classes)
        ]
        closed = micro.deals.close(deal)
        op.chain.advance_time(30 * 86_400)
        s1.loans.repay(loan, 30_000_00)
        distributed = op.as_signer("tech").deals.distribute(deal)
        gas[f"abs.distribute.{count}_classes"] = distributed.gas_used
        if count == 2:
            gas["abs.create.2_classes"] = _gas(op, created.tx)
            gas["abs.subscribe"] = subscribed[0].gas_used
            gas["abs.close"] = closed.gas_used
            gas["abs.claim"] = investor.deals.claim(deal).gas_used
    return gas


def _tranche_sale(op: Ledger, loan_id: int) -> dict[str, int]:
    """bank sells its junior tranche of the 2-tranche loan to the newcomer, a licensed bank
    admitted above (Prudential books the tranche to it and releases it from bank)."""
    buyer = op.resolve("newcomer")
    op.as_signer("issuer").mint(buyer, 10**12)
    offer = op.as_signer("bank").tranches.offer(loan_id, 1, buyer, 50_000_00, 7)
    sale = op.as_signer("newcomer").tranches.buy(loan_id, 1)
    return {"tranche.offer": offer.gas_used, "tranche.buy": _gas(op, sale.tx)}


def _cover(op: Ledger, supplier: str) -> dict[str, int]:
    """A 2-tranche loan with 3 cover layers (DESIGN §6.2): a guarantee with a margin, an
    insurance without, the debtor's repurchase with a margin; its default (margins, the pool,
    one principal-only receipt), a partial honour, a breach, and the late receivable payment
    that pays back the pool and the layers."""
    from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest

    gas: dict[str, int] = {}
    op.admit(Admission(address=op.resolve("guarantor"), roles=Role.GUARANTOR))
    op.admit(Admission(address=op.resolve("insurer"), roles=Role.GUARANTOR))
    issuer, core, s1 = op.as_signer("issuer"), op.as_signer("core"), op.as_signer("supplier1")
    for name in ("guarantor", "insurer"):
        issuer.mint(op.resolve(name), 10**10)
    now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
    doc = core.receivables.issue(supplier, 600_000_00, now + 90 * 86_400, keccak(text="cover"))
    s1.receivables.accept(doc.id)
    request = LoanRequest(
        borrower=supplier,
        tranches=[
            TrancheRequest(
                lender=op.resolve("bank"), senior=True, amount_fen=560_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=240_000_00),
        ],
        receivable_ids=[doc.id],
        rate_bps=1000,
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=op.resolve("tech"),
        covers=[
            CoverRequest(
                provider=op.resolve("guarantor"),
                kind="GUARANTEE",
                share_bps=4000,
                cap_fen=300_000_00,
                margin_fen=50_000_00,
            ),
            CoverRequest(
                provider=op.resolve("insurer"),
                kind="INSURANCE",
                share_bps=3000,
                cap_fen=1_000_000_00,
            ),
            CoverRequest(
                provider=op.resolve("core"),
                kind="REPURCHASE",
                share_bps=1000,
                cap_fen=100_000_00,
                margin_fen=10_000_00,
            ),
        ],
    )
    originator = op.as_signer("microloan")
    proposed = originator.loans.propose(request)
    gas["loan.propose.2_tranches_3_cover_layers"] = _gas(op, proposed.tx)
    s1.loans.accept(proposed.id)
    gas["cover.accept.with_margin"] = op.as_signer("guarantor").covers.accept(proposed.id).gas_used
    gas["cover.accept.no_margin"] = op.as_signer("insurer").covers.accept(proposed.id).gas_used
    core.covers.accept(proposed.id)
    op.as_signer("bank").loans.fund(proposed.id)
    originator.loans.fund(proposed.id)
    originator.loans.disburse(proposed.id)
    op.chain.advance_time((90 + 90 + 1) * 86_400)
    gas["loan.default.3_cover_layers"] = (
        op.as_signer("bank").loans.declare_default(proposed.id).gas_used
    )
    gas["cover.honour.partial"] = (
        op.as_signer("guarantor").covers.honour(proposed.id, 0, 10_000_00).gas_used
    )
    op.chain.advance_time(31 * 86_400)
    gas["cover.breach"] = op.as_signer("bank").covers.breach(proposed.id, 1).gas_used
    unpaid = op.covers.view(proposed.id).layers[1].unpaid_fen
    op.as_signer("insurer").covers.honour(proposed.id, 1, unpaid)  # late, after the breach
    pay = core.receivables.pay(doc.id, 600_000_00)
    assert op.events("CoverBook", "CoverReimbursed"), "the recovery must reimburse cover"
    gas["loan.settle.recovery_reimbursing_3_layers_and_pool"] = pay.gas_used
    return gas


def _funded_loan(op: Ledger, supplier: str, due: int, label: str, sweep_bps: int = 0) -> int:
    """The bench's standard loan, funded: microloan senior 100,000 at 5%, bank junior
    100,000; 10% for 90 days; fee 20% to tech, provision 10%; against a fresh receivable."""
    from ledger.engine.loans import LoanRequest, TrancheRequest

    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    originator, bank = op.as_signer("microloan"), op.as_signer("bank")
    doc = core.receivables.issue(supplier, 1_000_000_00, due, keccak(text=label))
    s1.receivables.accept(doc.id)
    request = LoanRequest(
        borrower=supplier,
        tranches=[
            TrancheRequest(
                lender=op.resolve("microloan"), senior=True, amount_fen=100_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=op.resolve("bank"), senior=False, amount_fen=100_000_00),
        ],
        receivable_ids=[doc.id],
        rate_bps=1000,
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=op.resolve("tech"),
        sweep_bps=sweep_bps,
    )
    lid = originator.loans.propose(request).id
    s1.loans.accept(lid)
    originator.loans.fund(lid)
    bank.loans.fund(lid)
    return lid


def _held_cancel_and_sweep(op: Ledger, supplier: str, due: int) -> dict[str, int]:
    """DESIGN §6.1 and the sweep: a settlement whose senior lender and tech partner are
    suspended (their shares held), the claim after reinstatement, a cancellation refunding
    two lenders, a payment into a sweeping borrower's wallet, and another loan's residual
    swept by the sweeping loan."""

    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    originator, regulator = op.as_signer("microloan"), op.as_signer("regulator")

    def loan(label: str, sweep_bps: int = 0) -> int:
        return _funded_loan(op, supplier, due, label, sweep_bps)

    gas: dict[str, int] = {}
    held = loan("held")
    originator.loans.disburse(held)
    op.chain.advance_time(30 * 86_400)
    s1.loans.repay(held, 10_000_00)
    op.chain.advance_time(30 * 86_400)
    for name in ("microloan", "tech"):
        regulator.suspend(op.resolve(name))
    gas["loan.settle.2_tranches.payees_held"] = s1.loans.repay(held, 10_000_00).gas_used
    for name in ("microloan", "tech"):
        regulator.reinstate(op.resolve(name))
    gas["ecny.claim_held"] = originator.claim_held()[0].gas_used
    gas["loan.cancel.funded_2_tranches"] = originator.loans.cancel(loan("cancel")).gas_used
    sweeping = loan("sweeping", sweep_bps=2000)
    originator.loans.disburse(sweeping)
    other = loan("other")
    originator.loans.disburse(other)
    op.chain.advance_time(30 * 86_400)
    core.transfer(supplier, 100_000_00)
    gas["ecny.transfer.swept_2_tranches"] = core.transfer(supplier, 100_000_00).gas_used
    gas["loan.settle.residual_swept.2_tranches"] = s1.loans.repay(other, 250_000_00).gas_used
    return gas


def _consent(op: Ledger) -> dict[str, int]:
    """A borrower's consent to a lender, the lender's queries of its credit file, a renewal
    and a revocation (DESIGN §6.7)."""
    s1, bank = op.as_signer("supplier1"), op.as_signer("bank")
    lender, borrower = op.resolve("bank"), op.resolve("supplier1")
    gas = {"consent.grant": s1.consents.grant(lender, 365, "credit assessment").gas_used}
    # Every query costs the same: the count shares the grant's already-written slot.
    gas["credit.query"] = bank.consents.query(borrower).gas_used
    assert bank.consents.query(borrower).gas_used == gas["credit.query"]
    gas["consent.grant.renewal"] = s1.consents.grant(lender, 90, "credit assessment").gas_used
    gas["consent.revoke"] = s1.consents.revoke(lender).gas_used
    return gas


def _without_zero_bytes(published: Any) -> int:
    """A checkpoint's gas as if its root had no zero byte. The root hashes entries that
    carry block times, which start from the wall clock, so a zero byte in it comes and goes
    between runs; each costs 12 gas less in calldata (4 instead of 16)."""
    zeros = bytes.fromhex(published.root[2:]).count(0)
    return int(published.gas_used) + 12 * zeros


def _default_and_audit(op: Ledger, loan_id: int) -> dict[str, int]:
    """A default covered by the pool (5 tranches, 4 senior), the auditor's checkpoints, and
    one audit append on its own (every operation above includes one)."""
    from ledger.audit.checkpoint import publish
    from ledger.solidity import artifacts

    gas: dict[str, int] = {}
    op.chain.advance_time((90 + 90 + 1) * 86_400)  # term, then the policy's default_days
    gas["loan.default_with_cover.5_tranches"] = (
        op.as_signer("bank").loans.declare_default(loan_id).gas_used
    )
    auditor = op.as_signer("auditor")
    gas["audit.checkpoint.first"] = _without_zero_bytes(publish(auditor))
    op.as_signer("supplier1").transfer(op.resolve("supplier2"), 1)  # one more entry
    gas["audit.checkpoint.later"] = _without_zero_bytes(publish(auditor))
    # A trail whose writer is this account: `append` as an engine contract calls it.
    art = artifacts.load("AuditTrail")
    factory = op.chain.w3.eth.contract(abi=art.abi, bytecode=art.linked({}))
    data = factory.constructor([op.sender.address], op.deployment.address("Membership"))
    trail = op.sender.transact(None, data.data_in_transaction, gas=2_000_000)
    at = trail.receipt["contractAddress"]
    append = factory.functions.append(b"K" * 32, op.sender.address, 1, b"D" * 32)
    call = append._encode_transaction_data()
    op.sender.transact(at, call, gas=200_000)  # the first entry writes two fresh slots
    gas["audit.append"] = op.sender.transact(at, call, gas=200_000).gas_used
    return gas


def _batch(op: Ledger, supplier: str, due: int) -> dict[str, int]:
    """Gas per receipt of `repayMany` at batch sizes 1, 10 and 50, each over distinct
    2-tranche loans in the same state (one earlier receipt each, a month of interest due)."""

    s1, originator = op.as_signer("supplier1"), op.as_signer("microloan")
    ids = []
    for i in range(61):
        lid = _funded_loan(op, supplier, due, f"batch {i}")
        originator.loans.disburse(lid)
        ids.append(lid)
    s1.loans.repay_many([(lid, 1_000_00) for lid in ids])
    op.chain.advance_time(30 * 86_400)
    gas: dict[str, int] = {}
    start = 0
    for size in (1, 10, 50):
        sent = s1.loans.repay_many([(lid, 10_000_00) for lid in ids[start : start + size]])
        gas[f"loan.repay_many.per_receipt.batch_{size}"] = sent.gas_used // size
        start += size
    return gas


def main() -> None:
    figures = measure()
    if "--update" in sys.argv:
        SNAPSHOT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {SNAPSHOT.name}")
    for key, value in figures.items():
        print(f"{key:<40} {value:>10,}")


if __name__ == "__main__":
    main()
