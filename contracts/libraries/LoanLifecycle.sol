// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICoverBook} from "../interfaces/ICoverBook.sol";
import {IDigitalRMB} from "../interfaces/IDigitalRMB.sol";
import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {IPrudential} from "../interfaces/IPrudential.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {Compliance} from "./Compliance.sol";
import {LoanStages} from "./LoanStages.sol";
import {LoanState} from "./LoanState.sol";
import {Clock, Core, Details, Loans} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title LoanLifecycle — funding, disbursement, cancellation, default and the sweep queue
/// @notice Runs inside the loan book by DELEGATECALL (an external library, linked at
/// deployment), writing the book's own storage. The book keeps the e-CNY moves, events and
/// audit entries of each action; this library checks the rules and changes the state.
/// `msg.sender` is the book's caller throughout.
library LoanLifecycle {
    uint256 internal constant DAY = 86_400;

    /// @notice What a default did, for the book's e-CNY move, event and audit entry: the
    /// cover (margins and pool) `payer` pays `principalFen` to `lenders`, tranche by tranche.
    struct Default {
        uint256 coverFen;
        address payer;
        address[] lenders;
        uint256[] principalFen;
        uint256 lossFen;
        uint256 interestDueFen;
    }

    /// @notice Fund the caller's unfunded tranches: (amount to pull, fully funded now). The
    /// cover book refuses while a cover layer is not accepted (DESIGN §6.2).
    function fund(
        Loans storage self,
        IPolicy policy,
        ICoverBook cover,
        IPrudential prudential,
        uint256 loanId
    ) external returns (uint256 amount, bool full) {
        Core storage c = self.core[loanId];
        if (c.status != ILoanBook.Status.ACCEPTED && c.status != ILoanBook.Status.FUNDING) {
            revert ILoanBook.WrongLoanStatus(loanId, c.status);
        }
        _notExpired(self, loanId);
        cover.requireAccepted(loanId);
        _recheck(self, loanId, policy.params());
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
        uint256 exposure = self.exposure[msg.sender][borrower] + amount;
        self.exposure[msg.sender][borrower] = exposure;
        full = mask == (1 << n) - 1;
        c.fundedMask = mask;
        c.status = full ? ILoanBook.Status.FUNDED : ILoanBook.Status.FUNDING;
        // Role, licence and every exposure limit (DESIGN §4.7, §6.6), checked and counted.
        prudential.fund(loanId, msg.sender, borrower, amount, exposure);
    }

    /// @notice Check and record the disbursement (the book pays the payees): its times. A
    /// loan with a fee share is reported to the prudential books.
    function disburse(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        IReceivableToken receivables,
        IDigitalRMB ecny,
        IPrudential prudential,
        uint256 loanId
    ) external returns (uint64 nowAt, uint64 maturityAt) {
        Core storage c = self.core[loanId];
        address originator = self.details[loanId].originator;
        if (msg.sender != originator) revert ILoanBook.NotOriginator(loanId, msg.sender, originator);
        membership.requireActive(msg.sender);
        if (c.status != ILoanBook.Status.FUNDED) revert ILoanBook.WrongLoanStatus(loanId, c.status);
        _notExpired(self, loanId);
        _recheck(self, loanId, policy.params());
        // Proceeds go to active payees only (a targeted payment is never held), for an active
        // borrower, against collateral still pledged to this loan.
        membership.requireActive(c.borrower);
        membership.requireAllActive(self.payees[loanId]);
        receivables.requirePledged(loanId, self.receivableIds[loanId]);
        Clock storage k = self.clock[loanId];
        nowAt = uint64(block.timestamp);
        maturityAt = uint64(block.timestamp + uint256(k.termDays) * DAY);
        k.accruedTo = uint40(nowAt);
        k.disbursedAt = uint40(nowAt);
        k.maturityAt = uint40(maturityAt);
        c.status = ILoanBook.Status.DISBURSED;
        // A staged loan pays stage 0 now; the rest stays in the book until drawn.
        if (self.stages[loanId].length != 0) LoanStages.start(self, loanId, c.trancheCount, nowAt);
        if (c.sweepBps != 0) _sweepAdd(self, ecny, c.borrower, loanId, c.sweepBps);
        // The principal joins its tech partner's book (DESIGN §6.6).
        if (c.feeShareBps != 0) prudential.disbursed(loanId);
    }

    /// @notice Check and record a cancellation: the refunds owed, per tranche, and their sum.
    /// Receivables pledged by an acceptance are released, and the funded exposure, in the
    /// loan book and the prudential books.
    function cancel(
        Loans storage self,
        IMembership membership,
        IReceivableToken receivables,
        IPrudential prudential,
        uint256 loanId
    ) external returns (address[] memory lenders, uint256[] memory refunds, uint256 refunded) {
        Core storage c = self.core[loanId];
        ILoanBook.Status status = c.status;
        if (status == ILoanBook.Status.NONE || status >= ILoanBook.Status.DISBURSED) {
            revert ILoanBook.WrongLoanStatus(loanId, status);
        }
        Details storage d = self.details[loanId];
        uint256 n = c.trancheCount;
        if (msg.sender != d.originator && msg.sender != c.borrower) {
            // After the deadline a co-lender is no longer at the originator's mercy.
            bool lender;
            if (block.timestamp > d.expiresAt) {
                for (uint256 i = 0; i < n && !lender; ++i) {
                    lender = self.slots[loanId][i].lender == msg.sender;
                }
            }
            if (!lender) revert ILoanBook.NotOriginatorOrBorrower(loanId, msg.sender);
        }
        membership.requireActive(msg.sender);
        c.status = ILoanBook.Status.CANCELLED;
        lenders = new address[](n);
        refunds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            if (c.fundedMask & (1 << i) != 0) {
                lenders[i] = self.slots[loanId][i].lender;
                refunds[i] = self.amounts[loanId][i];
                self.exposure[lenders[i]][c.borrower] -= refunds[i];
                refunded += refunds[i];
            }
        }
        // What was funded leaves the prudential books too (DESIGN §6.6).
        if (refunded != 0) prudential.release(loanId, c.borrower);
        if (status != ILoanBook.Status.PROPOSED) {
            receivables.release(loanId, msg.sender, self.receivableIds[loanId]);
        }
    }

    /// @notice Check and record a default `default_days` past maturity (DESIGN §4.6, §6.2):
    /// accrue, ask the cover book for the layers' margins and the pool's cover, apply it as
    /// one principal-only receipt, seniors first; the loan is DEFAULTED (REPAID when the
    /// cover pays everything). The book pays the cover out and records the event.
    function declareDefault(
        Loans storage self,
        IMembership membership,
        IPolicy policy,
        IReceivableToken receivables,
        IDigitalRMB ecny,
        ICoverBook cover,
        IPrudential prudential,
        uint256 loanId
    ) external returns (Default memory d) {
        Core memory c = self.core[loanId];
        if (c.status != ILoanBook.Status.DISBURSED) revert ILoanBook.WrongLoanStatus(loanId, c.status);
        Clock memory k = self.clock[loanId];
        LoanState.Book memory b = LoanState.load(self, loanId, c.trancheCount);
        if (!membership.hasRoles(msg.sender, Roles.OPERATOR)) {
            membership.requireActive(msg.sender);
            if (!LoanState.isLender(b, msg.sender)) {
                revert ILoanBook.NotLenderOfLoan(loanId, msg.sender);
            }
        }
        uint256 earliest = uint256(k.maturityAt) + uint256(policy.params().defaultDays) * DAY;
        if (block.timestamp < earliest) {
            revert ILoanBook.DefaultTooEarly(loanId, uint64(block.timestamp), uint64(earliest));
        }
        LoanState.accrue(c, k, b);
        uint256 owed = LoanState.sum(b.outstanding);
        if (owed == 0) revert ILoanBook.NothingOutstanding(loanId);
        // Margins and the pool (DESIGN §6.2 steps 1–4); without layers, the pool alone.
        (d.coverFen, d.payer) = cover.onDefault(loanId, owed, msg.sender);
        d.principalFen = LoanState.principal(b, d.coverFen, true);
        LoanState.save(self, loanId, k, b);
        bool closed = d.coverFen == owed && k.interestDue == 0;
        self.core[loanId].status = closed ? ILoanBook.Status.REPAID : ILoanBook.Status.DEFAULTED;
        // A defaulted loan stops sweeping; one the cover repaid in full is released too.
        if (c.sweepBps != 0) _sweepRemove(self, ecny, c.borrower, loanId);
        if (closed) {
            LoanState.release(self, receivables, cover, prudential, loanId, c.borrower, b, msg.sender);
        }
        d.lenders = b.lenders;
        d.lossFen = owed - d.coverFen;
        d.interestDueFen = k.interestDue;
        // The tech partner's book (DESIGN §6.6): the cover leaves it, the rest is defaulted.
        if (c.feeShareBps != 0) prudential.defaulted(loanId, d.coverFen, d.lossFen);
    }

    /// @notice Take `loanId` out of `borrower`'s sweep queue; the next oldest sweeps instead.
    function sweepRemove(Loans storage self, IDigitalRMB ecny, address borrower, uint256 loanId)
        external
    {
        _sweepRemove(self, ecny, borrower, loanId);
    }

    function _sweepRemove(Loans storage self, IDigitalRMB ecny, address borrower, uint256 loanId)
        private
    {
        uint256 prev = self.sweepPrev[loanId];
        uint256 next = self.sweepNext[loanId];
        if (prev == 0) self.sweepHead[borrower] = next;
        else self.sweepNext[prev] = next;
        if (next == 0) self.sweepTail[borrower] = prev;
        else self.sweepPrev[next] = prev;
        delete self.sweepPrev[loanId];
        delete self.sweepNext[loanId];
        if (prev == 0) ecny.setSweep(borrower, next, next == 0 ? 0 : self.core[next].sweepBps);
    }

    function _sweepAdd(
        Loans storage self,
        IDigitalRMB ecny,
        address borrower,
        uint256 loanId,
        uint16 sweepBps
    ) private {
        uint256 tail = self.sweepTail[borrower];
        self.sweepTail[borrower] = loanId;
        if (tail == 0) {
            self.sweepHead[borrower] = loanId;
            ecny.setSweep(borrower, loanId, sweepBps);
        } else {
            self.sweepNext[tail] = loanId;
            self.sweepPrev[loanId] = tail;
        }
    }

    function _notExpired(Loans storage self, uint256 loanId) private view {
        uint256 expiresAt = self.details[loanId].expiresAt;
        if (block.timestamp > expiresAt) {
            revert ILoanBook.ProposalExpired(loanId, uint64(expiresAt), uint64(block.timestamp));
        }
    }

    /// @dev The terms against the policy in force now (a regulator may have tightened it
    /// since the proposal): rate + penalty, fee share, the originator's share.
    function _recheck(Loans storage self, uint256 loanId, IPolicy.Params memory p) private view {
        Core storage c = self.core[loanId];
        Compliance.checkRates(c.rateBps, self.clock[loanId].penaltyBps, c.feeShareBps, p);
        address originator = self.details[loanId].originator;
        uint256 n = c.trancheCount;
        uint256 originatorAmount;
        for (uint256 i = 0; i < n; ++i) {
            if (self.slots[loanId][i].lender == originator) originatorAmount += self.amounts[loanId][i];
        }
        Compliance.checkOriginatorShare(originatorAmount, self.details[loanId].principal, p);
    }
}
