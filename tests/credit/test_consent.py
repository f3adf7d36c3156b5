"""CreditConsent: who grants, who revokes, who queries, and every refusal with its numbers."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledger.engine.client import Ledger
from ledger.engine.consent import decode_purpose, encode_purpose
from ledger.errors import BadInput, ContractRefusal

DAY = 86_400


def _refusal(action) -> ContractRefusal:  # type: ignore[no-untyped-def]
    with pytest.raises(ContractRefusal) as caught:
        action()
    return caught.value


def _now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def test_a_grant_records_purpose_and_expiry_and_appends_one_bound_entry(ledger: Ledger) -> None:
    supplier, bank = ledger.as_signer("supplier1"), ledger.resolve("bank")
    before = ledger.audit_head()[0]
    sent = supplier.consents.grant(bank, 30, "贷前审查")
    at = int(ledger.chain.w3.eth.get_block(sent.block)["timestamp"])
    view = ledger.consents.get(ledger.resolve("supplier1"), bank)
    assert (view.state, view.purpose, view.granted_at) == ("LIVE", "贷前审查", at)
    assert view.expires_at == at + 30 * DAY and view.revoked_at == 0 and view.queries == 0
    assert ledger.audit_head()[0] == before + 1
    from web3.logs import DISCARD

    trail = ledger.contract("AuditTrail").events.AuditRecorded()
    (entry,) = trail.process_receipt(sent.receipt, errors=DISCARD)
    assert entry["args"]["kind"] == keccak(text="CONSENT_GRANTED")
    assert entry["args"]["actor"] == ledger.resolve("supplier1")
    assert entry["args"]["subject"] == int(bank, 16)


def test_a_query_without_consent_is_refused_and_leaves_no_entry(ledger: Ledger) -> None:
    head = ledger.audit_head()
    refusal = _refusal(lambda: ledger.as_signer("bank").consents.query(ledger.resolve("supplier1")))
    assert refusal.name == "ConsentNotGranted"
    assert refusal.args_by_name == {
        "borrower": ledger.resolve("supplier1"),
        "lender": ledger.resolve("bank"),
    }
    assert "supplier1 never granted bank consent" in str(refusal)
    assert ledger.audit_head() == head
    assert ledger.consents.log(ledger.resolve("supplier1")) == []


def test_a_query_under_a_live_consent_is_logged_with_who_whom_and_purpose(ledger: Ledger) -> None:
    borrower, bank = ledger.resolve("supplier1"), ledger.as_signer("bank")
    ledger.as_signer("supplier1").consents.grant(bank.sender.address, 10, "working capital")
    first = bank.consents.query(borrower)
    second = bank.consents.query(borrower)
    assert (first.seq + 1, second.seq) == (second.seq, ledger.audit_head()[0])
    log = ledger.consents.log(borrower)
    assert [(q.lender, q.purpose, q.query_number) for q in log] == [
        (bank.sender.address, "working capital", 1),
        (bank.sender.address, "working capital", 2),
    ]
    assert [q.tx for q in log] == [first.tx, second.tx]
    assert ledger.consents.get(borrower, bank.sender.address).queries == 2
    assert ledger.consents.log(ledger.resolve("supplier2")) == []


def test_a_revoked_consent_refuses_queries_naming_when_it_was_revoked(ledger: Ledger) -> None:
    supplier, bank = ledger.as_signer("supplier1"), ledger.as_signer("bank")
    supplier.consents.grant(bank.sender.address, 10)
    revoked = supplier.consents.revoke(bank.sender.address)
    at = int(ledger.chain.w3.eth.get_block(revoked.block)["timestamp"])
    head = ledger.audit_head()
    refusal = _refusal(lambda: bank.consents.query(supplier.sender.address))
    assert refusal.name == "ConsentWasRevoked" and refusal.args_by_name["revokedAt"] == at
    assert ledger.audit_head() == head
    again = _refusal(lambda: supplier.consents.revoke(bank.sender.address))
    assert again.name == "ConsentWasRevoked"
    supplier.consents.grant(bank.sender.address, 10)  # a new grant makes it live again
    assert bank.consents.query(supplier.sender.address).seq == ledger.audit_head()[0]


def test_an_expired_consent_refuses_queries_from_its_expiry_on(ledger: Ledger) -> None:
    supplier, bank = ledger.as_signer("supplier1"), ledger.as_signer("bank")
    supplier.consents.grant(bank.sender.address, 2)
    expires = ledger.consents.get(supplier.sender.address, bank.sender.address).expires_at
    ledger.chain.advance_time(2 * DAY - 30)  # 30 s before expiry: still live
    assert bank.consents.query(supplier.sender.address).at < expires
    ledger.chain.advance_time(60)
    head = ledger.audit_head()
    refusal = _refusal(lambda: bank.consents.query(supplier.sender.address))
    assert refusal.name == "ConsentExpired" and refusal.args_by_name["expiresAt"] == expires
    assert int(refusal.args_by_name["nowAt"]) >= expires  # type: ignore[call-overload]
    assert ledger.audit_head() == head
    assert ledger.consents.get(supplier.sender.address, bank.sender.address).state == "EXPIRED"


def test_only_an_active_lender_queries_and_only_a_lender_is_granted_consent(
    ledger: Ledger,
) -> None:
    supplier = ledger.as_signer("supplier1")
    supplier.consents.grant(ledger.resolve("bank"), 10)
    for name in ("supplier2", "core", "auditor"):
        refusal = _refusal(
            lambda n=name: ledger.as_signer(n).consents.query(supplier.sender.address)
        )
        assert refusal.name == "MissingRole"
    not_lender = _refusal(lambda: supplier.consents.grant(ledger.resolve("core"), 10))
    assert not_lender.name == "MissingRole" and not_lender.args_by_name[
        "account"
    ] == ledger.resolve("core")
    ledger.as_signer("regulator").suspend(ledger.resolve("bank"))
    suspended = _refusal(lambda: ledger.as_signer("bank").consents.query(supplier.sender.address))
    assert suspended.name == "MemberNotActive"


def test_consent_terms_are_checked_on_chain_with_the_numbers(ledger: Ledger) -> None:
    supplier, bank = ledger.as_signer("supplier1"), ledger.resolve("bank")
    consent = ledger.contract("CreditConsent").functions
    purpose = encode_purpose("x")
    to = ledger.deployment.address("CreditConsent")
    for days, purpose_word, error in [
        (0, purpose, "ConsentDaysOutOfRange"),
        (3651, purpose, "ConsentDaysOutOfRange"),
        (10, b"\0" * 32, "ConsentWithoutPurpose"),
    ]:
        data = consent.grant(bank, days, purpose_word)._encode_transaction_data()
        refusal = _refusal(lambda d=data: supplier.sender.transact(to, d, gas=200_000))
        assert refusal.name == error
    assert _refusal(lambda: supplier.consents.revoke(bank)).name == "ConsentNotGranted"
    lender = ledger.as_signer("bank")
    assert _refusal(lambda: lender.consents.grant(bank, 10)).name == "ConsentToSelf"


def test_purposes_are_short_utf8_text() -> None:
    assert decode_purpose(encode_purpose("贷前审查")) == "贷前审查"
    for bad in ("", "   ", "x" * 33, "征" * 11):
        with pytest.raises(BadInput):
            encode_purpose(bad)
