// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles — member role bit flags
/// @notice A member holds a set of roles packed into one uint16, so a single storage read
/// answers "is this account active with role R?".
library Roles {
    uint16 internal constant OPERATOR = 1 << 0;
    uint16 internal constant ECNY_ISSUER = 1 << 1;
    uint16 internal constant CORE_ENTERPRISE = 1 << 2;
    uint16 internal constant SUPPLIER = 1 << 3;
    uint16 internal constant LENDER = 1 << 4;
    uint16 internal constant TECH_PARTNER = 1 << 5;
    uint16 internal constant AUDITOR = 1 << 6;
    uint16 internal constant REGULATOR = 1 << 7;
    /// @dev Government financing-guarantee funds, re-guarantors, credit-guarantee insurers:
    /// providers of GUARANTEE and INSURANCE cover layers (DESIGN §6.2).
    uint16 internal constant GUARANTOR = 1 << 8;
    /// @dev Holds securitisation notes (DESIGN §6.5); cannot fund loans.
    uint16 internal constant INVESTOR = 1 << 9;
    /// @dev Every defined role; bits outside it are invalid.
    uint16 internal constant ALL = (1 << 10) - 1;
}
