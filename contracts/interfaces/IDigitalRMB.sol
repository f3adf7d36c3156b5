// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IDigitalRMB — the e-CNY stand-in all money moves in
/// @notice ERC-20 compatible, 2 decimals (1 unit = 1 fen). Minted and burnt only by an
/// active ECNY_ISSUER; value moves only between active members. Engine contracts fixed at
/// deployment (receivables, loans, provision pool) move value as part of their own audited
/// actions through `enginePull` and `engineDistribute` — the extension points for targeted
/// payment (定向支付) and sweep (回款自动还款).
interface IDigitalRMB is IERC20 {
    /// @notice The caller is not one of the engine contracts fixed at deployment.
    error NotEngine(address caller);
    /// @notice Payee and amount lists differ in length.
    error LengthMismatch(uint256 payees, uint256 amounts);
    /// @notice Zero amounts are refused: they would append an entry for nothing.
    error ZeroAmount();

    /// @notice Mint `amountFen` to the active member `to`. Only an active ECNY_ISSUER.
    function mint(address to, uint256 amountFen) external;
    /// @notice Burn `amountFen` of the caller's own balance. Only an active ECNY_ISSUER.
    function burn(uint256 amountFen) external;

    /// @notice Move `amountFen` from `from` to `to` as part of an engine action the engine has
    /// authorised and audits itself. Only engine contracts.
    function enginePull(address from, address to, uint256 amountFen) external;
    /// @notice Pay out of the calling engine's own balance to several payees in one call
    /// (one membership check per payee, one balance update for the engine). Only engines.
    function engineDistribute(address[] calldata payees, uint256[] calldata amountsFen)
        external;

    /// @notice Whether `account` is one of the engine contracts fixed at deployment.
    function isEngine(address account) external view returns (bool);
}
