// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title ICreditConsent — a borrower's consent to read its credit file (征信授权, DESIGN §6.7)
/// @notice A member grants one LENDER consent to read its credit file, for a purpose and until
/// an expiry; it can revoke the consent at any time. A lender's query of the file is a
/// transaction: refused without a live consent (never granted, revoked, or expired), and
/// otherwise recorded as a `CreditQueried` event and a `CREDIT_QUERIED` audit entry naming
/// who queried whom, and for what purpose. The queries of a borrower's file are its
/// data-usage log (查询记录). The file itself is built off-chain from chain data.
/// @dev One consent per (borrower, lender) pair: granting again replaces it (a renewal, or a
/// new purpose). Consent is live while `block.timestamp < expiresAt` and not revoked.
interface ICreditConsent is IMembershipErrors {
    /// @notice A consent as `consentOf` returns it (all zero when never granted).
    /// @param grantedAt when the consent was (last) granted
    /// @param expiresAt the first second it no longer holds
    /// @param revokedAt when it was revoked (0 while not revoked)
    /// @param queries how many times the lender queried the file under this grant
    /// @param purpose the purpose it was granted for (UTF-8, zero-padded)
    struct Consent {
        uint64 grantedAt;
        uint64 expiresAt;
        uint64 revokedAt;
        uint64 queries;
        bytes32 purpose;
    }

    /// @notice `borrower` consented to `lender` reading its credit file for `purpose` until
    /// `expiresAt`.
    event ConsentGranted(
        address indexed borrower,
        address indexed lender,
        bytes32 purpose,
        uint64 grantedAt,
        uint64 expiresAt
    );

    /// @notice `borrower` withdrew the consent it granted `lender` at `grantedAt`.
    event ConsentRevoked(
        address indexed borrower, address indexed lender, uint64 grantedAt, uint64 revokedAt
    );

    /// @notice `lender` queried `borrower`'s credit file for `purpose` under the consent
    /// granted at `grantedAt`; `queryNumber` counts the queries under that grant (1, 2, …).
    event CreditQueried(
        address indexed borrower,
        address indexed lender,
        bytes32 purpose,
        uint64 grantedAt,
        uint64 expiresAt,
        uint64 queryNumber
    );

    /// @notice `borrower` never granted `lender` consent to read its credit file.
    error ConsentNotGranted(address borrower, address lender);
    /// @notice `borrower` revoked the consent it granted `lender`, at `revokedAt`.
    error ConsentWasRevoked(address borrower, address lender, uint64 revokedAt);
    /// @notice `borrower`'s consent to `lender` expired at `expiresAt`; the time is `nowAt`.
    error ConsentExpired(address borrower, address lender, uint64 expiresAt, uint64 nowAt);
    /// @notice A consent lasts 1 to `maxDays` days, not `daysGiven`.
    error ConsentDaysOutOfRange(uint256 daysGiven, uint256 maxDays);
    /// @notice A consent names its purpose.
    error ConsentWithoutPurpose();
    /// @notice A member does not grant consent to itself.
    error ConsentToSelf(address account);

    /// @notice Grant (or renew) `lender` consent to read the caller's credit file for
    /// `purpose`, for `days` days from now. The caller is any active member (its own file);
    /// `lender` is an active LENDER.
    function grant(address lender, uint16 days_, bytes32 purpose) external;

    /// @notice Withdraw the live consent the caller granted `lender`. Only the borrower that
    /// granted it, while active.
    function revoke(address lender) external;

    /// @notice Record a query of `borrower`'s credit file by the caller, an active LENDER
    /// holding a live consent of `borrower`. Refused (and nothing recorded) otherwise.
    function query(address borrower) external;

    /// @notice The consent `borrower` granted `lender` (zero when never granted).
    function consentOf(address borrower, address lender) external view returns (Consent memory);

    /// @notice Whether `lender` may query `borrower`'s file now.
    function isLive(address borrower, address lender) external view returns (bool);
}
