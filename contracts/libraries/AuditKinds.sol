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
    bytes32 internal constant ECNY_MINTED = keccak256("ECNY_MINTED");
    bytes32 internal constant ECNY_BURNT = keccak256("ECNY_BURNT");
    bytes32 internal constant ECNY_TRANSFERRED = keccak256("ECNY_TRANSFERRED");
    bytes32 internal constant ECNY_APPROVED = keccak256("ECNY_APPROVED");
}
