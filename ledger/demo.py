"""The main story of DESIGN §1, as far as the engine goes today, on a dev home."""

from __future__ import annotations

from collections.abc import Callable

from ledger.engine.client import Ledger
from ledger.engine.setup import DevMember, admit_dev_consortium, initialise
from ledger.errors import ContractRefusal
from ledger.home import Home
from ledger.money import format_fen
from ledger.roles import Role

Say = Callable[[str], None]


def run_demo(home: Home, say: Say) -> Ledger:
    """Run the story; return the operator's ledger (the caller closes it)."""
    if not home.deployment_file("embedded").exists():
        say("1. setting up a dev consortium on the embedded chain")
        result = initialise(home, dev=True)
        say(
            f"   contracts deployed at block {result.deployment.block}: "
            + ", ".join(f"{n} {a[:10]}…" for n, a in result.deployment.contracts.items())
        )
    else:
        say("1. this home already has the contracts; the story runs again on them")
    ledger = Ledger.open(home)
    try:
        _story(ledger, say)
    except BaseException:
        ledger.close()
        raise
    return ledger


def _story(op: Ledger, say: Say) -> None:
    say("2. the operator admits the members")

    def admitted(m: DevMember, address: str) -> None:
        licence = "" if m.licence == "NONE" else f" licence {m.licence}"
        say(f"   {m.name:<10} {Role(m.roles).name:<16} {address} region {m.region}{licence}")

    if not admit_dev_consortium(op, admitted):
        say("   (already members)")

    issuer, core, s1 = op.as_signer("issuer"), op.as_signer("core"), op.as_signer("supplier1")
    say("3. the e-CNY issuer mints digital RMB")
    minted = [
        ("core", 2_000_000_00),
        ("bank", 1_000_000_00),
        ("microloan", 400_000_00),
        ("fund", 500_000_00),
        ("guarantor", 100_000_00),
        ("investor", 200_000_00),
    ]
    for name, fen in minted:
        issuer.mint(op.resolve(name), fen)
        say(f"   minted {format_fen(fen):>16} to {name}")

    from eth_utils import keccak

    from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
    from ledger.money import format_bps, format_date

    head = op.chain.w3.eth.get_block("latest")
    now = int(head["timestamp"])
    # A document backs one receivable ever: a story told again (or after Ctrl-C) on the
    # same chain gets an invoice of its own, numbered by the block it starts from.
    invoice = b"Invoice 2026-0042: 1,000,000.00 of steel coils, core -> supplier1"
    if int(core.receivables.of_document(keccak(invoice))):
        invoice += f" (story of block {int(head['number'])})".encode()
    say("4. core confirms what it owes: a receivable bound to the invoice's hash (确权, 存证)")
    issued = core.receivables.issue(
        op.resolve("supplier1"), 1_000_000_00, now + 90 * 86_400, keccak(invoice)
    )
    s1.receivables.accept(issued.id)
    say(
        f"   receivable #{issued.id}: {format_fen(1_000_000_00)} due "
        f"{format_date(now + 90 * 86_400)}, accepted by supplier1"
    )

    say("5. supplier1 splits it and passes 400,000.00 to its tier-2 supplier (拆分流转)")
    split = s1.receivables.split(issued.id, [600_000_00, 400_000_00])
    keep, passed = split.children
    s1.receivables.transfer(passed, op.resolve("supplier2"))
    say(
        f"   #{keep} {format_fen(600_000_00)} kept by supplier1, "
        f"#{passed} {format_fen(400_000_00)} now held by supplier2"
    )

    say(f"6. a joint loan against #{keep}: bank senior, micro-loan company junior 30% (联合贷款)")
    request = LoanRequest(
        borrower=op.resolve("supplier1"),
        tranches=[
            TrancheRequest(
                lender=op.resolve("bank"), senior=True, amount_fen=420_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=180_000_00),
        ],
        receivable_ids=[keep],
        rate_bps=1000,
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=op.resolve("tech"),
        payees=[(op.resolve("supplier2"), 420_000_00), (op.resolve("supplier1"), 180_000_00)],
        sweep_bps=2000,
        # A government financing-guarantee fund (政府性融资担保) takes 40% of any loss, up to
        # ¥300,000.00, with a ¥50,000.00 margin; the lenders keep the rest (分险, ≥ 20%).
        covers=[
            CoverRequest(
                provider=op.resolve("guarantor"),
                kind="GUARANTEE",
                share_bps=4000,
                cap_fen=300_000_00,
                margin_fen=50_000_00,
            )
        ],
    )
    microloan, bank = op.as_signer("microloan"), op.as_signer("bank")
    try:
        microloan.loans.propose(request.model_copy(update={"rate_bps": 2600}))
        say("   !! a 26% loan went through")
    except ContractRefusal as refusal:
        say(f"   first try at 26%: {refusal.rule.removeprefix('refused by the chain: ')}")
    proposed = microloan.loans.propose(request)
    say(
        f"   loan #{proposed.id} proposed by microloan: APR {format_bps(request.rate_bps)}, "
        f"fee share {format_bps(request.fee_share_bps)}, provision "
        f"{format_bps(request.provision_share_bps)}, sweep {format_bps(request.sweep_bps)}, "
        "guaranteed 40% (cap ¥300,000.00) by the guarantor"
    )
    s1.loans.accept(proposed.id)
    say(
        f"   supplier1 reviewed the terms (hash {proposed.terms_hash[:18]}…) and accepted: "
        f"#{keep} pledged"
    )
    guarantor = op.as_signer("guarantor")
    try:
        bank.loans.fund(proposed.id)
        say("   !! funded before the guarantor accepted")
    except ContractRefusal as refusal:
        say(f"   funding first: {refusal.rule.removeprefix('refused by the chain: ')}")
    guarantor.covers.accept(proposed.id)
    say(
        "   the guarantor accepted its layer by the same terms hash, depositing its "
        f"{format_fen(50_000_00)} margin (保证金)"
    )
    bank.loans.fund(proposed.id)
    microloan.loans.fund(proposed.id)
    sent = microloan.loans.disburse(proposed.id)
    say(
        f"   funded by both lenders and disbursed straight to the fixed payees (定向支付): "
        f"supplier2 {format_fen(420_000_00)}, supplier1 {format_fen(180_000_00)} "
        f"(gas {sent.gas_used:,})"
    )

    say("7. receipts are split on-chain in the same transaction (资金闭环)")
    op.chain.advance_time(30 * 86_400)
    core.transfer(op.resolve("supplier1"), 100_000_00)
    say(
        f"   day 30: core pays supplier1 {format_fen(100_000_00)} for goods; 20% is swept "
        "into the loan (回款自动还款)"
    )
    op.chain.advance_time(15 * 86_400)
    _tranche_sale(op, say, proposed.id)
    deal_id = _securitisation(op, say, proposed.id)

    say("10. the pledged receivable pays the loan off at maturity")
    op.chain.advance_time(45 * 86_400)
    sent = core.receivables.pay(keep)
    say(f"   day 90: core pays receivable #{keep} in full (gas {sent.gas_used:,})")
    core.receivables.pay(passed)
    say(f"   and pays #{passed} to its holder supplier2 directly")
    view = op.loans.get(proposed.id)
    for s in view.settlements:
        say(
            f"   settlement ({s.source.lower()}) of {format_fen(s.amount_fen)}: "
            f"fee {format_fen(s.fee_fen)}, provision {format_fen(s.provision_fen)}, "
            + ", ".join(
                f"t{i + 1} interest {format_fen(s.interest_fen[i])} principal "
                f"{format_fen(s.principal_fen[i])}"
                for i in range(len(s.interest_fen))
            )
            + f", residual {format_fen(s.residual_fen)}"
        )
    last = view.settlements[-1]
    say(
        f"   the senior's share of the day-90 receipt, "
        f"{format_fen(last.interest_fen[0] + last.principal_fen[0])}, went to "
        f"{op.name_of(view.tranches[0].lender)}, its buyer"
    )
    say(
        f"   loan #{view.id} is {view.status}; receivable #{keep} is "
        f"{op.receivables.get(keep).status}; the guarantor's margin came back "
        f"({format_fen(op.balance_fen(op.resolve('guarantor')))} again)"
    )
    _distribution(op, say, deal_id)
    _staged_loan(op, say, invoice)

    say("13. balances")
    for name in (
        "core",
        "supplier1",
        "supplier2",
        "bank",
        "fund",
        "microloan",
        "tech",
        "guarantor",
        "investor",
    ):
        say(f"   {name:<10} {format_fen(op.balance_fen(op.resolve(name))):>16}")
    say(f"   provision pool {format_fen(op.loans.pool_balance_fen()):>12}")

    _audit(op, say, proposed.id)


def _tranche_sale(op: Ledger, say: Say, loan_id: int) -> None:
    """Stage two (DESIGN §6.3): bank exits its senior tranche before maturity; fund pays it
    in the transaction that makes fund the lender. The originator cannot sell below its floor."""
    say("8. day 45: bank sells its senior tranche to fund (转让, delivery versus payment)")
    microloan, bank, fund = (op.as_signer(n) for n in ("microloan", "bank", "fund"))
    try:
        microloan.tranches.offer(loan_id, 1, op.resolve("fund"), 100_000_00, 7)
        say("   !! the originator sold below its floor")
    except ContractRefusal as refusal:
        rule = refusal.rule.removeprefix("refused by the chain: ")
        say(f"   microloan offers its junior: {rule}")
    senior = op.loans.get(loan_id).tranches[0]
    price = senior.outstanding_fen * 99 // 100
    bank.tranches.offer(loan_id, 0, op.resolve("fund"), price, 7)
    before = op.balance_fen(op.resolve("bank"))
    sale = fund.tranches.buy(loan_id, 0)
    gas = int(op.chain.w3.eth.get_transaction_receipt(sale.tx)["gasUsed"])  # type: ignore[arg-type]
    paid = op.balance_fen(op.resolve("bank")) - before
    say(
        f"   bank offers it to fund for {format_fen(price)} (1% under its outstanding); fund "
        f"buys: bank is paid {format_fen(paid)} and fund becomes the lender of "
        f"{format_fen(sale.outstanding_fen)} outstanding and {format_fen(sale.coupon_due_fen)} "
        f"unpaid coupon in the same transaction (gas {gas:,})"
    )
    say("   bank's exposure to supplier1 is released, fund's booked; the next receipts pay fund")


def _securitisation(op: Ledger, say: Say, loan_id: int) -> int:
    """Stage two (DESIGN §6.5): microloan pools its junior tranche into a deal, class A sold
    to the investor at par, the junior class kept (risk retention); returns the deal's id."""
    from ledger.engine.markets.deals import ClassRequest, DealRequest

    microloan, investor = op.as_signer("microloan"), op.as_signer("investor")
    pool = op.loans.get(loan_id).tranches[1].outstanding_fen
    junior = pool * 30 // 100
    request = DealRequest(
        tranches=[(loan_id, 1)],
        classes=[
            ClassRequest(name="A", amount_fen=pool - junior, coupon_bps=500),
            ClassRequest(name="J", amount_fen=junior),
        ],
        servicer=op.resolve("tech"),
        fee_bps=50,
        period_days=30,
    )
    deal_id, _ = microloan.deals.create(request)
    say(
        f"9. microloan securitises its junior tranche (资产证券化): deal #{deal_id} over "
        f"{format_fen(pool)}, class A {format_fen(pool - junior)} at 5% and junior class J "
        f"{format_fen(junior)}, serviced by tech for 0.50% a year"
    )
    investor.deals.subscribe(deal_id, 0, pool - junior)
    microloan.deals.subscribe(deal_id, 1, junior)
    before = op.balance_fen(op.resolve("microloan"))
    sent = microloan.deals.close(deal_id)
    received = op.balance_fen(op.resolve("microloan")) - before
    deal = op.deals.get(deal_id)
    say(
        f"   the investor subscribes class A, microloan keeps the junior "
        f"({format_fen(deal.originator_junior_fen)} held, retention "
        f"{format_fen(deal.retention_fen)}); at close the tranche passes to the deal and "
        f"microloan receives the pool at par, {format_fen(received)}, "
        f"in one transaction (gas {sent.gas_used:,})"
    )
    return deal_id


def _distribution(op: Ledger, say: Say, deal_id: int) -> None:
    """The deal's note waterfall on what its tranche collected, and a holder's claim."""
    tech, investor = op.as_signer("tech"), op.as_signer("investor")
    tech.deals.distribute(deal_id)
    d = op.deals.get(deal_id).distributions[-1]
    say(
        f"11. tech distributes deal #{deal_id}'s {format_fen(d.cash_fen)}: servicing fee "
        f"{format_fen(d.fee_fen)}, class A coupon {format_fen(d.coupon_fen[0])} and principal "
        f"{format_fen(d.principal_fen[0])}, the junior's excess {format_fen(d.excess_fen)}"
    )
    before = op.balance_fen(op.resolve("investor"))
    investor.deals.claim(deal_id)
    claimed = op.balance_fen(op.resolve("investor")) - before
    say(f"   the investor claims {format_fen(claimed)}")


def _staged_loan(op: Ledger, say: Say, invoice: bytes) -> None:
    """Stage two (DESIGN §6.4): a loan drawn as goods are bought; the undrawn stage lapses."""
    from eth_utils import keccak

    from ledger.engine.loans import LoanRequest, TrancheRequest

    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    microloan, bank = op.as_signer("microloan"), op.as_signer("bank")
    now = int(op.chain.w3.eth.get_block("latest")["timestamp"])
    rid = core.receivables.issue(
        op.resolve("supplier1"), 300_000_00, now + 90 * 86_400, keccak(invoice + b" / order 2")
    ).id
    s1.receivables.accept(rid)
    supplier2 = op.resolve("supplier2")
    request = LoanRequest(
        borrower=op.resolve("supplier1"),
        tranches=[
            TrancheRequest(
                lender=op.resolve("bank"), senior=True, amount_fen=140_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=op.resolve("microloan"), senior=False, amount_fen=60_000_00),
        ],
        receivable_ids=[rid],
        rate_bps=1000,
        term_days=40,
        payees=[(supplier2, 80_000_00), (supplier2, 70_000_00), (supplier2, 50_000_00)],
        payee_stages=[0, 1, 2],
        stage_days={1: 10, 2: 30},
    )
    loan_id = microloan.loans.propose(request).id
    s1.loans.accept(loan_id)
    bank.loans.fund(loan_id)
    microloan.loans.fund(loan_id)
    microloan.loans.disburse(loan_id)
    say(
        f"12. a staged loan (分期提款) #{loan_id} on receivable #{rid}: "
        f"{format_fen(200_000_00)} committed, {format_fen(80_000_00)} paid to supplier2 at "
        f"disbursement, {format_fen(70_000_00)} from day 10, {format_fen(50_000_00)} from day 30"
    )
    try:
        s1.loans.draw(loan_id, 1)
        say("   !! a stage was drawn before its day")
    except ContractRefusal as refusal:
        say(f"   stage 1 on day 0: {refusal.rule.removeprefix('refused by the chain: ')}")
    op.chain.advance_time(10 * 86_400)
    drawn = s1.loans.draw(loan_id, 1)
    parts = op.loans.stages(loan_id)[1].principal_fen
    say(
        f"   day 10: supplier1 draws stage 1, {format_fen(70_000_00)} to supplier2, "
        f"{format_fen(parts[0])} from bank and {format_fen(parts[1])} from microloan (pro "
        f"rata by commitment; gas {drawn.gas_used:,}); interest runs on drawn money only"
    )
    op.chain.advance_time(30 * 86_400)
    before = {n: op.balance_fen(op.resolve(n)) for n in ("bank", "microloan")}
    op.as_signer("bank").loans.lapse(loan_id)
    back = {n: op.balance_fen(op.resolve(n)) - before[n] for n in before}
    say(
        f"   day 40, maturity: stage 2 was never drawn and lapses; its money goes back to "
        f"the lenders: bank {format_fen(back['bank'])}, microloan {format_fen(back['microloan'])}"
    )
    view = op.loans.get(loan_id)
    owed = view.outstanding_fen + view.interest_due_fen + 1_000_00
    s1.loans.repay(loan_id, owed)
    view = op.loans.get(loan_id)
    say(
        f"   supplier1 repays {format_fen(view.settlements[-1].amount_fen)}: loan #{loan_id} "
        f"is {view.status} (the {format_fen(1_000_00)} over what was owed comes back as residual)"
    )


def _audit(op: Ledger, say: Say, loan_id: int) -> None:
    """The auditor's part: verify from the chain, fix a checkpoint, prove one loan offline."""
    from ledger.audit.checkpoint import publish
    from ledger.audit.evidence import lineage_of, verify_evidence, write_evidence
    from ledger.audit.state import save_verified
    from ledger.audit.trail import verify_trail

    verdict = verify_trail(op)
    save_verified(op, verdict)  # later runs check the chain still holds this head
    say(
        f"14. audit verify: {verdict.entries} entries, head #{verdict.seq} {verdict.head} — "
        + (
            "verified from chain data"
            if verdict.ok
            else f"FAILED at #{verdict.first_bad_seq}: {verdict.problem}"
        )
    )
    auditor = op.as_signer("auditor")
    cp = publish(auditor)
    say(f"   the auditor fixes checkpoint #{cp.size} on-chain: Merkle root {cp.root}")
    path = op.home.root / f"evidence-loan-{loan_id}.jsonl"
    lineage = lineage_of(op, loan=loan_id)
    written = write_evidence(op, lineage, {"loan": loan_id}, path)
    say(
        f"15. evidence for loan #{loan_id} (司法链): {written.entries} entries with inclusion "
        f"proofs, {written.size:,} bytes, in {path.name}"
    )
    trusted = op.contract("AuditTrail").functions.checkpointRoot(cp.size).call()
    checked = verify_evidence(path, bytes(trusted))
    say(
        "   verified offline against the root read from the chain: "
        + ("every entry, event and proof checks" if checked.ok else f"FAILED: {checked.problem}")
    )
