// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Regions} from "./libraries/Regions.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Membership — the permissioned ledger's member register
/// @notice Operators admit members and set their roles; regulators grant REGULATOR, set net
/// assets and profiles, and suspend and reinstate members inside their jurisdiction
/// (IMembership states the whole hierarchy). Every other contract asks this one before it
/// lets an address act or hold value. Each change appends one audit entry bound to its event.
/// @dev Roles, status, admission time and net assets share one storage slot so the common
/// check costs one cold read; the profile takes two more, read only by the prudential rules
/// and jurisdiction checks. OpenZeppelin's AccessControl keeps one slot per (role, account)
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
    mapping(address account => Profile) private _profiles;
    mapping(address account => bool) private _engines;
    uint256 private _regulators;

    /// @param trail the audit trail
    /// @param operator the first OPERATOR (the deployer's operator account)
    /// @param operatorKycHash its KYC attestation hash
    /// @param engines every contract of the suite (predicted at deployment): never members
    constructor(
        IAuditTrail trail,
        address operator,
        bytes32 operatorKycHash,
        address[] memory engines
    ) AuditedEngine(trail) {
        for (uint256 i = 0; i < engines.length; ++i) {
            _engines[engines[i]] = true;
        }
        Profile memory none = Profile(Licence.NONE, 0, 0, BorrowerKind.UNSPECIFIED, 0);
        _admit(operator, Roles.OPERATOR, operatorKycHash, 0, none);
    }

    /*//////////////////////////////////////////////////////////////
                               ADMINISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMembership
    function admit(
        address account,
        uint16 roles,
        bytes32 kycHash,
        uint128 netAssetsFen,
        Profile calldata profile
    ) external {
        _checkRoles(roles);
        _requireGrant(roles, profile.region);
        _admit(account, roles, kycHash, netAssetsFen, profile);
    }

    /// @inheritdoc IMembership
    function suspend(address account, bytes32 reasonHash) external {
        if (account == msg.sender) revert CannotSuspendSelf(account);
        Record storage r = _existing(account);
        _requireSupervisor(account, r.roles);
        if (r.status != Status.ACTIVE) revert StatusUnchanged(account, r.status);
        r.status = Status.SUSPENDED;
        emit MemberSuspended(account, reasonHash);
        _audit(AuditKinds.MEMBER_SUSPENDED, _subject(account), keccak256(abi.encode(account, reasonHash)));
    }

    /// @inheritdoc IMembership
    function reinstate(address account) external {
        Record storage r = _existing(account);
        _requireSupervisor(account, r.roles);
        if (r.status != Status.SUSPENDED) revert StatusUnchanged(account, r.status);
        r.status = Status.ACTIVE;
        emit MemberReinstated(account);
        _audit(AuditKinds.MEMBER_REINSTATED, _subject(account), keccak256(abi.encode(account)));
    }

    /// @inheritdoc IMembership
    function setRoles(address account, uint16 roles) external {
        _checkRoles(roles);
        if (account == msg.sender) revert CannotChangeOwnRecord(account);
        Record storage r = _existing(account);
        uint16 oldRoles = r.roles;
        uint16 changed = oldRoles ^ roles;
        // A call that changes nothing still needs an operator (it is an audited action).
        _requireGrant(changed == 0 ? Roles.OPERATOR : changed, _profiles[account].region);
        if (changed & Roles.REGULATOR != 0) {
            if (roles & Roles.REGULATOR != 0) ++_regulators;
            else --_regulators;
        }
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
        if (account == msg.sender) revert CannotChangeOwnRecord(account);
        Record storage r = _existing(account);
        requireRegulatorOver(msg.sender, _profiles[account].region);
        uint128 oldFen = r.netAssetsFen;
        r.netAssetsFen = netAssetsFen;
        emit MemberNetAssetsSet(account, oldFen, netAssetsFen);
        _audit(
            AuditKinds.MEMBER_NET_ASSETS_SET,
            _subject(account),
            keccak256(abi.encode(account, oldFen, netAssetsFen))
        );
    }

    /// @inheritdoc IMembership
    function setProfile(address account, Profile calldata profile) external {
        if (account == msg.sender) revert CannotChangeOwnRecord(account);
        _existing(account);
        _checkRegion(profile.region);
        requireRegulatorOver(msg.sender, _profiles[account].region);
        requireRegulatorOver(msg.sender, profile.region);
        _profiles[account] = profile;
        emit MemberProfileSet(
            account, profile.licence, profile.licenceExpiry, profile.region, profile.kind, profile.group
        );
        _audit(AuditKinds.MEMBER_PROFILE_SET, _subject(account), keccak256(abi.encode(account, profile)));
    }

    /*//////////////////////////////////////////////////////////////
                                  QUERIES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMembership
    function memberOf(address account) external view returns (MemberInfo memory) {
        Record memory r = _records[account];
        return MemberInfo(
            r.roles, r.status, r.admittedAt, r.netAssetsFen, _kycHashes[account], _profiles[account]
        );
    }

    /// @inheritdoc IMembership
    function profileOf(address account) external view returns (Profile memory) {
        return _profiles[account];
    }

    /// @inheritdoc IMembership
    function isEngine(address account) external view returns (bool) {
        return _engines[account];
    }

    /// @inheritdoc IMembership
    function regulatorCount() external view returns (uint256) {
        return _regulators;
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

    /// @inheritdoc IMembership
    function requireLicence(address account, uint256 fitting) external view {
        Profile storage p = _profiles[account];
        Licence licence = p.licence;
        if (fitting & (1 << uint8(licence)) == 0) revert LicenceUnfit(account, licence, fitting);
        uint64 expiry = p.licenceExpiry;
        if (expiry != 0 && block.timestamp > expiry) {
            revert LicenceExpired(account, licence, expiry, uint64(block.timestamp));
        }
    }

    /// @inheritdoc IMembership
    function requireRegulatorOver(address regulator, uint32 region) public view {
        requireRole(regulator, Roles.REGULATOR);
        uint32 jurisdiction = _profiles[regulator].region;
        if (!Regions.covers(jurisdiction, region)) {
            revert OutsideJurisdiction(regulator, jurisdiction, region);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _admit(
        address account,
        uint16 roles,
        bytes32 kycHash,
        uint128 netAssetsFen,
        Profile memory profile
    ) private {
        if (account == address(0)) revert ZeroAddressMember();
        // Engine contracts act through their own rules, never as members (an engine that
        // could hold or move value as a member would bypass them).
        if (_engines[account]) revert EngineCannotBeMember(account);
        _checkRoles(roles);
        _checkRegion(profile.region);
        Record storage r = _records[account];
        if (r.status != Status.NONE) revert AlreadyMember(account);
        r.roles = roles;
        r.status = Status.ACTIVE;
        r.admittedAt = uint64(block.timestamp);
        r.netAssetsFen = netAssetsFen;
        _kycHashes[account] = kycHash;
        _profiles[account] = profile;
        if (roles & Roles.REGULATOR != 0) ++_regulators;
        emit MemberAdmitted(
            account,
            roles,
            kycHash,
            netAssetsFen,
            profile.licence,
            profile.licenceExpiry,
            profile.region,
            profile.kind,
            profile.group
        );
        _audit(
            AuditKinds.MEMBER_ADMITTED,
            _subject(account),
            keccak256(abi.encode(account, roles, kycHash, netAssetsFen, profile))
        );
    }

    /// @dev The caller may grant or take away the role bits `bits` of a member in `region`:
    /// REGULATOR by a regulator over the region (by an operator only while there is no
    /// regulator at all: the first one); every other bit by an operator.
    function _requireGrant(uint16 bits, uint32 region) private view {
        if (bits & ~Roles.REGULATOR != 0) requireRole(msg.sender, Roles.OPERATOR);
        if (bits & Roles.REGULATOR == 0) return;
        uint256 regulators = _regulators;
        if (regulators == 0) {
            requireRole(msg.sender, Roles.OPERATOR);
            return;
        }
        if (_records[msg.sender].roles & Roles.REGULATOR == 0) {
            revert RegulatorOnlyByRegulator(msg.sender, regulators);
        }
        requireRegulatorOver(msg.sender, region);
    }

    /// @dev Suspensions: a regulator inside its jurisdiction, or an operator unless the
    /// member is a regulator.
    function _requireSupervisor(address account, uint16 roles) private view {
        Record storage caller = _records[msg.sender];
        bool active = caller.status == Status.ACTIVE;
        bool operatorMay = active && caller.roles & Roles.OPERATOR != 0 && roles & Roles.REGULATOR == 0;
        if (active && caller.roles & Roles.REGULATOR != 0) {
            if (!operatorMay) requireRegulatorOver(msg.sender, _profiles[account].region);
            return;
        }
        // Not an active regulator: an operator, or refused as needing either role.
        requireRole(msg.sender, Roles.OPERATOR | Roles.REGULATOR);
        if (!operatorMay) revert RegulatorSuspendedOnlyByRegulator(msg.sender, account);
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

    function _checkRegion(uint32 region) private pure {
        if (region > Regions.MAX) revert InvalidRegion(region);
    }
}
