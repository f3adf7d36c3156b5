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
/// wallet is routed to its loan's waterfall. Only the payer of an engine payment must be
/// active: what is owed to a member who is not is credited to its held balance (`heldOf`),
/// part of the supply, which it claims once reinstated (`claimHeld`, DESIGN §6.1).
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
    /// @notice Nothing is held for `member`.
    error NothingHeld(address member);
    /// @notice The swept settlement of `shareFen` for `loanId` ran out of gas: the payment is
    /// refused rather than left unswept (more gas lets it settle).
    error SweepFailed(uint256 loanId, uint256 shareFen);

    /// @notice `loanId` now sweeps `sweepBps` of every payment into `borrower`'s wallet
    /// (0 stops sweeping). Emitted by the loan book's actions, which audit them.
    event SweepSet(address indexed borrower, uint256 indexed loanId, uint16 sweepBps);
    /// @notice `amountFen` owed by an engine payment from `from` to `member`, not active, was
    /// credited to its held balance, now `heldFen`. Covered by the engine action's entry.
    event HeldCredited(
        address indexed member, address indexed from, uint256 amountFen, uint256 heldFen
    );
    /// @notice `member`, active again, took its whole held balance `amountFen`. Audited as
    /// ECNY_HELD_CLAIMED.
    event HeldClaimed(address indexed member, uint256 amountFen);
    /// @notice The swept share of a payment into `borrower`'s wallet could not settle on
    /// `loanId` (`reason`: the refusal); the payment went through and the share reached the
    /// borrower.
    event SweepSkipped(
        address indexed borrower, uint256 indexed loanId, uint256 shareFen, bytes reason
    );

    /// @notice Mint `amountFen` to the active member `to`. Only an active ECNY_ISSUER.
    function mint(address to, uint256 amountFen) external;
    /// @notice Burn `amountFen` of the caller's own balance. Only an active ECNY_ISSUER.
    function burn(uint256 amountFen) external;

    /// @notice Move `amountFen` from `from` to `to` inside an engine action the engine has
    /// authorised and audits itself; a payment into a sweeping borrower's wallet is swept.
    /// A member payer must be active; a member payee that is not is credited to its held
    /// balance. Engines may be either side. Only engines.
    function engineTransfer(address from, address to, uint256 amountFen) external;
    /// @notice Pay several payees out of `from` in one call (a settlement's fan-out, a
    /// disbursement, a refund, a cover payment), no sweep. A member payer must be active; a
    /// member payee that is not is credited to its held balance. Only engines.
    function engineSplit(address from, address[] calldata payees, uint256[] calldata amountsFen)
        external;
    /// @notice Take the caller's whole held balance; the caller must be active again. Audited.
    function claimHeld() external returns (uint256 amountFen);
    /// @notice What the engines owe `member` and hold for it until it claims.
    function heldOf(address member) external view returns (uint256);
    /// @notice Σ held over all members (the fen this contract holds for them).
    function totalHeld() external view returns (uint256);
    /// @notice Route `sweepBps` of payments into `borrower`'s wallet to `loanId` (0: none).
    /// Only the loan book.
    function setSweep(address borrower, uint256 loanId, uint16 sweepBps) external;

    /// @notice The share of `amountFen`, paid by an engine into `borrower`'s wallet, that
    /// `loanId` sweeps if it is the loan sweeping for `borrower` (0 otherwise): the loan book
    /// settles it (another loan's residual). Carries the sub-fen part. Only the loan book.
    function sweepShare(address borrower, uint256 loanId, uint256 amountFen)
        external
        returns (uint256 shareFen);
    /// @notice The sweep in force for `borrower`: loan id and share (0, 0 when none).
    function sweepOf(address borrower) external view returns (uint256 loanId, uint16 sweepBps);
    /// @notice The account in which securitisation deal `dealId` keeps its money (an engine
    /// account: only the securitisation contract moves it).
    function dealAccount(uint256 dealId) external view returns (address);
    /// @notice Whether `account` is one of the engine contracts fixed at deployment, or a
    /// securitisation deal's account.
    function isEngine(address account) external view returns (bool);
}
