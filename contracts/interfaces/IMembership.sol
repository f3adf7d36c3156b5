// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMembership — who may act on the permissioned ledger
/// @notice Every address that holds value or acts is a member with one or more roles, a KYC
/// attestation hash (personal data stays off-chain) and a status. Deny by default: an
/// address that is not an ACTIVE member with the needed role can do nothing.
/// Roles are bit flags so one storage word answers "active with role R?".
interface IMembership {
    enum Status {
        NONE,
        ACTIVE,
        SUSPENDED
    }

    /// @notice A member record as returned by `memberOf`.
    struct MemberInfo {
        uint16 roles;
        Status status;
        uint64 admittedAt;
        uint128 netAssetsFen;
        bytes32 kycHash;
    }

    event MemberAdmitted(
        address indexed account, uint16 roles, bytes32 kycHash, uint128 netAssetsFen
    );
    event MemberSuspended(address indexed account, bytes32 reasonHash);
    event MemberReinstated(address indexed account);
    event MemberRolesChanged(address indexed account, uint16 oldRoles, uint16 newRoles);
    event MemberNetAssetsSet(address indexed account, uint128 oldFen, uint128 newFen);

    /// @notice `account` has never been admitted.
    error NotAMember(address account);
    /// @notice `account` is a member but its status is not ACTIVE (1); `status` says what it is.
    error MemberNotActive(address account, Status status);
    /// @notice `account` is active but lacks every role in `required` (it holds `held`).
    error MissingRole(address account, uint16 required, uint16 held);
    /// @notice `account` is already a member.
    error AlreadyMember(address account);
    /// @notice `roles` is empty or has bits outside the defined roles.
    error InvalidRoles(uint16 roles);
    /// @notice The zero address cannot be a member.
    error ZeroAddressMember();
    /// @notice A suspend/reinstate that would not change the status.
    error StatusUnchanged(address account, Status status);
    /// @notice A member cannot suspend itself (it could lock the consortium out).
    error CannotSuspendSelf(address account);

    /// @notice Admit `account` with `roles`. Only an active OPERATOR.
    function admit(address account, uint16 roles, bytes32 kycHash, uint128 netAssetsFen) external;
    /// @notice Suspend an active member. Only an active OPERATOR or REGULATOR.
    function suspend(address account, bytes32 reasonHash) external;
    /// @notice Reinstate a suspended member. Only an active OPERATOR or REGULATOR.
    function reinstate(address account) external;
    /// @notice Replace a member's roles. Only an active OPERATOR.
    function setRoles(address account, uint16 roles) external;
    /// @notice Register a member's net assets (the base of the concentration limit).
    /// Only an active OPERATOR or REGULATOR.
    function setNetAssets(address account, uint128 netAssetsFen) external;

    function memberOf(address account) external view returns (MemberInfo memory);
    /// @notice True when `account` is ACTIVE and holds every role bit in `roles`.
    function hasRoles(address account, uint16 roles) external view returns (bool);
    /// @notice Reverts NotAMember / MemberNotActive unless `account` is ACTIVE.
    function requireActive(address account) external view;
    /// @notice Reverts unless both accounts are ACTIVE (one call for a payer and a payee).
    function requireActivePair(address a, address b) external view;
    /// @notice Reverts unless every account is ACTIVE (one call for a payout to many payees).
    function requireAllActive(address[] calldata accounts) external view;
    /// @notice Reverts unless `account` is ACTIVE and holds at least one role bit of `anyOf`.
    function requireRole(address account, uint16 anyOf) external view;
}
