"""Audit entry kinds and the business event each one is bound to.

An entry of kind K appended by contract C is bound to the nearest preceding log of C's
event E in the same transaction: `dataHash == keccak256(abi.encode(E's fields in
declaration order))`. docs/audit-kinds.md is generated from this table and the ABIs.
"""

from __future__ import annotations

import functools

from eth_utils import keccak

# kind name → (contract, event)
AUDIT_KINDS: dict[str, tuple[str, str]] = {
    "MEMBER_ADMITTED": ("Membership", "MemberAdmitted"),
    "MEMBER_SUSPENDED": ("Membership", "MemberSuspended"),
    "MEMBER_REINSTATED": ("Membership", "MemberReinstated"),
    "MEMBER_ROLES_CHANGED": ("Membership", "MemberRolesChanged"),
    "MEMBER_NET_ASSETS_SET": ("Membership", "MemberNetAssetsSet"),
    "MEMBER_PROFILE_SET": ("Membership", "MemberProfileSet"),
    "ECNY_MINTED": ("DigitalRMB", "Transfer"),
    "ECNY_BURNT": ("DigitalRMB", "Transfer"),
    "ECNY_TRANSFERRED": ("DigitalRMB", "Transfer"),
    "ECNY_APPROVED": ("DigitalRMB", "Approval"),
    "ECNY_HELD_CLAIMED": ("DigitalRMB", "HeldClaimed"),
    "RECEIVABLE_ISSUED": ("ReceivableToken", "ReceivableIssued"),
    "RECEIVABLE_ACCEPTED": ("ReceivableToken", "ReceivableAccepted"),
    "RECEIVABLE_REJECTED": ("ReceivableToken", "ReceivableRejected"),
    "RECEIVABLE_CANCELLED": ("ReceivableToken", "ReceivableCancelled"),
    "RECEIVABLE_SPLIT": ("ReceivableToken", "ReceivableSplit"),
    "RECEIVABLE_TRANSFERRED": ("ReceivableToken", "ReceivableTransferred"),
    "RECEIVABLE_PAID": ("ReceivableToken", "ReceivablePaid"),
    "RECEIVABLES_PLEDGED": ("ReceivableToken", "ReceivablesPledged"),
    "RECEIVABLES_RELEASED": ("ReceivableToken", "ReceivablesReleased"),
    "LOAN_PROPOSED": ("LoanBook", "LoanProposed"),
    "LOAN_ACCEPTED": ("LoanBook", "LoanAccepted"),
    "LOAN_FUNDED": ("LoanBook", "LoanFunded"),
    "LOAN_DISBURSED": ("LoanBook", "LoanDisbursed"),
    "LOAN_SETTLED": ("LoanBook", "LoanSettled"),
    "LOAN_CANCELLED": ("LoanBook", "LoanCancelled"),
    "LOAN_DEFAULTED": ("LoanBook", "LoanDefaulted"),
    "LOAN_STAGE_DRAWN": ("LoanBook", "StageDrawn"),
    "LOAN_STAGES_LAPSED": ("LoanBook", "StagesLapsed"),
    "POOL_CONTRIBUTED": ("ProvisionPool", "PoolContributed"),
    "POLICY_CHANGED": ("Policy", "PolicyChanged"),
    "COVER_ACCEPTED": ("CoverBook", "CoverAccepted"),
    "COVER_CALLED": ("CoverBook", "CoverCalled"),
    "COVER_HONOURED": ("CoverBook", "CoverHonoured"),
    "COVER_BREACHED": ("CoverBook", "CoverBreached"),
    "COVER_REIMBURSED": ("CoverBook", "CoverReimbursed"),
    "COVER_RELEASED": ("CoverBook", "CoverReleased"),
    "CONSENT_GRANTED": ("CreditConsent", "ConsentGranted"),
    "CONSENT_REVOKED": ("CreditConsent", "ConsentRevoked"),
    "CREDIT_QUERIED": ("CreditConsent", "CreditQueried"),
    "TRANCHE_OFFERED": ("TrancheMarket", "TrancheOffered"),
    "TRANCHE_SOLD": ("TrancheMarket", "TrancheSold"),
    "TRANCHE_OFFER_WITHDRAWN": ("TrancheMarket", "OfferWithdrawn"),
    "DEAL_CREATED": ("Securitisation", "DealCreated"),
    "DEAL_SUBSCRIBED": ("Securitisation", "Subscribed"),
    "DEAL_CLOSED": ("Securitisation", "DealClosed"),
    "DEAL_CANCELLED": ("Securitisation", "DealCancelled"),
    "DEAL_DISTRIBUTED": ("Securitisation", "Distributed"),
    "DEAL_WRITTEN_OFF": ("Securitisation", "WrittenOff"),
    "DEAL_CLAIMED": ("Securitisation", "Claimed"),
    "NOTES_TRANSFERRED": ("Securitisation", "NotesTransferred"),
}

KIND_NOTES: dict[str, str] = {
    "MEMBER_ADMITTED": "an operator (a regulator, for a regulator) admitted a member with its "
    "profile (subject: the member's address)",
    "MEMBER_SUSPENDED": "an operator or a regulator of its region suspended a member",
    "MEMBER_REINSTATED": "an operator or a regulator of its region reinstated a member",
    "MEMBER_ROLES_CHANGED": "an operator (a regulator, for REGULATOR) replaced a member's roles",
    "MEMBER_NET_ASSETS_SET": "a regulator of its region registered a member's net assets",
    "MEMBER_PROFILE_SET": "a regulator of its region set a member's licence, region, kind or group",
    "ECNY_MINTED": "the issuer minted e-CNY (Transfer from the zero address; subject: recipient)",
    "ECNY_BURNT": "the issuer burnt its own e-CNY (Transfer to the zero address; subject: issuer)",
    "ECNY_TRANSFERRED": "a member paid another member (subject: recipient)",
    "ECNY_APPROVED": "a member set an allowance (subject: spender)",
    "ECNY_HELD_CLAIMED": "a reinstated member took what the engines held for it (subject: it)",
    "RECEIVABLE_ISSUED": "a core enterprise issued a receivable to a supplier (subject: its id)",
    "RECEIVABLE_ACCEPTED": "the supplier confirmed a pending receivable",
    "RECEIVABLE_REJECTED": "the supplier rejected a pending receivable",
    "RECEIVABLE_CANCELLED": "the debtor withdrew a pending receivable",
    "RECEIVABLE_SPLIT": "the holder split a receivable into consecutive children",
    "RECEIVABLE_TRANSFERRED": "the holder passed a receivable to another member",
    "RECEIVABLE_PAID": "the debtor paid (part of) a receivable; loanId ≠ 0 when pledged",
    "RECEIVABLES_PLEDGED": "the borrower's acceptance pledged receivables (subject: loan id)",
    "RECEIVABLES_RELEASED": "a loan's close released its receivables (subject: loan id)",
    "LOAN_PROPOSED": "a lender proposed a loan; the event carries the terms document",
    "LOAN_ACCEPTED": "the borrower accepted the terms it reviewed (by their hash)",
    "LOAN_FUNDED": "a lender funded its tranches",
    "LOAN_DISBURSED": "the originator paid the principal to the fixed payees",
    "LOAN_SETTLED": "a receipt was split by the waterfall (actor: the payer)",
    "LOAN_CANCELLED": "the loan was cancelled before disbursement; funds refunded",
    "LOAN_DEFAULTED": "the loan was declared defaulted; the pool's cover is in the event",
    "LOAN_STAGE_DRAWN": "the borrower drew a stage of a staged loan: what each tranche lent and "
    "what each of the stage's payees was paid",
    "LOAN_STAGES_LAPSED": "undrawn stages lapsed (from maturity on, or when the loan was repaid "
    "or defaulted; actor: who lapsed or closed it): each tranche's undrawn money went back to "
    "its lender",
    "POOL_CONTRIBUTED": "a member contributed to the provision pool",
    "POLICY_CHANGED": "a regulator changed a policy parameter (subject: its name)",
    "COVER_ACCEPTED": "a provider accepted its cover layers by the terms hash, depositing margins",
    "COVER_CALLED": "a covered loan defaulted: each layer's claim and margin payment, the pool's",
    "COVER_HONOURED": "a provider paid (part of) its claim, a principal-only receipt",
    "COVER_BREACHED": "a member marked a claim unpaid past its due date as breached",
    "COVER_REIMBURSED": "a receipt after a default paid back the pool and layers (actor: payer)",
    "COVER_RELEASED": "a covered loan was repaid or cancelled; the margins held went back",
    "CONSENT_GRANTED": "a member consented to a lender reading its credit file "
    "(actor: the borrower; subject: the lender)",
    "CONSENT_REVOKED": "a member withdrew its consent (actor: the borrower; subject: the lender)",
    "CREDIT_QUERIED": "a lender queried a member's credit file under its live consent "
    "(actor: the lender; subject: the borrower)",
    "TRANCHE_OFFERED": "a tranche's holder offered it to one buyer (subject: loan id)",
    "TRANCHE_SOLD": "the buyer paid the seller and became the tranche's lender, one transaction",
    "TRANCHE_OFFER_WITHDRAWN": "the seller withdrew its offer of a tranche",
    "DEAL_CREATED": "an originator pooled tranches into a deal with note classes (subject: deal)",
    "DEAL_SUBSCRIBED": "an investor or lender subscribed to a class at par",
    "DEAL_CLOSED": "the tranches passed to the deal and the subscriptions to the originator",
    "DEAL_CANCELLED": "the originator cancelled before close; subscriptions refunded",
    "DEAL_DISTRIBUTED": "collections paid out: fee, coupons, principal, excess",
    "DEAL_WRITTEN_OFF": "the servicer wrote off a defaulted loan's tranche, junior first",
    "DEAL_CLAIMED": "a holder claimed its classes' payments",
    "NOTES_TRANSFERRED": "a holder moved notes of a class (actor: the sender)",
}


@functools.cache
def kind_names() -> dict[bytes, str]:
    """keccak256(name) → name."""
    return {keccak(text=name): name for name in AUDIT_KINDS}
