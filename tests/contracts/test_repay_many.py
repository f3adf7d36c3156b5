"""`repayMany`: many receipts for many loans in one transaction, each its own settlement."""

from __future__ import annotations

import pytest

from ledger.audit.trail import read_entries, verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.errors import ContractRefusal
from ledger.reference import waterfall


def _loans(ledger: Ledger, count: int) -> tuple[list[int], list[LoanRequest], list[int]]:
    core, s1 = ledger.as_signer("core"), ledger.as_signer("supplier1")
    supplier = ledger.resolve("supplier1")
    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    ids, requests, times = [], [], []
    for i in range(count):
        rid = core.receivables.issue(
            supplier, 1_000_000_00, now + 365 * 86_400, bytes([i + 1]) * 32
        ).id
        s1.receivables.accept(rid)
        request = LoanRequest(
            borrower=supplier,
            tranches=[
                TrancheRequest(
                    lender=ledger.resolve("bank"),
                    senior=True,
                    amount_fen=50_000_00 + i,
                    coupon_bps=500,
                ),
                TrancheRequest(
                    lender=ledger.resolve("microloan"), senior=False, amount_fen=30_000_00 + 7 * i
                ),
            ],
            receivable_ids=[rid],
            rate_bps=1200,
            term_days=60,
            fee_share_bps=2500,
            provision_share_bps=500,
            tech_partner=ledger.resolve("tech"),
        )
        lid = ledger.as_signer("microloan").loans.propose(request).id
        s1.loans.accept(lid)
        ledger.as_signer("bank").loans.fund(lid)
        ledger.as_signer("microloan").loans.fund(lid)
        sent = ledger.as_signer("microloan").loans.disburse(lid)
        ids.append(lid)
        requests.append(request)
        times.append(int(ledger.chain.w3.eth.get_block(sent.block)["timestamp"]))
    return ids, requests, times


def test_a_batch_settles_each_receipt_exactly_as_the_model_with_its_own_entry(
    ledger: Ledger,
) -> None:
    ids, requests, times = _loans(ledger, 3)
    ledger.chain.advance_time(20 * 86_400)
    seq_before = ledger.audit_head()[0]
    amounts = [12_345_67, 1_00, 90_000_00]
    sent = ledger.as_signer("supplier1").loans.repay_many(list(zip(ids, amounts, strict=True)))
    at = int(ledger.chain.w3.eth.get_block(sent.block)["timestamp"])
    for lid, request, t0, amount in zip(ids, requests, times, amounts, strict=True):
        (s,) = ledger.loans.settlements(lid)
        terms = request.model_terms(t0)
        model, _ = waterfall.settle(terms, waterfall.LoanState.initial(terms), amount, at)
        assert (s.fee_fen, s.provision_fen, s.interest_fen, s.principal_fen, s.residual_fen) == (
            model.fee_fen,
            model.provision_fen,
            list(model.interest_fen),
            list(model.principal_fen),
            model.residual_fen,
        )
    kinds = [e.kind_name for e in read_entries(ledger)][seq_before:]
    # one entry per settlement; the third receipt repays its loan, releasing its receivable
    assert kinds == ["LOAN_SETTLED", "LOAN_SETTLED", "RECEIVABLES_RELEASED", "LOAN_SETTLED"]
    assert verify_trail(ledger).ok


def test_a_batch_is_all_or_nothing(ledger: Ledger) -> None:
    ids, _, _ = _loans(ledger, 2)
    before = ledger.audit_head()
    payer = ledger.as_signer("supplier1")
    with pytest.raises(ContractRefusal) as exc:
        payer.loans.repay_many([(ids[0], 100), (ids[1], 0)])
    assert exc.value.name == "ZeroReceipt"
    with pytest.raises(ContractRefusal) as exc:
        payer._send("LoanBook", "repayMany", ids, [1], gas=500_000)
    assert exc.value.name == "ReceiptsMismatch"
    with pytest.raises(ContractRefusal) as exc:
        payer._send("LoanBook", "repayMany", [], [], gas=500_000)
    assert exc.value.name == "EmptyBatch"
    assert ledger.audit_head() == before
    assert ledger.loans.settlements(ids[0]) == []
