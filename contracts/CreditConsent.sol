// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {ICreditConsent} from "./interfaces/ICreditConsent.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title CreditConsent — consent to credit-file queries and their log (征信链)
/// @notice See ICreditConsent. Every grant, revocation and query is one audit entry bound
/// to its event: grants and revocations name the borrower as actor and the lender as
/// subject; a query names the lender as actor and the borrower as subject.
contract CreditConsent is ICreditConsent, AuditedEngine {
    /// @notice The longest consent: ten years.
    uint256 public constant MAX_DAYS = 3650;
    uint256 private constant DAY = 86_400;

    /// @notice The member register: who is active, who is a LENDER.
    IMembership public immutable membership;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(address borrower => mapping(address lender => Consent)) private _consents;

    constructor(IAuditTrail trail, IMembership members) AuditedEngine(trail) {
        membership = members;
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICreditConsent
    function grant(address lender, uint16 days_, bytes32 purpose) external {
        membership.requireActive(msg.sender);
        if (lender == msg.sender) revert ConsentToSelf(lender);
        membership.requireRole(lender, Roles.LENDER);
        if (days_ == 0 || days_ > MAX_DAYS) revert ConsentDaysOutOfRange(days_, MAX_DAYS);
        if (purpose == bytes32(0)) revert ConsentWithoutPurpose();
        uint64 nowAt = uint64(block.timestamp);
        // days_ ≤ 3650, so the sum stays far below 2^64 for any realistic timestamp.
        uint64 expiresAt = uint64(block.timestamp + uint256(days_) * DAY);
        _consents[msg.sender][lender] = Consent({
            grantedAt: nowAt, expiresAt: expiresAt, revokedAt: 0, queries: 0, purpose: purpose
        });
        emit ConsentGranted(msg.sender, lender, purpose, nowAt, expiresAt);
        _audit(
            AuditKinds.CONSENT_GRANTED,
            _subject(lender),
            keccak256(abi.encode(msg.sender, lender, purpose, nowAt, expiresAt))
        );
    }

    /// @inheritdoc ICreditConsent
    function revoke(address lender) external {
        membership.requireActive(msg.sender);
        Consent storage c = _live(msg.sender, lender);
        uint64 nowAt = uint64(block.timestamp);
        uint64 grantedAt = c.grantedAt;
        c.revokedAt = nowAt;
        emit ConsentRevoked(msg.sender, lender, grantedAt, nowAt);
        _audit(
            AuditKinds.CONSENT_REVOKED,
            _subject(lender),
            keccak256(abi.encode(msg.sender, lender, grantedAt, nowAt))
        );
    }

    /// @inheritdoc ICreditConsent
    function query(address borrower) external {
        membership.requireRole(msg.sender, Roles.LENDER);
        Consent storage c = _live(borrower, msg.sender);
        // One query per transaction: the count cannot reach 2^64.
        uint64 number;
        unchecked {
            number = c.queries + 1;
        }
        c.queries = number;
        (bytes32 purpose, uint64 grantedAt, uint64 expiresAt) = (c.purpose, c.grantedAt, c.expiresAt);
        emit CreditQueried(borrower, msg.sender, purpose, grantedAt, expiresAt, number);
        _audit(
            AuditKinds.CREDIT_QUERIED,
            _subject(borrower),
            keccak256(abi.encode(borrower, msg.sender, purpose, grantedAt, expiresAt, number))
        );
    }

    /// @inheritdoc ICreditConsent
    function consentOf(address borrower, address lender) external view returns (Consent memory) {
        return _consents[borrower][lender];
    }

    /// @inheritdoc ICreditConsent
    function isLive(address borrower, address lender) external view returns (bool) {
        Consent storage c = _consents[borrower][lender];
        return c.grantedAt != 0 && c.revokedAt == 0 && block.timestamp < c.expiresAt;
    }

    /// @dev The live consent of `borrower` to `lender`, or the refusal that says why not.
    function _live(address borrower, address lender) private view returns (Consent storage c) {
        c = _consents[borrower][lender];
        if (c.grantedAt == 0) revert ConsentNotGranted(borrower, lender);
        if (c.revokedAt != 0) revert ConsentWasRevoked(borrower, lender, c.revokedAt);
        if (block.timestamp >= c.expiresAt) {
            revert ConsentExpired(borrower, lender, c.expiresAt, uint64(block.timestamp));
        }
    }
}
