// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title AuditKinds — names of audit-trail entry kinds
/// @notice `kind = keccak256(name)`. Each kind is bound to one business event of the
/// contract that appends it (see docs/audit-kinds.md): its `dataHash` is the keccak-256 of
/// that event's fields, ABI-encoded in declaration order.
library AuditKinds {
    bytes32 internal constant MEMBER_ADMITTED = keccak256("MEMBER_ADMITTED");
    bytes32 internal constant MEMBER_SUSPENDED = keccak256("MEMBER_SUSPENDED");
    bytes32 internal constant MEMBER_REINSTATED = keccak256("MEMBER_REINSTATED");
    bytes32 internal constant MEMBER_ROLES_CHANGED = keccak256("MEMBER_ROLES_CHANGED");
    bytes32 internal constant MEMBER_NET_ASSETS_SET = keccak256("MEMBER_NET_ASSETS_SET");
    bytes32 internal constant MEMBER_PROFILE_SET = keccak256("MEMBER_PROFILE_SET");
    bytes32 internal constant ECNY_MINTED = keccak256("ECNY_MINTED");
    bytes32 internal constant ECNY_BURNT = keccak256("ECNY_BURNT");
    bytes32 internal constant ECNY_TRANSFERRED = keccak256("ECNY_TRANSFERRED");
    bytes32 internal constant ECNY_APPROVED = keccak256("ECNY_APPROVED");
    bytes32 internal constant ECNY_HELD_CLAIMED = keccak256("ECNY_HELD_CLAIMED");
    bytes32 internal constant RECEIVABLE_ISSUED = keccak256("RECEIVABLE_ISSUED");
    bytes32 internal constant RECEIVABLE_ACCEPTED = keccak256("RECEIVABLE_ACCEPTED");
    bytes32 internal constant RECEIVABLE_REJECTED = keccak256("RECEIVABLE_REJECTED");
    bytes32 internal constant RECEIVABLE_CANCELLED = keccak256("RECEIVABLE_CANCELLED");
    bytes32 internal constant RECEIVABLE_SPLIT = keccak256("RECEIVABLE_SPLIT");
    bytes32 internal constant RECEIVABLE_TRANSFERRED = keccak256("RECEIVABLE_TRANSFERRED");
    bytes32 internal constant RECEIVABLE_PAID = keccak256("RECEIVABLE_PAID");
    bytes32 internal constant RECEIVABLES_PLEDGED = keccak256("RECEIVABLES_PLEDGED");
    bytes32 internal constant RECEIVABLES_RELEASED = keccak256("RECEIVABLES_RELEASED");
    bytes32 internal constant LOAN_PROPOSED = keccak256("LOAN_PROPOSED");
    bytes32 internal constant LOAN_ACCEPTED = keccak256("LOAN_ACCEPTED");
    bytes32 internal constant LOAN_FUNDED = keccak256("LOAN_FUNDED");
    bytes32 internal constant LOAN_DISBURSED = keccak256("LOAN_DISBURSED");
    bytes32 internal constant LOAN_SETTLED = keccak256("LOAN_SETTLED");
    bytes32 internal constant LOAN_CANCELLED = keccak256("LOAN_CANCELLED");
    bytes32 internal constant LOAN_DEFAULTED = keccak256("LOAN_DEFAULTED");
    bytes32 internal constant LOAN_STAGE_DRAWN = keccak256("LOAN_STAGE_DRAWN");
    bytes32 internal constant LOAN_STAGES_LAPSED = keccak256("LOAN_STAGES_LAPSED");
    bytes32 internal constant POOL_CONTRIBUTED = keccak256("POOL_CONTRIBUTED");
    bytes32 internal constant POLICY_CHANGED = keccak256("POLICY_CHANGED");
    bytes32 internal constant CONSENT_GRANTED = keccak256("CONSENT_GRANTED");
    bytes32 internal constant CONSENT_REVOKED = keccak256("CONSENT_REVOKED");
    bytes32 internal constant CREDIT_QUERIED = keccak256("CREDIT_QUERIED");
    bytes32 internal constant TRANCHE_OFFERED = keccak256("TRANCHE_OFFERED");
    bytes32 internal constant TRANCHE_SOLD = keccak256("TRANCHE_SOLD");
    bytes32 internal constant TRANCHE_OFFER_WITHDRAWN = keccak256("TRANCHE_OFFER_WITHDRAWN");
    bytes32 internal constant DEAL_CREATED = keccak256("DEAL_CREATED");
    bytes32 internal constant DEAL_SUBSCRIBED = keccak256("DEAL_SUBSCRIBED");
    bytes32 internal constant DEAL_CLOSED = keccak256("DEAL_CLOSED");
    bytes32 internal constant DEAL_CANCELLED = keccak256("DEAL_CANCELLED");
    bytes32 internal constant DEAL_DISTRIBUTED = keccak256("DEAL_DISTRIBUTED");
    bytes32 internal constant DEAL_WRITTEN_OFF = keccak256("DEAL_WRITTEN_OFF");
    bytes32 internal constant DEAL_CLAIMED = keccak256("DEAL_CLAIMED");
    bytes32 internal constant NOTES_TRANSFERRED = keccak256("NOTES_TRANSFERRED");
    bytes32 internal constant COVER_ACCEPTED = keccak256("COVER_ACCEPTED");
    bytes32 internal constant COVER_CALLED = keccak256("COVER_CALLED");
    bytes32 internal constant COVER_HONOURED = keccak256("COVER_HONOURED");
    bytes32 internal constant COVER_BREACHED = keccak256("COVER_BREACHED");
    bytes32 internal constant COVER_REIMBURSED = keccak256("COVER_REIMBURSED");
    bytes32 internal constant COVER_RELEASED = keccak256("COVER_RELEASED");
}
