// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title ITrancheMarket — tranche sales with delivery versus payment (转让, DESIGN §6.3)
/// @notice The holder of a tranche of a DISBURSED or DEFAULTED loan offers it whole to one
/// named buyer at a price, until an expiry; the buyer takes it by paying the price in e-CNY
/// to the seller in the same transaction in which it becomes the tranche's lender. What
/// passes: the outstanding principal, the unpaid coupon and every later receipt's share. The
/// loan book re-checks the buyer (an active LENDER, not a TECH_PARTNER, within its
/// single-borrower limit for the outstanding) and releases the seller's exposure; this
/// contract checks that the loan's originator keeps at least `min_originator_share_bps` of
/// the loan's outstanding principal, and that the tranche is not in a securitisation deal.
/// It is also the securitisation contract's way to lock, unlock and deliver a deal's
/// tranches (DESIGN §6.5).
interface ITrancheMarket is IMembershipErrors {
    /// @notice A live offer; `seller` is zero when there is none.
    struct Offer {
        address seller;
        uint64 expiresAt;
        address buyer;
        uint256 priceFen;
    }

    event TrancheOffered(
        uint256 indexed loanId,
        uint256 indexed index,
        address indexed seller,
        address buyer,
        uint256 priceFen,
        uint64 expiresAt
    );
    /// @notice The buyer paid `priceFen` to the seller and became the tranche's lender, taking
    /// `outstandingFen` of principal and `couponDueFen` of unpaid coupon (as of the loan's
    /// last checkpoint; what accrued since passes as well).
    event TrancheSold(
        uint256 indexed loanId,
        uint256 indexed index,
        address indexed buyer,
        address seller,
        uint256 priceFen,
        uint256 outstandingFen,
        uint256 couponDueFen
    );
    event OfferWithdrawn(uint256 indexed loanId, uint256 indexed index, address indexed seller);
    /// @notice Securitisation deal `dealId` locked (`locked`) or released a tranche of `holder`.
    event TrancheLocked(
        uint256 indexed loanId, uint256 indexed index, uint256 indexed dealId, address holder, bool locked
    );

    /// @notice There is no live offer for the tranche.
    error NoOffer(uint256 loanId, uint256 index);
    /// @notice The offer is made to `buyer`, not to `caller`.
    error NotOfferedBuyer(uint256 loanId, uint256 index, address caller, address buyer);
    /// @notice The offer expired at `expiresAt`; it is now `nowAt`.
    error OfferExpired(uint256 loanId, uint256 index, uint64 expiresAt, uint64 nowAt);
    /// @notice `caller` does not hold the tranche; `holder` does.
    error NotTrancheHolder(uint256 loanId, uint256 index, address caller, address holder);
    /// @notice The tranche is in securitisation deal `dealId`: it cannot be offered or sold.
    error TrancheInDeal(uint256 loanId, uint256 index, uint256 dealId);
    /// @notice A price of zero.
    error ZeroPrice(uint256 loanId, uint256 index);
    /// @notice An offer must last 1 to `maxDays` days.
    error InvalidOfferDays(uint256 daysGiven, uint256 maxDays);
    /// @notice A holder cannot offer its tranche to itself.
    error SelfOffer(uint256 loanId, uint256 index, address holder);
    /// @notice joint loan: after the sale the originator would hold `heldFen` of the loan's
    /// `outstandingFen` outstanding principal, below `min_originator_share_bps` `minBps`.
    error OriginatorShareBelowFloor(
        uint256 loanId, address originator, uint256 heldFen, uint256 outstandingFen, uint256 minBps
    );
    /// @notice Only the securitisation contract locks, unlocks and delivers deal tranches.
    error NotSecuritisation(address caller);
    /// @notice The tranche is not locked in deal `dealId` (it is in `lockedIn`, 0: none).
    error NotLockedInDeal(uint256 loanId, uint256 index, uint256 dealId, uint256 lockedIn);

    /// @notice Offer tranche `index` of `loanId`, whole, to `buyer` for `priceFen`, for
    /// `days_` days. Only its holder, active; replaces the holder's earlier offer.
    function offer(uint256 loanId, uint256 index, address buyer, uint256 priceFen, uint256 days_)
        external;
    /// @notice Take the offer: pay its price to the seller and become the tranche's lender, in
    /// this one transaction. Only the named buyer, before the expiry.
    function buy(uint256 loanId, uint256 index) external;
    /// @notice Withdraw a live offer. Only its seller.
    function withdraw(uint256 loanId, uint256 index) external;

    /// @notice Lock `holder`'s tranche into deal `dealId` (a live offer lapses). Only the
    /// securitisation contract.
    function lock(uint256 loanId, uint256 index, address holder, uint256 dealId) external;
    /// @notice Release the lock of deal `dealId`. Only the securitisation contract.
    function unlock(uint256 loanId, uint256 index, uint256 dealId) external;
    /// @notice Pass a tranche locked in deal `dealId` to `to` (the deal's account). Only the
    /// securitisation contract.
    function deliver(uint256 loanId, uint256 index, uint256 dealId, address to) external;

    /// @notice The live offer of a tranche (seller zero when none).
    function offerOf(uint256 loanId, uint256 index) external view returns (Offer memory);
    /// @notice The deal a tranche is locked in (0: none).
    function dealOf(uint256 loanId, uint256 index) external view returns (uint256);
}
