// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IDigitalRMB} from "../interfaces/IDigitalRMB.sol";
import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {IPrudential} from "../interfaces/IPrudential.sol";
import {Compliance} from "./Compliance.sol";
import {Core, Loans, Slot} from "./LoanStorage.sol";

/// @title TrancheTransfer — a tranche changes holder (DESIGN §6.3, §6.5); its bookings released
/// @notice Runs inside the loan book by DELEGATECALL (an external library, linked at
/// deployment), behind `LoanBook.transferTranche`, which only the tranche market may call.
/// The tranche's slot keeps its outstanding principal and its unpaid coupon: only the lender
/// changes, so every later receipt's share of the tranche goes to the new holder.
/// Exposure (DESIGN §4.7) follows the tranche: the old holder's booking for it is released;
/// a member taking it must be an active LENDER, not a TECH_PARTNER, within its
/// single-borrower limit for the outstanding it takes on, which is booked for it, and it
/// passes the prudential rules of §6.6 (licence, online cap, related group, book), whose
/// books move with the tranche (IPrudential.transferred). An engine account (a
/// securitisation deal's) books nothing: its noteholders bear the risk.
library TrancheTransfer {
    /// @notice Move tranche `index` of `loanId` from `from` (its holder) to `to`.
    function transfer(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        IPrudential prudential,
        IDigitalRMB ecny,
        uint256 loanId,
        uint256 index,
        address from,
        address to
    ) external {
        Core memory c = self.core[loanId];
        if (c.status == ILoanBook.Status.NONE) revert ILoanBook.UnknownLoan(loanId);
        if (c.status != ILoanBook.Status.DISBURSED && c.status != ILoanBook.Status.DEFAULTED) {
            revert ILoanBook.WrongLoanStatus(loanId, c.status);
        }
        if (index >= c.trancheCount) revert ILoanBook.UnknownTranche(loanId, index, c.trancheCount);
        Slot storage s = self.slots[loanId][index];
        if (s.lender != from) revert ILoanBook.NotTrancheHolder(loanId, index, from, s.lender);
        if (to == from || to == address(0)) revert ILoanBook.InvalidNewHolder(loanId, index, to);
        _checkStagesDrawn(self, loanId, index);
        uint256 released = _release(self, loanId, index, from, c.borrower);
        uint256 booked = ecny.isEngine(to) ? 0 : _book(self, membership, policy, to, c.borrower, s.outstanding);
        self.booked[loanId][index] = booked;
        s.lender = to;
        _report(self, prudential, loanId, from, to, c.borrower, released, booked);
        emit ILoanBook.TrancheTransferred(loanId, index, from, to, s.outstanding, released, booked);
    }

    /// @dev A staged loan's tranche moves only once every stage is drawn: an undrawn stage's
    /// money, and a lapsed stage's refund, belong to the lender that committed it, and the
    /// bookings released here are the tranche's whole amount.
    function _checkStagesDrawn(Loans storage self, uint256 loanId, uint256 index) private view {
        ILoanBook.Stage[] storage stages = self.stages[loanId];
        uint256 notDrawn;
        for (uint256 k = 0; k < stages.length; ++k) {
            if (stages[k].drawnAt == 0) ++notDrawn;
        }
        if (notDrawn != 0) revert ILoanBook.StagesNotDrawn(loanId, index, notDrawn);
    }

    /// @dev Release `from`'s booking for the tranche (its amount until the tranche first
    /// moves, then what its holder booked) and mark the tranche as moved.
    function _release(Loans storage self, uint256 loanId, uint256 index, address from, address borrower)
        private
        returns (uint256 released)
    {
        uint256 bit = 1 << index;
        uint256 moved = self.movedMask[loanId];
        if (moved & bit == 0) {
            released = self.amounts[loanId][index];
            self.movedMask[loanId] = moved | bit;
        } else {
            released = self.booked[loanId][index];
        }
        self.exposure[from][borrower] -= released;
    }

    /// @dev The prudential books follow the tranche (and check a buyer booking anything).
    function _report(
        Loans storage self,
        IPrudential prudential,
        uint256 loanId,
        address from,
        address to,
        address borrower,
        uint256 released,
        uint256 booked
    ) private {
        uint256 exposure = booked == 0 ? 0 : self.exposure[to][borrower];
        prudential.transferred(loanId, from, to, borrower, released, booked, exposure);
    }

    /// @dev A member taking the tranche: an active LENDER, not a TECH_PARTNER, within its
    /// single-borrower limit for the outstanding, which is booked for it.
    function _book(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        address to,
        address borrower,
        uint256 outstanding
    ) private returns (uint256) {
        Compliance.checkLender(membership, to);
        Compliance.checkExposure(membership, self, to, borrower, outstanding, policy.params());
        self.exposure[to][borrower] += outstanding;
        return outstanding;
    }
}
