// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanBook} from "./interfaces/ILoanBook.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {IPrudential} from "./interfaces/IPrudential.sol";
import {Compliance} from "./libraries/Compliance.sol";
import {Licences} from "./libraries/Licences.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Prudential — licences, borrower caps, related groups, book limits, NPL-linked fee
/// @notice See IPrudential. Called only by the loan book, inside the loan's own transaction
/// (whose audit entry covers what this contract records); it holds no value.
/// @dev Kept out of the loan book, which is near the 24,576-byte limit: the book makes one
/// call per event of a loan's life, and settlements call only for loans with a fee share.
contract Prudential is IPrudential {
    /// @dev What this contract remembers of one loan (nothing for a loan to a borrower with
    /// no group, paying no fee share, not yet funded: no storage written for it).
    struct Loan {
        bytes32 group; // the borrower's related-party group at proposal; 0: none
        address techPartner; // zero when the loan pays no fee share
        uint64 principalFen; // ≤ the loan book's principal cap of 2^64 − 1
        uint8 fundings; // how many fundings `_fundings` holds (≤ 8 tranches)
        bool defaulted;
    }

    /// @dev One lender's funding of one loan (a lender funds all its tranches at once).
    struct Funding {
        address lender;
        uint96 amountFen; // ≤ 8 tranches × 2^72
    }

    IMembership public immutable membership;
    IPolicy public immutable policy;
    address public immutable loanBook;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(uint256 loanId => Loan) private _loans;
    mapping(uint256 loanId => mapping(uint256 index => Funding)) private _fundings;
    mapping(address lender => mapping(bytes32 group => uint256)) private _groupExposure;
    mapping(address lender => uint256) private _book;
    mapping(address techPartner => TechBook) private _tech;

    constructor(IMembership members, IPolicy policy_, address loanBook_) {
        membership = members;
        policy = policy_;
        loanBook = loanBook_;
    }

    modifier onlyLoanBook() {
        if (msg.sender != loanBook) revert NotLoanBookCaller(msg.sender);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                          A LOAN'S LIFE (loan book only)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPrudential
    function register(
        uint256 loanId,
        address borrower,
        address techPartner,
        uint256 principalFen,
        address[] calldata lenders,
        uint256[] calldata totalsFen,
        uint256[] calldata exposuresFen
    ) external onlyLoanBook {
        bytes32 group = _checkProposal(borrower, lenders, totalsFen, exposuresFen);
        Loan storage l = _loans[loanId];
        if (group != bytes32(0)) l.group = group;
        if (techPartner != address(0)) {
            l.techPartner = techPartner;
            l.principalFen = uint64(principalFen);
        }
    }

    /// @inheritdoc IPrudential
    function fund(
        uint256 loanId,
        address lender,
        address borrower,
        uint256 amountFen,
        uint256 exposureFen
    ) external onlyLoanBook {
        Loan storage l = _loans[loanId];
        bytes32 group = Compliance.groupKey(l.group, borrower);
        IMembership.BorrowerKind kind = membership.profileOf(borrower).kind;
        IPolicy.Params memory p = policy.params();
        // The single-borrower limit of DESIGN §4.7, checked again at funding (the loan book
        // holds that exposure), then the rules of §6.6.
        IMembership.MemberInfo memory m = _lender(lender);
        uint256 limit = Compliance.shareOf(m.netAssetsFen, p.maxSingleBorrowerBps);
        if (exposureFen > limit) {
            revert ILoanBook.ExposureAboveLimit(lender, borrower, exposureFen, limit);
        }
        _check(m, lender, borrower, kind, group, amountFen, exposureFen, p);
        _groupExposure[lender][group] += amountFen;
        _book[lender] += amountFen;
        // amountFen ≤ 8 tranches × 2^72 < 2^96; a lender funds once, so ≤ 8 fundings
        uint8 n = l.fundings;
        _fundings[loanId][n] = Funding(lender, uint96(amountFen));
        l.fundings = n + 1;
    }

    /// @inheritdoc IPrudential
    function release(uint256 loanId, address borrower) external onlyLoanBook {
        Loan storage l = _loans[loanId];
        bytes32 group = Compliance.groupKey(l.group, borrower);
        uint256 n = l.fundings;
        for (uint256 i = 0; i < n; ++i) {
            Funding memory f = _fundings[loanId][i];
            _groupExposure[f.lender][group] -= f.amountFen;
            _book[f.lender] -= f.amountFen;
            delete _fundings[loanId][i];
        }
        l.fundings = 0;
    }

    /// @inheritdoc IPrudential
    function transferred(
        uint256 loanId,
        address seller,
        address buyer,
        address borrower,
        uint256 releasedFen,
        uint256 bookedFen,
        uint256 exposureFen
    ) external onlyLoanBook {
        Loan storage l = _loans[loanId];
        bytes32 group = Compliance.groupKey(l.group, borrower);
        if (bookedFen != 0) {
            IMembership.MemberInfo memory m = _lender(buyer);
            IMembership.BorrowerKind kind = membership.profileOf(borrower).kind;
            _check(m, buyer, borrower, kind, group, bookedFen, exposureFen, policy.params());
            _groupExposure[buyer][group] += bookedFen;
            _book[buyer] += bookedFen;
        }
        if (releasedFen != 0) {
            _groupExposure[seller][group] -= releasedFen;
            _book[seller] -= releasedFen;
        }
        _moveFunding(loanId, l, seller, buyer, releasedFen, bookedFen);
    }

    /// @inheritdoc IPrudential
    function disbursed(uint256 loanId) external onlyLoanBook {
        Loan storage l = _loans[loanId];
        address tech = l.techPartner;
        if (tech != address(0)) _tech[tech].outstandingFen += l.principalFen;
    }

    /// @inheritdoc IPrudential
    function settled(uint256 loanId, uint256 principalFen, uint256 feeFen)
        external
        onlyLoanBook
        returns (bool withheld)
    {
        Loan storage l = _loans[loanId];
        address tech = l.techPartner;
        if (tech == address(0)) return false;
        TechBook memory t = _tech[tech];
        if (principalFen != 0) {
            // Principal repaid never exceeds what the loan — and so the book — has outstanding.
            t.outstandingFen -= uint128(principalFen);
            if (l.defaulted) t.defaultedFen -= uint128(principalFen);
            _tech[tech] = t;
        }
        // The book as this receipt leaves it: a recovery that repays a defaulted loan pays
        // the fee (DESIGN §6.2 worked example 3). No defaulted principal: no policy read.
        withheld = t.defaultedFen != 0
            && Compliance.nplAbove(t.defaultedFen, t.outstandingFen, policy.params().techFeeNplBps);
        if (withheld && feeFen != 0) {
            emit TechFeeWithheld(loanId, tech, feeFen, t.defaultedFen, t.outstandingFen);
        }
    }

    /// @inheritdoc IPrudential
    function defaulted(uint256 loanId, uint256 coverFen, uint256 remainingFen)
        external
        onlyLoanBook
    {
        Loan storage l = _loans[loanId];
        address tech = l.techPartner;
        if (tech == address(0)) return;
        l.defaulted = true;
        TechBook storage s = _tech[tech];
        // cover + remaining is the loan's outstanding principal, part of the book's.
        s.outstandingFen -= uint128(coverFen);
        s.defaultedFen += uint128(remainingFen);
    }

    /// @inheritdoc IPrudential
    function lapsed(
        uint256 loanId,
        address borrower,
        address[] calldata lenders,
        uint256[] calldata refundsFen
    ) external
        onlyLoanBook
    {
        Loan storage l = _loans[loanId];
        uint256 total;
        for (uint256 i = 0; i < lenders.length; ++i) {
            total += refundsFen[i];
        }
        address tech = l.techPartner;
        // The undrawn money was part of the principal added at disbursement.
        if (tech != address(0)) _tech[tech].outstandingFen -= uint128(total);
        uint256 n = l.fundings;
        if (n == 0) return; // released already (a default the cover repaid in full)
        bytes32 group = Compliance.groupKey(l.group, borrower);
        for (uint256 j = 0; j < n; ++j) {
            Funding storage f = _fundings[loanId][j];
            uint256 back;
            for (uint256 i = 0; i < lenders.length; ++i) {
                if (lenders[i] == f.lender) back += refundsFen[i];
            }
            if (back == 0) continue;
            // A lender's refund is part of what it funded (its tranches' undrawn money).
            f.amountFen -= uint96(back);
            _groupExposure[f.lender][group] -= back;
            _book[f.lender] -= back;
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPrudential
    function groupOfLoan(uint256 loanId) external view returns (bytes32) {
        return _loans[loanId].group;
    }

    /// @inheritdoc IPrudential
    function groupExposureOf(address lender, bytes32 group) external view returns (uint256) {
        return _groupExposure[lender][group];
    }

    /// @inheritdoc IPrudential
    function bookOf(address lender) external view returns (uint256) {
        return _book[lender];
    }

    /// @inheritdoc IPrudential
    function techBookOf(address techPartner) external view returns (TechBook memory) {
        return _tech[techPartner];
    }

    /// @inheritdoc IPrudential
    function feeWithheld(address techPartner) external view returns (bool) {
        TechBook memory t = _tech[techPartner];
        return t.defaultedFen != 0
            && Compliance.nplAbove(t.defaultedFen, t.outstandingFen, policy.params().techFeeNplBps);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The loan's funding records after a sale: the seller's shrinks by `releasedFen`,
    /// the buyer's grows by `bookedFen` (a new record, in the first emptied one if any), so
    /// that `release` subtracts from whoever holds the exposure. Records stay one a lender.
    function _moveFunding(
        uint256 loanId,
        Loan storage l,
        address seller,
        address buyer,
        uint256 releasedFen,
        uint256 bookedFen
    ) private {
        uint256 n = l.fundings;
        uint256 buyerAt = type(uint256).max;
        uint256 emptyAt = type(uint256).max;
        mapping(uint256 => Funding) storage fs = _fundings[loanId];
        for (uint256 i = 0; i < n; ++i) {
            Funding storage f = fs[i];
            if (f.lender == seller && releasedFen != 0) {
                // a seller's release is what it booked for the tranche, within its record
                f.amountFen -= uint96(releasedFen);
                releasedFen = 0;
            } else if (f.lender == buyer) {
                buyerAt = i;
            }
            if (f.amountFen == 0 && emptyAt == type(uint256).max) emptyAt = i;
        }
        if (bookedFen == 0) return;
        // bookedFen ≤ the tranche's principal < 2^72
        if (buyerAt != type(uint256).max) {
            fs[buyerAt].amountFen += uint96(bookedFen);
        } else if (emptyAt != type(uint256).max) {
            fs[emptyAt] = Funding(buyer, uint96(bookedFen));
        } else {
            fs[n] = Funding(buyer, uint96(bookedFen));
            l.fundings = uint8(n + 1);
        }
    }

    /// @dev Every tranche's lender at proposal; returns the borrower's group (0: none).
    function _checkProposal(
        address borrower,
        address[] calldata lenders,
        uint256[] calldata totalsFen,
        uint256[] calldata exposuresFen
    ) private view returns (bytes32 group) {
        IMembership.Profile memory b = membership.profileOf(borrower);
        group = b.group;
        bytes32 key = Compliance.groupKey(group, borrower);
        IPolicy.Params memory p = policy.params();
        for (uint256 i = 0; i < lenders.length; ++i) {
            address lender = lenders[i];
            _check(_lender(lender), lender, borrower, b.kind, key, totalsFen[i], exposuresFen[i], p);
        }
    }

    /// @dev `lender`'s record, once it is known to be an active LENDER, not a TECH_PARTNER
    /// (platforms may not fund), holding an unexpired lending licence.
    function _lender(address lender) private view returns (IMembership.MemberInfo memory m) {
        m = membership.memberOf(lender);
        if (m.status != IMembership.Status.ACTIVE) {
            if (m.status == IMembership.Status.NONE) revert NotAMember(lender);
            revert MemberNotActive(lender, uint8(m.status));
        }
        if (m.roles & Roles.LENDER == 0) revert MissingRole(lender, Roles.LENDER, m.roles);
        if (m.roles & Roles.TECH_PARTNER != 0) revert ILoanBook.TechPartnerCannotFund(lender);
        IMembership.Licence licence = m.profile.licence;
        if (!Licences.has(Licences.LENDING, licence)) {
            revert IMembership.LicenceUnfit(lender, licence, Licences.LENDING);
        }
        uint64 expiry = m.profile.licenceExpiry;
        if (expiry != 0 && block.timestamp > expiry) {
            revert IMembership.LicenceExpired(lender, licence, expiry, uint64(block.timestamp));
        }
    }

    /// @dev `lender` (its record `m`) takes `amountFen` more of a loan to `borrower` (in
    /// `group`), its exposure to the borrower becoming `exposureFen`.
    function _check(
        IMembership.MemberInfo memory m,
        address lender,
        address borrower,
        IMembership.BorrowerKind kind,
        bytes32 group,
        uint256 amountFen,
        uint256 exposureFen,
        IPolicy.Params memory p
    ) private view {
        IMembership.Licence licence = m.profile.licence;
        if (licence == IMembership.Licence.ONLINE_MICROLOAN) {
            uint256 cap = Compliance.onlineCap(kind, p);
            if (exposureFen > cap) {
                revert OnlineCapExceeded(lender, borrower, uint8(kind), exposureFen, cap);
            }
        }
        uint256 inGroup = _groupExposure[lender][group] + amountFen;
        uint256 limit = Compliance.shareOf(m.netAssetsFen, p.maxRelatedGroupBps);
        if (inGroup > limit) revert RelatedGroupAboveLimit(lender, group, inGroup, limit);
        if (Licences.has(Licences.MICRO_LENDERS, licence)) {
            uint256 book = _book[lender] + amountFen;
            uint256 bookLimit = Compliance.bookLimit(m.netAssetsFen, p.maxBookX100);
            if (book > bookLimit) revert BookAboveLimit(lender, book, bookLimit);
        }
    }
}
