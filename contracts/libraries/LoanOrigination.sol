// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICoverBook} from "../interfaces/ICoverBook.sol";
import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {IPrudential} from "../interfaces/IPrudential.sol";
import {Compliance} from "./Compliance.sol";
import {LoanStages} from "./LoanStages.sol";
import {Clock, Core, Details, Loans, Slot} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title LoanOrigination — decode, check and store a loan proposal
/// @notice Runs inside the loan book by DELEGATECALL (an external library, linked at
/// deployment), writing the book's own storage: it keeps the proposal code, needed once
/// per loan, out of the book's 24 KB of contract code.
library LoanOrigination {
    uint256 internal constant MAX_TRANCHES = 8;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_AMOUNT = type(uint72).max;
    /// @dev 2^64 − 1 fen (1.8e17 yuan): with rate + penalty ≤ 655.35% a year, interest due
    /// reaches the uint80 it is stored in only after some 10,000 years.
    uint256 internal constant MAX_PRINCIPAL = type(uint64).max;
    uint256 internal constant MAX_TERM_DAYS = 3650;
    /// @dev Receivables and payees per loan: a close releases every receivable and a
    /// disbursement pays every payee in one transaction, so both lists are bounded.
    uint256 internal constant MAX_RECEIVABLES = 16;
    uint256 internal constant MAX_PAYEES = 16;
    uint256 internal constant DEFAULT_EXPIRY_DAYS = 30;
    uint256 internal constant DAY = 86_400;

    /// @dev The terms document, decoded.
    struct Document {
        ILoanBook.Terms t;
        ILoanBook.TrancheSpec[] tranches;
        uint256[] receivableIds;
        address[] payees;
        uint256[] payeeAmounts;
        ICoverBook.CoverSpec[] layers;
    }

    /// @notice Check every rule of the terms document and store the loan as PROPOSED, the
    /// caller (msg.sender, the originating lender) as originator; its cover layers, if any,
    /// are checked and recorded by the cover book.
    /// @param terms abi.encode(Terms, TrancheSpec[], receivableIds, payees, payeeAmountsFen,
    /// CoverSpec[] layers), followed for a staged loan by (payeeStages, stageDays) (see
    /// ILoanBook.LoanProposed)
    function propose(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        ICoverBook cover,
        IPrudential prudential,
        bytes calldata terms
    ) external returns (uint256 loanId, address borrower, bytes32 termsHash) {
        Document memory d = _decode(terms);
        uint256 principal = _checkTerms(self, membership, policy, d.t, d.tranches);
        if (d.receivableIds.length == 0) revert ILoanBook.NoReceivables();
        if (d.receivableIds.length > MAX_RECEIVABLES) {
            revert ILoanBook.TooManyReceivables(d.receivableIds.length, MAX_RECEIVABLES);
        }
        if (d.payees.length > MAX_PAYEES) {
            revert ILoanBook.TooManyPayees(d.payees.length, MAX_PAYEES);
        }
        _checkPayees(membership, d.payees, d.payeeAmounts, principal);
        loanId = self.nextLoanId++;
        _register(self, prudential, loanId, d.t, d.tranches, principal);
        termsHash = keccak256(terms);
        borrower = d.t.borrower;
        _store(self, loanId, d.t, d.tranches, principal, termsHash);
        self.receivableIds[loanId] = d.receivableIds;
        if (_staged(terms)) {
            _storeStages(self, loanId, terms, d.payees, d.payeeAmounts);
        } else {
            self.payees[loanId] = d.payees;
            self.payeeAmounts[loanId] = d.payeeAmounts;
        }
        if (d.layers.length != 0) cover.register(loanId, termsHash, d.receivableIds, d.layers);
    }

    /// @dev A staged loan: its payees per stage (stage 0's where an unstaged loan keeps all).
    function _storeStages(
        Loans storage self,
        uint256 loanId,
        bytes calldata terms,
        address[] memory payees,
        uint256[] memory amounts
    ) private {
        (uint256[] memory payeeStages, uint256[] memory stageDays) = _stagesOf(terms);
        LoanStages.store(
            self, loanId, self.clock[loanId].termDays, payees, amounts, payeeStages, stageDays
        );
    }

    /// @dev A staged document has 8 top-level fields, an unstaged one 6: the Terms struct
    /// is 11 static words, so the first dynamic field's offset (word 11) is 18 words for a
    /// staged document and 16 for an unstaged one. The six-field decoding reads either.
    function _staged(bytes calldata terms) private pure returns (bool) {
        return terms.length >= 12 * 32 && uint256(bytes32(terms[11 * 32:12 * 32])) == 18 * 32;
    }

    function _stagesOf(bytes calldata terms)
        private
        pure
        returns (uint256[] memory payeeStages, uint256[] memory stageDays)
    {
        (,,,,,, payeeStages, stageDays) = abi.decode(
            terms,
            (
                ILoanBook.Terms,
                ILoanBook.TrancheSpec[],
                uint256[],
                address[],
                uint256[],
                ICoverBook.CoverSpec[],
                uint256[],
                uint256[]
            )
        );
    }

    function _decode(bytes calldata terms) private pure returns (Document memory d) {
        (d.t, d.tranches, d.receivableIds, d.payees, d.payeeAmounts, d.layers) = abi.decode(
            terms,
            (
                ILoanBook.Terms,
                ILoanBook.TrancheSpec[],
                uint256[],
                address[],
                uint256[],
                ICoverBook.CoverSpec[]
            )
        );
    }

    function _checkTerms(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        ILoanBook.Terms memory t,
        ILoanBook.TrancheSpec[] memory tranches
    ) private view returns (uint256 principal) {
        uint256 n = tranches.length;
        if (n == 0) revert ILoanBook.NoTranches();
        if (n > MAX_TRANCHES) revert ILoanBook.TooManyTranches(n, MAX_TRANCHES);
        if (t.termDays == 0 || t.termDays > MAX_TERM_DAYS) revert ILoanBook.InvalidTerm(t.termDays);
        if (uint256(t.feeShareBps) + t.provisionShareBps > BPS) {
            revert ILoanBook.SharesAboveWhole(t.feeShareBps, t.provisionShareBps);
        }
        if (t.sweepBps > BPS) revert ILoanBook.SweepAboveWhole(t.sweepBps);
        membership.requireActive(t.borrower);
        IPolicy.Params memory p = policy.params();
        Compliance.checkRates(t.rateBps, t.penaltyBps, t.feeShareBps, p);
        if (t.feeShareBps != 0) {
            if (t.techPartner == address(0)) revert ILoanBook.MissingTechPartner();
            membership.requireRole(t.techPartner, Roles.TECH_PARTNER);
        }
        for (uint256 i = 0; i < n; ++i) {
            ILoanBook.TrancheSpec memory s = tranches[i];
            if (s.amountFen == 0 || s.amountFen > MAX_AMOUNT) {
                revert ILoanBook.InvalidTrancheAmount(i, s.amountFen);
            }
            if (!s.senior && s.couponBps != 0) revert ILoanBook.JuniorWithCoupon(i, s.couponBps);
            if (s.couponBps > t.rateBps) revert ILoanBook.CouponAboveRate(i, s.couponBps, t.rateBps);
            principal += s.amountFen;
        }
        if (principal > MAX_PRINCIPAL) revert ILoanBook.PrincipalAboveCap(principal, MAX_PRINCIPAL);
        uint256 originatorAmount;
        for (uint256 i = 0; i < n; ++i) {
            ILoanBook.TrancheSpec memory s = tranches[i];
            Compliance.checkLender(membership, s.lender);
            // The lender's whole share of this loan counts: its tranches so far, this one too.
            uint256 lenderTotal = s.amountFen;
            for (uint256 j = 0; j < i; ++j) {
                if (tranches[j].lender == s.lender) lenderTotal += tranches[j].amountFen;
            }
            Compliance.checkExposure(membership, self, s.lender, t.borrower, lenderTotal, p);
            if (s.lender == msg.sender) originatorAmount += s.amountFen;
        }
        Compliance.checkOriginatorShare(originatorAmount, principal, p);
    }

    /// @dev The prudential rules of DESIGN §6.6 (licence, online cap, related group, book)
    /// for every tranche's lender; the loan's group and tech partner are remembered there.
    function _register(
        Loans storage self,
        IPrudential prudential,
        uint256 loanId,
        ILoanBook.Terms memory t,
        ILoanBook.TrancheSpec[] memory tranches,
        uint256 principal
    ) private {
        uint256 n = tranches.length;
        address[] memory lenders = new address[](n);
        uint256[] memory totals = new uint256[](n);
        uint256[] memory exposures = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            lenders[i] = tranches[i].lender;
            for (uint256 j = 0; j <= i; ++j) {
                if (tranches[j].lender == lenders[i]) totals[i] += tranches[j].amountFen;
            }
            exposures[i] = self.exposure[lenders[i]][t.borrower] + totals[i];
        }
        address tech = t.feeShareBps != 0 ? t.techPartner : address(0);
        prudential.register(loanId, t.borrower, tech, principal, lenders, totals, exposures);
    }

    /// @dev Targeted disbursement: the payees are fixed at proposal, all active members,
    /// and take exactly the principal (the client names the borrower by default).
    function _checkPayees(
        IMembership membership,
        address[] memory payees,
        uint256[] memory amounts,
        uint256 principal
    ) private view {
        uint256 sum;
        for (uint256 i = 0; i < amounts.length; ++i) {
            sum += amounts[i];
        }
        if (payees.length == 0 || payees.length != amounts.length || sum != principal) {
            revert ILoanBook.PayeesMismatch(sum, principal);
        }
        membership.requireAllActive(payees);
    }

    function _store(
        Loans storage self,
        uint256 loanId,
        ILoanBook.Terms memory t,
        ILoanBook.TrancheSpec[] memory tranches,
        uint256 principal,
        bytes32 termsHash
    ) private {
        uint256 n = tranches.length;
        self.core[loanId] = Core({
            borrower: t.borrower,
            status: ILoanBook.Status.PROPOSED,
            trancheCount: uint8(n),
            mode: t.mode,
            fundedMask: 0,
            feeShareBps: t.feeShareBps,
            provisionShareBps: t.provisionShareBps,
            sweepBps: t.sweepBps,
            rateBps: t.rateBps
        });
        self.clock[loanId] = Clock({
            accruedTo: 0,
            interestDue: 0,
            maturityAt: 0,
            disbursedAt: 0,
            penaltyBps: t.penaltyBps,
            graceDays: t.graceDays,
            termDays: t.termDays

        });
        uint256 expiryDays = t.expiryDays == 0 ? DEFAULT_EXPIRY_DAYS : t.expiryDays;
        // uint40 seconds last until the year 36,812.
        uint40 expiresAt = uint40(block.timestamp + expiryDays * DAY);
        self.details[loanId] = Details(msg.sender, expiresAt, t.techPartner, termsHash, principal);
        for (uint256 i = 0; i < n; ++i) {
            ILoanBook.TrancheSpec memory s = tranches[i];
            // n ≤ 8 and amounts were checked ≤ uint72 max
            self.slots[loanId][i] = Slot(s.lender, s.senior, s.couponBps, uint72(s.amountFen));
            self.amounts[loanId][i] = s.amountFen;
        }
    }
}
