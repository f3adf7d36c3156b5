// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMembershipErrors — the membership check's refusals, in every engine's ABI
/// @notice Engines ask Membership (`requireActive`, `requireRole`, ...) whether a caller
/// may act; a refusal reverts inside Membership and bubbles up unchanged. Inheriting these
/// declarations puts them in each engine's ABI, so a client holding only that contract's
/// ABI decodes them. Same selectors as in IMembership (an enum is a uint8 in a selector);
/// the status is IMembership.Status: 0 NONE, 1 ACTIVE, 2 SUSPENDED.
interface IMembershipErrors {
    /// @notice `account` has never been admitted.
    error NotAMember(address account);
    /// @notice `account` is a member but its status (IMembership.Status) is not ACTIVE (1).
    error MemberNotActive(address account, uint8 status);
    /// @notice `account` is active but lacks every role in `required` (it holds `held`).
    error MissingRole(address account, uint16 required, uint16 held);
}
