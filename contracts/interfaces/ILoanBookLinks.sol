// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./IAuditTrail.sol";
import {IDigitalRMB} from "./IDigitalRMB.sol";
import {IMembership} from "./IMembership.sol";

/// @title ILoanBookLinks — the loan book's public links to the contracts it works with
/// @notice Read by the loan book's external libraries (running inside it by DELEGATECALL)
/// from the book itself, where passing them as arguments would grow the book's own code.
interface ILoanBookLinks {
    /// @notice The member register.
    function membership() external view returns (IMembership);
    /// @notice The e-CNY contract.
    function ecny() external view returns (IDigitalRMB);
    /// @notice The audit trail the book appends to.
    function auditTrail() external view returns (IAuditTrail);
}
