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

    say("9. the pledged receivable pays the loan off at maturity")
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

    say("10. balances")
    for name in (
        "core",
        "supplier1",
        "supplier2",
        "bank",
        "fund",
        "microloan",
        "tech",
        "guarantor",
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


def _audit(op: Ledger, say: Say, loan_id: int) -> None:
    """The auditor's part: verify from the chain, fix a checkpoint, prove one loan offline."""
    from ledger.audit.checkpoint import publish
    from ledger.audit.evidence import lineage_of, verify_evidence, write_evidence
    from ledger.audit.state import save_verified
    from ledger.audit.trail import verify_trail

    verdict = verify_trail(op)
    save_verified(op, verdict)  # later runs check the chain still holds this head
    say(
        f"11. audit verify: {verdict.entries} entries, head #{verdict.seq} {verdict.head} — "
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
        f"12. evidence for loan #{loan_id} (司法链): {written.entries} entries with inclusion "
        f"proofs, {written.size:,} bytes, in {path.name}"
    )
    trusted = op.contract("AuditTrail").functions.checkpointRoot(cp.size).call()
    checked = verify_evidence(path, bytes(trusted))
    say(
        "   verified offline against the root read from the chain: "
        + ("every entry, event and proof checks" if checked.ok else f"FAILED: {checked.problem}")
    )
