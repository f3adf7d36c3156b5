// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICoverBook} from "../interfaces/ICoverBook.sol";
import {IDigitalRMB} from "../interfaces/IDigitalRMB.sol";
import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {Compliance} from "./Compliance.sol";
import {Clock, Core, Details, Loans, Slot} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title LoanOrigination — decode, check and store a loan proposal; fund it
/// @notice Runs inside the loan book by DELEGATECALL (an external library, linked at
/// deployment), writing the book's own storage: it keeps the proposal and funding code,
/// needed once per loan and lender, out of the book's 24 KB of contract code.
library LoanOrigination {
    uint256 internal constant MAX_TRANCHES = 8;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_AMOUNT = type(uint72).max;
    /// @dev 2^64 − 1 fen (1.8e17 yuan): with rate + penalty ≤ 655.35% a year, interest due
    /// reaches the uint80 it is stored in only after some 10,000 years.
    uint256 internal constant MAX_PRINCIPAL = type(uint64).max;
    uint256 internal constant MAX_TERM_DAYS = 3650;

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
    /// CoverSpec[] layers)
    function propose(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        ICoverBook cover,
        bytes calldata terms
    ) external returns (uint256 loanId, address borrower, bytes32 termsHash) {
        Document memory d = _decode(terms);
        uint256 principal = _checkTerms(self, membership, policy, d.t, d.tranches);
        if (d.receivableIds.length == 0) revert ILoanBook.NoReceivables();
        _checkPayees(membership, d.payees, d.payeeAmounts, principal);
        loanId = self.nextLoanId++;
        termsHash = keccak256(terms);
        borrower = d.t.borrower;
        _store(self, loanId, d.t, d.tranches, principal, termsHash);
        self.receivableIds[loanId] = d.receivableIds;
        self.payees[loanId] = d.payees;
        self.payeeAmounts[loanId] = d.payeeAmounts;
        if (d.layers.length != 0) cover.register(loanId, termsHash, d.receivableIds, d.layers);
    }

    /// @notice The caller, a lender of the loan, funds all of its unfunded tranches, once
    /// every cover layer is accepted (the cover book refuses otherwise); the e-CNY moves into
    /// the book. Returns the amount and whether the loan is now fully funded.
    function fund(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        IDigitalRMB ecny,
        ICoverBook cover,
        uint256 loanId
    ) external returns (uint256 amount, bool full) {
        Core storage c = _fundable(self, membership, cover, loanId);
        uint256 n = c.trancheCount;
        uint8 mask = c.fundedMask;
        for (uint256 i = 0; i < n; ++i) {
            if (self.slots[loanId][i].lender == msg.sender && mask & (1 << i) == 0) {
                amount += self.amounts[loanId][i];
                mask |= uint8(1 << i);
            }
        }
        if (amount == 0) revert ILoanBook.NothingToFund(loanId, msg.sender);
        address borrower = c.borrower;
        Compliance.checkExposure(membership, self, msg.sender, borrower, amount, policy.params());
        self.exposure[msg.sender][borrower] += amount;
        full = mask == (1 << n) - 1;
        c.fundedMask = mask;
        c.status = full ? ILoanBook.Status.FUNDED : ILoanBook.Status.FUNDING;
        ecny.engineTransfer(msg.sender, address(this), amount);
    }

    function _fundable(Loans storage self, IMembership membership, ICoverBook cover, uint256 loanId)
        private
        view
        returns (Core storage c)
    {
        c = self.core[loanId];
        ILoanBook.Status status = c.status;
        if (status == ILoanBook.Status.NONE) revert ILoanBook.UnknownLoan(loanId);
        if (status != ILoanBook.Status.ACCEPTED && status != ILoanBook.Status.FUNDING) {
            revert ILoanBook.WrongLoanStatus(loanId, status);
        }
        Compliance.checkLender(membership, msg.sender);
        cover.requireAccepted(loanId);
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
        if (uint256(t.rateBps) + t.penaltyBps > p.maxAprBps) {
            revert ILoanBook.AprAboveCap(t.rateBps, t.penaltyBps, p.maxAprBps);
        }
        if (t.feeShareBps > p.maxFeeShareBps) {
            revert ILoanBook.FeeShareAboveCap(t.feeShareBps, p.maxFeeShareBps);
        }
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
        // originatorAmount / principal ≥ min / 10000, compared exactly.
        if (originatorAmount * BPS < uint256(p.minOriginatorShareBps) * principal) {
            revert ILoanBook.OriginatorShareTooLow(
                originatorAmount * BPS / principal, p.minOriginatorShareBps
            );
        }
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
        self.details[loanId] = Details(msg.sender, t.techPartner, termsHash, principal);
        for (uint256 i = 0; i < n; ++i) {
            ILoanBook.TrancheSpec memory s = tranches[i];
            // n ≤ 8 and amounts were checked ≤ uint72 max
            self.slots[loanId][i] = Slot(s.lender, s.senior, s.couponBps, uint72(s.amountFen));
            self.amounts[loanId][i] = s.amountFen;
        }
    }
}
