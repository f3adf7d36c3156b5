// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IDigitalRMB — the e-CNY stand-in all money moves in
/// @notice ERC-20 compatible, 2 decimals (1 unit = 1 fen). Minted and burnt only by an
/// active ECNY_ISSUER; value moves only between active members. Engine contracts fixed at
/// deployment (receivables, loans, provision pool) move value as part of their own audited
/// actions through `engineTransfer` and `engineSplit` (targeted payment, 定向支付), and the
/// loan book registers sweeps (回款自动还款): a share of every payment into a borrower's
/// wallet is routed to its loan's waterfall.
interface IDigitalRMB is IERC20, IMembershipErrors {
    /// @notice The caller is not one of the engine contracts fixed at deployment.
    error NotEngine(address caller);
    /// @notice Payee and amount lists differ in length.
    error LengthMismatch(uint256 payees, uint256 amounts);
    /// @notice Zero amounts are refused: they would append an entry for nothing.
    error ZeroAmount();
    /// @notice `dealId` cannot name a securitisation deal's account (0 or above 2^32 − 1).
    error NotADeal(uint256 dealId);
    /// @notice A sweep share above 100%.
    error SweepTooLarge(uint256 sweepBps);

    /// @notice `loanId` now sweeps `sweepBps` of every payment into `borrower`'s wallet
    /// (0 stops sweeping). Emitted by the loan book's actions, which audit them.
    event SweepSet(address indexed borrower, uint256 indexed loanId, uint16 sweepBps);

    /// @notice Mint `amountFen` to the active member `to`. Only an active ECNY_ISSUER.
    function mint(address to, uint256 amountFen) external;
    /// @notice Burn `amountFen` of the caller's own balance. Only an active ECNY_ISSUER.
    function burn(uint256 amountFen) external;

    /// @notice Move `amountFen` from `from` to `to` inside an engine action the engine has
    /// authorised and audits itself; a payment into a sweeping borrower's wallet is swept.
    /// Members must be active; engines may be either side. Only engines.
    function engineTransfer(address from, address to, uint256 amountFen) external;
    /// @notice Pay several payees out of `from` in one call (a settlement's fan-out, a
    /// disbursement): one membership check for all member payees, no sweep. Only engines.
    function engineSplit(address from, address[] calldata payees, uint256[] calldata amountsFen)
        external;
    /// @notice Route `sweepBps` of payments into `borrower`'s wallet to `loanId` (0: none).
    /// Only the loan book.
    function setSweep(address borrower, uint256 loanId, uint16 sweepBps) external;

    /// @notice The sweep in force for `borrower`: loan id and share (0, 0 when none).
    function sweepOf(address borrower) external view returns (uint256 loanId, uint16 sweepBps);
    /// @notice The account in which securitisation deal `dealId` keeps its money (an engine
    /// account: only the securitisation contract moves it).
    function dealAccount(uint256 dealId) external view returns (address);
    /// @notice Whether `account` is one of the engine contracts fixed at deployment, or a
    /// securitisation deal's account.
    function isEngine(address account) external view returns (bool);
}
