// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Membership — the permissioned ledger's member register
/// @notice Operators admit members and set their roles; regulators and operators suspend
/// and reinstate them. Every other contract asks this one before it lets an address act or
/// hold value. Each change appends one audit entry bound to its event.
/// @dev Roles, status, admission time and net assets share one storage slot so the common
/// check costs one cold read. OpenZeppelin's AccessControl keeps one slot per (role, account)
/// and has no notion of a suspended member, so it would cost more and still need this.
contract Membership is IMembership, AuditedEngine {
    struct Record {
        uint16 roles;
        Status status;
        uint64 admittedAt;
        uint128 netAssetsFen;
    }

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(address account => Record) private _records;
    mapping(address account => bytes32) private _kycHashes;

    /// @param trail the audit trail
    /// @param operator the first OPERATOR (the deployer's operator account)
    /// @param operatorKycHash its KYC attestation hash
    constructor(IAuditTrail trail, address operator, bytes32 operatorKycHash)
        AuditedEngine(trail)
    {
        _admit(operator, Roles.OPERATOR, operatorKycHash, 0);
    }

    /*//////////////////////////////////////////////////////////////
                               ADMINISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMembership
    function admit(address account, uint16 roles, bytes32 kycHash, uint128 netAssetsFen)
        external
    {
        requireRole(msg.sender, Roles.OPERATOR);
        _admit(account, roles, kycHash, netAssetsFen);
    }

    /// @inheritdoc IMembership
    function suspend(address account, bytes32 reasonHash) external {
        requireRole(msg.sender, Roles.OPERATOR | Roles.REGULATOR);
        if (account == msg.sender) revert CannotSuspendSelf(account);
        Record storage r = _existing(account);
        if (r.status != Status.ACTIVE) revert StatusUnchanged(account, r.status);
        r.status = Status.SUSPENDED;
        emit MemberSuspended(account, reasonHash);
        _audit(AuditKinds.MEMBER_SUSPENDED, _subject(account), keccak256(abi.encode(account, reasonHash)));
    }

    /// @inheritdoc IMembership
    function reinstate(address account) external {
        requireRole(msg.sender, Roles.OPERATOR | Roles.REGULATOR);
        Record storage r = _existing(account);
        if (r.status != Status.SUSPENDED) revert StatusUnchanged(account, r.status);
        r.status = Status.ACTIVE;
        emit MemberReinstated(account);
        _audit(AuditKinds.MEMBER_REINSTATED, _subject(account), keccak256(abi.encode(account)));
    }

    /// @inheritdoc IMembership
    function setRoles(address account, uint16 roles) external {
        requireRole(msg.sender, Roles.OPERATOR);
        _checkRoles(roles);
        Record storage r = _existing(account);
        uint16 oldRoles = r.roles;
        r.roles = roles;
        emit MemberRolesChanged(account, oldRoles, roles);
        _audit(
            AuditKinds.MEMBER_ROLES_CHANGED,
            _subject(account),
            keccak256(abi.encode(account, oldRoles, roles))
        );
    }

    /// @inheritdoc IMembership
    function setNetAssets(address account, uint128 netAssetsFen) external {
        requireRole(msg.sender, Roles.OPERATOR | Roles.REGULATOR);
        Record storage r = _existing(account);
        uint128 oldFen = r.netAssetsFen;
        r.netAssetsFen = netAssetsFen;
        emit MemberNetAssetsSet(account, oldFen, netAssetsFen);
        _audit(
            AuditKinds.MEMBER_NET_ASSETS_SET,
            _subject(account),
            keccak256(abi.encode(account, oldFen, netAssetsFen))
        );
    }

    /*//////////////////////////////////////////////////////////////
                                  QUERIES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMembership
    function memberOf(address account) external view returns (MemberInfo memory) {
        Record memory r = _records[account];
        return MemberInfo(r.roles, r.status, r.admittedAt, r.netAssetsFen, _kycHashes[account]);
    }

    /// @inheritdoc IMembership
    function hasRoles(address account, uint16 roles) external view returns (bool) {
        Record storage r = _records[account];
        return r.status == Status.ACTIVE && r.roles & roles == roles;
    }

    /// @inheritdoc IMembership
    function requireActive(address account) public view {
        _requireActive(account);
    }

    /// @inheritdoc IMembership
    function requireActivePair(address a, address b) external view {
        _requireActive(a);
        _requireActive(b);
    }

    /// @inheritdoc IMembership
    function requireAllActive(address[] calldata accounts) external view {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _requireActive(accounts[i]);
        }
    }

    /// @inheritdoc IMembership
    function requireRole(address account, uint16 anyOf) public view {
        uint16 held = _requireActive(account).roles;
        if (held & anyOf == 0) revert MissingRole(account, anyOf, held);
    }

    /*//////////////////////////////////////////////////////////////
                                 INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _admit(address account, uint16 roles, bytes32 kycHash, uint128 netAssetsFen)
        private
    {
        if (account == address(0)) revert ZeroAddressMember();
        _checkRoles(roles);
        Record storage r = _records[account];
        if (r.status != Status.NONE) revert AlreadyMember(account);
        r.roles = roles;
        r.status = Status.ACTIVE;
        r.admittedAt = uint64(block.timestamp);
        r.netAssetsFen = netAssetsFen;
        _kycHashes[account] = kycHash;
        emit MemberAdmitted(account, roles, kycHash, netAssetsFen);
        _audit(
            AuditKinds.MEMBER_ADMITTED,
            _subject(account),
            keccak256(abi.encode(account, roles, kycHash, netAssetsFen))
        );
    }

    function _requireActive(address account) private view returns (Record storage r) {
        r = _records[account];
        if (r.status != Status.ACTIVE) {
            if (r.status == Status.NONE) revert NotAMember(account);
            revert MemberNotActive(account, r.status);
        }
    }

    function _existing(address account) private view returns (Record storage r) {
        r = _records[account];
        if (r.status == Status.NONE) revert NotAMember(account);
    }

    function _checkRoles(uint16 roles) private pure {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert InvalidRoles(roles);
    }
}
