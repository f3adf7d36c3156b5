// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title ISecuritisation — pools of tranches with note classes (资产证券化, DESIGN §6.5)
/// @notice An originating lender pools tranches it holds, of DISBURSED loans, into a deal:
/// creation locks them; the pool balance B is their outstanding principal; 2 to 5 note
/// classes, senior first, sum exactly to B, the last being the junior (no coupon). INVESTOR
/// and LENDER members subscribe at par (1 unit = 1 fen); the e-CNY waits in the deal's own
/// account. When every class is full the originator closes the deal: the tranches pass to the
/// deal's account and the subscriptions to the originator, in one transaction; before that
/// it can cancel (refunds, tranches unlocked). The originator keeps at least
/// ceil(B × min_retention_bps / 10000) units of the junior while the deal is open. What the
/// loan book pays for the deal's tranches lands in the deal's account; `distribute` pays it
/// out: servicing fee, coupons in class order (unpaid coupon carries), principal
/// sequentially, then the excess to the junior. A tranche of a loan DEFAULTED for claim_days
/// is written off, its outstanding reducing class balances junior first. Holders claim their
/// classes' payments pro rata by units (exact, floored per holder). Notes are ERC-20 tokens, one
/// per class, transferable between active INVESTOR and LENDER members.
interface ISecuritisation is IMembershipErrors {
    enum Status {
        NONE,
        SUBSCRIBING,
        CLOSED,
        CANCELLED
    }

    /// @notice A deal's terms as created.
    struct DealTerms {
        uint256[] loanIds;
        uint256[] indexes;
        bytes32[] names;
        uint256[] amountsFen;
        uint16[] couponsBps;
        address servicer;
        uint16 feeBps;
        uint16 periodDays;
    }

    /// @notice A deal's live state, as `dealOf` returns it.
    struct DealInfo {
        Status status;
        address originator;
        address servicer;
        address account;
        uint16 feeBps;
        uint16 periodDays;
        uint256 poolFen;
        uint256 retentionFen;
        uint256 feeDueFen;
        uint64 createdAt;
        uint64 closedAt;
        uint64 accruedTo;
        uint64 lastDistributionAt;
        uint256 classCount;
        uint256 trancheCount;
    }

    /// @notice One note class's live state, as `classOf` returns it.
    struct ClassInfo {
        bytes32 name;
        address token;
        uint16 couponBps;
        uint256 amountFen;
        uint256 balanceFen;
        uint256 couponDueFen;
        uint256 subscribedFen;
        uint256 paidFen;
        uint256 claimedFen;
    }

    event DealCreated(uint256 indexed dealId, address indexed originator, DealTerms terms, uint256 poolFen);
    event Subscribed(uint256 indexed dealId, uint256 indexed classIndex, address indexed investor, uint256 amountFen);
    event DealClosed(uint256 indexed dealId, address indexed originator, uint256 poolFen, uint256 retainedFen);
    event DealCancelled(uint256 indexed dealId, address indexed originator, uint256 refundedFen);
    /// @notice One distribution of `cashFen`: the fee to the servicer, then per class its
    /// coupon, principal and (junior) excess, in class order.
    event Distributed(
        uint256 indexed dealId,
        address indexed by,
        uint256 cashFen,
        uint256 feeFen,
        uint256[] couponFen,
        uint256[] principalFen,
        uint256 excessFen
    );
    event WrittenOff(
        uint256 indexed dealId, uint256 indexed loanId, uint256 index, uint256 lossFen, uint256[] reducedFen
    );
    event Claimed(uint256 indexed dealId, address indexed holder, uint256[] amountsFen, uint256 totalFen);
    event NotesTransferred(
        uint256 indexed dealId, uint256 indexed classIndex, address indexed from, address to, uint256 units
    );

    error UnknownDeal(uint256 dealId);
    error WrongDealStatus(uint256 dealId, Status status);
    error NotDealOriginator(uint256 dealId, address caller, address originator);
    error NotServicer(uint256 dealId, address caller, address servicer);
    error ClassCount(uint256 count, uint256 min, uint256 max);
    error ClassesMismatch(uint256 names, uint256 amounts, uint256 coupons);
    error TranchesMismatch(uint256 loans, uint256 indexes);
    error NoTranches();
    error TooManyTranches(uint256 count, uint256 max);
    /// @notice The classes sum to `classesFen`, not the pool balance `poolFen`.
    error ClassesNotPool(uint256 classesFen, uint256 poolFen);
    error ZeroClass(uint256 classIndex);
    error JuniorWithCoupon(uint256 couponBps);
    /// @notice securitisation max_servicing_fee_bps: the fee `feeBps` exceeds the cap.
    error ServicingFeeAboveCap(uint256 feeBps, uint256 maxBps);
    /// @notice The servicer must be the originator or an active TECH_PARTNER.
    error InvalidServicer(address servicer);
    error InvalidPeriod(uint256 periodDays);
    /// @notice The junior class `juniorFen` cannot hold the retention `retentionFen`.
    error JuniorBelowRetention(uint256 juniorFen, uint256 retentionFen);
    /// @notice risk retention min_retention_bps: the originator would hold `heldFen` units of
    /// the junior, below `retentionFen`.
    error RetentionBreached(uint256 dealId, uint256 heldFen, uint256 retentionFen);
    /// @notice Subscribing `amountFen` to a class with `leftFen` left.
    error OverSubscribed(uint256 dealId, uint256 classIndex, uint256 amountFen, uint256 leftFen);
    error UnknownClass(uint256 dealId, uint256 classIndex);
    error ZeroAmount();
    /// @notice Not every class is full: class `classIndex` has `subscribedFen` of `amountFen`.
    error NotFullySubscribed(uint256 dealId, uint256 classIndex, uint256 subscribedFen, uint256 amountFen);
    /// @notice The tranches' outstanding is `nowFen`, not the pool balance `poolFen` it was at
    /// creation (a repayment came in): cancel and create again.
    error PoolChanged(uint256 dealId, uint256 poolFen, uint256 nowFen);
    /// @notice Only the servicer distributes before `period_days` have passed (`nextAt`).
    error TooEarlyToDistribute(uint256 dealId, uint64 nowAt, uint64 nextAt);
    error NothingToDistribute(uint256 dealId);
    error NotInDeal(uint256 dealId, uint256 loanId, uint256 index);
    error AlreadyWrittenOff(uint256 dealId, uint256 loanId, uint256 index);
    /// @notice A write-off needs the loan DEFAULTED and the time past maturity + default_days
    /// + claim_days (`earliestAt`).
    error WriteOffTooEarly(uint256 dealId, uint256 loanId, uint64 nowAt, uint64 earliestAt);
    error LoanNotDefaulted(uint256 dealId, uint256 loanId);
    error NothingToClaim(uint256 dealId, address holder);
    error NotNoteToken(address caller);
    /// @notice Notes move only between active INVESTOR or LENDER members, once the deal closed.
    error NotNoteHolderRole(address account);
    error TooManySubscriptions(uint256 dealId, uint256 max);

    function create(DealTerms calldata terms) external returns (uint256 dealId);
    function subscribe(uint256 dealId, uint256 classIndex, uint256 amountFen) external;
    function close(uint256 dealId) external;
    function cancel(uint256 dealId) external;
    function distribute(uint256 dealId) external;
    function writeOff(uint256 dealId, uint256 loanId, uint256 index) external;
    function claim(uint256 dealId) external returns (uint256 totalFen);
    /// @notice Called by a class's note token on every transfer between holders. Only the
    /// note tokens of the deal.
    function noteTransfer(uint256 dealId, uint256 classIndex, address from, address to, uint256 units) external;

    function dealOf(uint256 dealId) external view returns (DealInfo memory);
    function classOf(uint256 dealId, uint256 classIndex) external view returns (ClassInfo memory);
    function trancheOf(uint256 dealId, uint256 k) external view returns (uint256 loanId, uint256 index, bool writtenOff);
    function claimableOf(uint256 dealId, uint256 classIndex, address holder) external view returns (uint256);
    function nextDealId() external view returns (uint256);
}
