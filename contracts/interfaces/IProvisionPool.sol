// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IProvisionPool — the deployment's risk compensation pool (风险补偿池)
/// @notice Holds e-CNY. Receives the provision share of every receipt (paid in by the loan
/// book's settlements) and voluntary contributions from any active member; the loan book
/// draws on it to cover a defaulted loan's principal, seniors first. Its balance is its
/// e-CNY balance: nothing else to reconcile.
interface IProvisionPool is IMembershipErrors {
    event PoolContributed(address indexed contributor, uint256 amountFen, uint256 balanceFen);

    /// @notice A contribution of zero.
    error ZeroContribution();

    /// @notice Contribute `amountFen` of the caller's e-CNY. Any active member.
    function contribute(uint256 amountFen) external;
    /// @notice The pool's balance in fen.
    function balanceFen() external view returns (uint256);
}
