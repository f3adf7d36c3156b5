// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanBook} from "./interfaces/ILoanBook.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {ITrancheMarket} from "./interfaces/ITrancheMarket.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Compliance} from "./libraries/Compliance.sol";

/// @title TrancheMarket — tranche sales, delivery versus payment (DESIGN §6.3)
/// @notice See ITrancheMarket. A sale is one transaction: the loan book moves the tranche
/// (re-checking the buyer's role and exposure), then the e-CNY token moves the price from
/// the buyer to the seller; if either refuses, neither happens.
contract TrancheMarket is ITrancheMarket, AuditedEngine, ReentrancyGuardTransient {
    uint256 private constant BPS = 10_000;
    uint256 private constant DAY = 86_400;
    /// @notice The longest an offer can stand.
    uint256 public constant MAX_OFFER_DAYS = 365;

    IMembership public immutable membership;
    IDigitalRMB public immutable ecny;
    ILoanBook public immutable loanBook;
    IPolicy public immutable policy;
    /// @notice The securitisation contract (locks, unlocks and delivers deal tranches).
    address public immutable securitisation;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(uint256 loanId => mapping(uint256 index => Offer)) private _offers;
    mapping(uint256 loanId => mapping(uint256 index => uint256 dealId)) private _deals;

    modifier onlySecuritisation() {
        if (msg.sender != securitisation || msg.sender == address(0)) revert NotSecuritisation(msg.sender);
        _;
    }

    constructor(
        IAuditTrail trail,
        IMembership members,
        IDigitalRMB ecny_,
        ILoanBook loanBook_,
        IPolicy policy_,
        address securitisation_
    ) AuditedEngine(trail) {
        membership = members;
        ecny = ecny_;
        loanBook = loanBook_;
        policy = policy_;
        securitisation = securitisation_;
    }

    /*//////////////////////////////////////////////////////////////
                                  SALES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITrancheMarket
    function offer(uint256 loanId, uint256 index, address buyer, uint256 priceFen, uint256 days_)
        external
        nonReentrant
    {
        membership.requireActive(msg.sender);
        ILoanBook.TrancheInfo memory t = _saleable(loanId, index);
        if (t.lender != msg.sender) revert NotTrancheHolder(loanId, index, msg.sender, t.lender);
        if (buyer == msg.sender) revert SelfOffer(loanId, index, msg.sender);
        if (priceFen == 0) revert ZeroPrice(loanId, index);
        if (days_ == 0 || days_ > MAX_OFFER_DAYS) revert InvalidOfferDays(days_, MAX_OFFER_DAYS);
        // Said now rather than at the purchase: a buyer the loan book would refuse.
        Compliance.checkLender(membership, buyer);
        _checkOriginatorFloor(loanId, index, msg.sender, buyer);
        uint64 expiresAt = uint64(block.timestamp + days_ * DAY);
        _offers[loanId][index] = Offer(msg.sender, expiresAt, buyer, priceFen);
        emit TrancheOffered(loanId, index, msg.sender, buyer, priceFen, expiresAt);
        _audit(
            AuditKinds.TRANCHE_OFFERED,
            loanId,
            keccak256(abi.encode(loanId, index, msg.sender, buyer, priceFen, expiresAt))
        );
    }

    /// @inheritdoc ITrancheMarket
    function buy(uint256 loanId, uint256 index) external nonReentrant {
        Offer memory o = _offers[loanId][index];
        if (o.seller == address(0)) revert NoOffer(loanId, index);
        if (msg.sender != o.buyer) revert NotOfferedBuyer(loanId, index, msg.sender, o.buyer);
        if (block.timestamp > o.expiresAt) {
            revert OfferExpired(loanId, index, o.expiresAt, uint64(block.timestamp));
        }
        ILoanBook.TrancheInfo memory t = _saleable(loanId, index);
        _checkOriginatorFloor(loanId, index, t.lender, msg.sender);
        delete _offers[loanId][index];
        // Delivery: the loan book refuses a stale offer (the seller no longer holds it), a
        // buyer that is not an active LENDER or is a TECH_PARTNER, and one over its limit.
        loanBook.transferTranche(loanId, index, o.seller, msg.sender);
        // Payment, in the same transaction.
        ecny.engineTransfer(msg.sender, o.seller, o.priceFen);
        emit TrancheSold(loanId, index, msg.sender, o.seller, o.priceFen, t.outstandingFen, t.couponDueFen);
        _audit(
            AuditKinds.TRANCHE_SOLD,
            loanId,
            keccak256(
                abi.encode(loanId, index, msg.sender, o.seller, o.priceFen, t.outstandingFen, t.couponDueFen)
            )
        );
    }

    /// @inheritdoc ITrancheMarket
    function withdraw(uint256 loanId, uint256 index) external nonReentrant {
        Offer memory o = _offers[loanId][index];
        if (o.seller == address(0)) revert NoOffer(loanId, index);
        if (msg.sender != o.seller) revert NotTrancheHolder(loanId, index, msg.sender, o.seller);
        membership.requireActive(msg.sender);
        delete _offers[loanId][index];
        emit OfferWithdrawn(loanId, index, msg.sender);
        _audit(AuditKinds.TRANCHE_OFFER_WITHDRAWN, loanId, keccak256(abi.encode(loanId, index, msg.sender)));
    }

    /*//////////////////////////////////////////////////////////////
                          SECURITISATION (§6.5)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITrancheMarket
    function lock(uint256 loanId, uint256 index, address holder, uint256 dealId)
        external
        onlySecuritisation
    {
        ILoanBook.TrancheInfo memory t = loanBook.trancheOf(loanId, index);
        if (t.lender != holder) revert NotTrancheHolder(loanId, index, holder, t.lender);
        uint256 lockedIn = _deals[loanId][index];
        if (lockedIn != 0) revert TrancheInDeal(loanId, index, lockedIn);
        _deals[loanId][index] = dealId;
        if (_offers[loanId][index].seller != address(0)) {
            delete _offers[loanId][index];
            emit OfferWithdrawn(loanId, index, holder);
        }
        emit TrancheLocked(loanId, index, dealId, holder, true);
    }

    /// @inheritdoc ITrancheMarket
    function unlock(uint256 loanId, uint256 index, uint256 dealId) external onlySecuritisation {
        _requireLocked(loanId, index, dealId);
        delete _deals[loanId][index];
        emit TrancheLocked(loanId, index, dealId, loanBook.trancheOf(loanId, index).lender, false);
    }

    /// @inheritdoc ITrancheMarket
    function deliver(uint256 loanId, uint256 index, uint256 dealId, address to)
        external
        onlySecuritisation
    {
        _requireLocked(loanId, index, dealId);
        loanBook.transferTranche(loanId, index, loanBook.trancheOf(loanId, index).lender, to);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITrancheMarket
    function offerOf(uint256 loanId, uint256 index) external view returns (Offer memory) {
        return _offers[loanId][index];
    }

    /// @inheritdoc ITrancheMarket
    function dealOf(uint256 loanId, uint256 index) external view returns (uint256) {
        return _deals[loanId][index];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The tranche of a DISBURSED or DEFAULTED loan, not in a deal.
    function _saleable(uint256 loanId, uint256 index)
        private
        view
        returns (ILoanBook.TrancheInfo memory t)
    {
        ILoanBook.LoanInfo memory info = loanBook.loanOf(loanId);
        if (info.status != ILoanBook.Status.DISBURSED && info.status != ILoanBook.Status.DEFAULTED) {
            revert ILoanBook.WrongLoanStatus(loanId, info.status);
        }
        if (index >= info.trancheCount) revert ILoanBook.UnknownTranche(loanId, index, info.trancheCount);
        uint256 dealId = _deals[loanId][index];
        if (dealId != 0) revert TrancheInDeal(loanId, index, dealId);
        t = loanBook.trancheOf(loanId, index);
    }

    /// @dev After `seller`'s tranche `index` passes to `buyer`, the loan's originator holds
    /// at least `min_originator_share_bps` of its outstanding principal (compared exactly).
    function _checkOriginatorFloor(uint256 loanId, uint256 index, address seller, address buyer)
        private
        view
    {
        ILoanBook.LoanInfo memory info = loanBook.loanOf(loanId);
        address originator = info.originator;
        // Only a sale by the originator lowers what it holds.
        if (seller != originator || buyer == originator) return;
        uint256 held;
        for (uint256 i = 0; i < info.trancheCount; ++i) {
            if (i == index) continue;
            ILoanBook.TrancheInfo memory t = loanBook.trancheOf(loanId, i);
            if (t.lender == originator) held += t.outstandingFen;
        }
        uint256 minBps = policy.params().minOriginatorShareBps;
        uint256 total = info.outstandingFen;
        if (held * BPS < total * minBps) {
            revert OriginatorShareBelowFloor(loanId, originator, held, total, minBps);
        }
    }

    function _requireLocked(uint256 loanId, uint256 index, uint256 dealId) private view {
        uint256 lockedIn = _deals[loanId][index];
        if (lockedIn != dealId || dealId == 0) revert NotLockedInDeal(loanId, index, dealId, lockedIn);
    }
}
