// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMembership — who may act on the permissioned ledger
/// @notice Every address that holds value or acts is a member with one or more roles, a KYC
/// attestation hash (personal data stays off-chain), a status and a prudential profile
/// (DESIGN §6.6: licence with its expiry, region, borrower kind, related-party group).
/// Deny by default: an address that is not an ACTIVE member with the needed role can do
/// nothing. Roles are bit flags so one storage word answers "active with role R?".
///
/// Who may change what (the admin hierarchy):
/// - an OPERATOR admits members and changes every role bit except REGULATOR;
/// - only a REGULATOR grants or removes REGULATOR, and only inside its jurisdiction (its own
///   region: 000000 national, PP0000 a province, PPCC00 a city, any other code itself). The
///   one exception is the first regulator: while the register holds none, an operator
///   admits it (or grants it) — there is nobody else to do so;
/// - suspensions and reinstatements: an operator (of any member but a regulator) or a
///   regulator inside its jurisdiction;
/// - net assets and the profile are set at admission and changed only by a regulator inside
///   its jurisdiction (of the member's region before and after the change);
/// - nobody changes its own roles, net assets or profile, or suspends itself;
/// - an engine contract (any contract of the deployed suite) is never admitted.
interface IMembership {
    enum Status {
        NONE,
        ACTIVE,
        SUSPENDED
    }

    /// @notice The licence a member holds (DESIGN §6.6). Lending needs BANK, MICROLOAN,
    /// ONLINE_MICROLOAN or FACTORING; a guarantee layer needs GUARANTEE; an insurance layer
    /// needs INSURER.
    enum Licence {
        NONE,
        BANK,
        MICROLOAN, // 小贷
        ONLINE_MICROLOAN, // 网络小贷
        FACTORING, // 保理
        GUARANTEE, // 融资担保
        INSURER
    }

    /// @notice What kind of borrower a member is (the online micro-loan caps depend on it).
    /// UNSPECIFIED borrowers get the stricter (individual) cap.
    enum BorrowerKind {
        UNSPECIFIED,
        INDIVIDUAL,
        MICRO,
        SME,
        LARGE
    }

    /// @notice A member's prudential profile.
    struct Profile {
        Licence licence;
        uint64 licenceExpiry; // unix seconds the licence is valid through; 0: no expiry
        uint32 region; // GB/T 2260 administrative division code; 0 (000000): national
        BorrowerKind kind;
        bytes32 group; // related-party group; 0: none (the member is a group of its own)
    }

    /// @notice A member record as returned by `memberOf`.
    struct MemberInfo {
        uint16 roles;
        Status status;
        uint64 admittedAt;
        uint128 netAssetsFen;
        bytes32 kycHash;
        Profile profile;
    }

    event MemberAdmitted(
        address indexed account,
        uint16 roles,
        bytes32 kycHash,
        uint128 netAssetsFen,
        Licence licence,
        uint64 licenceExpiry,
        uint32 region,
        BorrowerKind kind,
        bytes32 group
    );
    event MemberSuspended(address indexed account, bytes32 reasonHash);
    event MemberReinstated(address indexed account);
    event MemberRolesChanged(address indexed account, uint16 oldRoles, uint16 newRoles);
    event MemberNetAssetsSet(address indexed account, uint128 oldFen, uint128 newFen);
    /// @notice A regulator changed a member's profile; the new profile's fields.
    event MemberProfileSet(
        address indexed account,
        Licence licence,
        uint64 licenceExpiry,
        uint32 region,
        BorrowerKind kind,
        bytes32 group
    );

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
    /// @notice Nobody changes its own roles, net assets or profile.
    error CannotChangeOwnRecord(address account);
    /// @notice `account` is an engine contract of this deployment: engines act by their own
    /// rules, never as members.
    error EngineCannotBeMember(address account);
    /// @notice REGULATOR is granted or removed only by a regulator (`caller` is not one, and
    /// the register already holds `regulators` regulators).
    error RegulatorOnlyByRegulator(address caller, uint256 regulators);
    /// @notice `regulator`, whose jurisdiction is `jurisdiction`, acted on `region`, outside it.
    error OutsideJurisdiction(address regulator, uint32 jurisdiction, uint32 region);
    /// @notice An operator cannot suspend or reinstate a regulator; a regulator can.
    error RegulatorSuspendedOnlyByRegulator(address caller, address regulator);
    /// @notice `region` is not a 6-digit GB/T 2260 code (0 to 999999).
    error InvalidRegion(uint32 region);
    /// @notice Lending or covering needs a licence in `fitting` (a bit per Licence value);
    /// `account` holds `licence`.
    error LicenceUnfit(address account, Licence licence, uint256 fitting);
    /// @notice `account`'s `licence` expired at `expiredAt`, before the chain's time `nowAt`.
    error LicenceExpired(address account, Licence licence, uint64 expiredAt, uint64 nowAt);

    /// @notice Admit `account` with `roles`, its net assets and profile. An OPERATOR for every
    /// role but REGULATOR; a REGULATOR (inside its jurisdiction) for REGULATOR.
    function admit(
        address account,
        uint16 roles,
        bytes32 kycHash,
        uint128 netAssetsFen,
        Profile calldata profile
    ) external;
    /// @notice Suspend an active member. An OPERATOR (not of a regulator), or a REGULATOR
    /// whose jurisdiction holds the member's region.
    function suspend(address account, bytes32 reasonHash) external;
    /// @notice Reinstate a suspended member. As `suspend`.
    function reinstate(address account) external;
    /// @notice Replace a member's roles. An OPERATOR for every bit but REGULATOR, a REGULATOR
    /// inside its jurisdiction for that bit; never one's own.
    function setRoles(address account, uint16 roles) external;
    /// @notice Register a member's net assets (the base of the concentration limits).
    /// Only a REGULATOR whose jurisdiction holds the member; never one's own.
    function setNetAssets(address account, uint128 netAssetsFen) external;
    /// @notice Replace a member's profile (licence, region, kind, group). Only a REGULATOR
    /// whose jurisdiction holds the member's region now and the new one; never one's own.
    function setProfile(address account, Profile calldata profile) external;

    function memberOf(address account) external view returns (MemberInfo memory);
    /// @notice A member's profile (all zero for a non-member).
    function profileOf(address account) external view returns (Profile memory);
    /// @notice True for the contracts of the deployed suite (never members).
    function isEngine(address account) external view returns (bool);
    /// @notice How many members hold REGULATOR (suspended ones included).
    function regulatorCount() external view returns (uint256);
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
    /// @notice Reverts LicenceUnfit unless `account` holds a licence whose bit
    /// (`1 << uint8(licence)`) is in `fitting`, LicenceExpired once it has expired.
    function requireLicence(address account, uint256 fitting) external view;
    /// @notice Reverts unless `regulator` is an active REGULATOR whose jurisdiction holds
    /// `region` (for a national-only act, pass 0).
    function requireRegulatorOver(address regulator, uint32 region) external view;
}
