// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "../interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "../interfaces/IDigitalRMB.sol";
import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {ILoanBookLinks} from "../interfaces/ILoanBookLinks.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPrudential} from "../interfaces/IPrudential.sol";
import {AuditKinds} from "./AuditKinds.sol";
import {LoanState} from "./LoanState.sol";
import {Clock, Core, Loans, Slot} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";
import {Waterfall} from "./Waterfall.sol";

/// @title LoanStages — staged drawdown (分期提款, DESIGN §6.4)
/// @notice Lenders fund whole tranches up front; the undrawn money stays in the loan book.
/// Stage 0 is paid at disbursement, stage k ≥ 1 when the borrower draws it (`draw`), from its
/// day and before maturity, to its own payees only. Each stage's amount is drawn from the
/// tranches pro rata by commitment, so a tranche's outstanding principal is what was drawn
/// from it less what was repaid and interest accrues on that alone. Undrawn stages lapse
/// (`lapse`): each tranche's undrawn money goes back to its lender, by a party of the loan
/// from maturity on, or by themselves when the loan is repaid or defaulted. The prudential
/// books (DESIGN §6.6) count a staged loan's committed principal; a lapse takes the money
/// that went back off them (`IPrudential.lapsed`).
/// @dev The external functions run inside the loan book by DELEGATECALL (linked at
/// deployment) and do the whole action there — rules, state, e-CNY, event and audit entry —
/// so the book itself only forwards. The internal ones (proposal, disbursement) are inlined
/// into LoanOrigination and LoanLifecycle.
library LoanStages {
    uint256 internal constant MAX_STAGES = 8;
    uint256 internal constant DAY = 86_400;
    /// @notice `run` operations: CLOSE, LAPSE, or DRAW + the stage to draw.
    uint256 internal constant CLOSE = 0;
    uint256 internal constant LAPSE = 1;
    uint256 internal constant DRAW = 2;

    /*//////////////////////////////////////////////////////////////
                      PROPOSAL AND DISBURSEMENT (inlined)
    //////////////////////////////////////////////////////////////*/

    /// @notice Store the payees and stages of a staged proposal (its payees checked): stage
    /// 0's payees where an unstaged loan keeps all of its payees, the others by stage; every
    /// stage up to the last pays something, every stage k ≥ 1 has a day before maturity.
    function store(
        Loans storage self,
        uint256 loanId,
        uint256 termDays,
        address[] memory payees,
        uint256[] memory amounts,
        uint256[] memory payeeStages,
        uint256[] memory stageDays
    ) internal {
        uint256 count = stageDays.length + 1;
        if (count > MAX_STAGES) revert ILoanBook.TooManyStages(count, MAX_STAGES);
        if (payeeStages.length != payees.length) {
            revert ILoanBook.StagesMismatch(payees.length, payeeStages.length);
        }
        uint256[] memory totals = new uint256[](count);
        for (uint256 i = 0; i < payees.length; ++i) {
            uint256 stage = payeeStages[i];
            if (stage >= count) revert ILoanBook.StageWithoutDay(stage);
            totals[stage] += amounts[i];
            if (stage == 0) {
                self.payees[loanId].push(payees[i]);
                self.payeeAmounts[loanId].push(amounts[i]);
            } else {
                self.stagePayees[loanId][stage].push(payees[i]);
                self.stagePayeeAmounts[loanId][stage].push(amounts[i]);
            }
        }
        ILoanBook.Stage[] storage stages = self.stages[loanId];
        for (uint256 k = 0; k < count; ++k) {
            if (totals[k] == 0) revert ILoanBook.StageWithoutPayees(k);
            uint256 day = k == 0 ? 0 : stageDays[k - 1];
            if (k != 0 && day >= termDays) {
                revert ILoanBook.StageDayNotBeforeMaturity(k, day, termDays);
            }
            // day < termDays ≤ 3650; totals sum to the principal, checked ≤ 2^64 − 1
            stages.push(ILoanBook.Stage(uint16(day), uint72(totals[k]), 0, false));
        }
    }

    /// @notice At disbursement: stage 0 is drawn, pro rata by commitment; the rest of each
    /// tranche stays undrawn in the book.
    function start(Loans storage self, uint256 loanId, uint256 n, uint256 nowAt) internal {
        ILoanBook.Stage storage first = self.stages[loanId][0];
        uint256[] memory parts = _parts(self, loanId, n, first.amountFen);
        for (uint256 i = 0; i < n; ++i) {
            Slot storage s = self.slots[loanId][i];
            // A part of a stage ≤ the tranche's commitment, itself a uint72
            s.outstanding = uint72(parts[i]);
            self.undrawn[loanId][i] = self.amounts[loanId][i] - parts[i];
        }
        first.drawnAt = uint40(nowAt);
    }

    /*//////////////////////////////////////////////////////////////
                              DRAW AND LAPSE
    //////////////////////////////////////////////////////////////*/

    /// @notice `op`: DRAW + a stage to draw (ILoanBook.draw, by the borrower), LAPSE (ILoanBook.lapse,
    /// by a party of the loan from maturity on) or CLOSE (the loan was repaid or defaulted:
    /// its undrawn stages lapse, if any). `actor` is the caller, or at CLOSE whoever closed it.
    /// @dev One entry point, so the book has one call site to link. The member register, the
    /// e-CNY and the trail are read from the book (this code runs in it; a call to itself is
    /// warm): passing the book's immutables instead would cost it 121 bytes of code.
    function run(Loans storage self, IPrudential prudential, uint256 loanId, uint256 op, address actor)
        external
    {
        if (self.core[loanId].status == ILoanBook.Status.NONE) revert ILoanBook.UnknownLoan(loanId);
        ILoanBookLinks book = ILoanBookLinks(address(this));
        IDigitalRMB ecny = book.ecny();
        IAuditTrail trail = book.auditTrail();
        if (op == CLOSE) {
            _lapse(self, ecny, trail, prudential, loanId, actor);
            return;
        }
        IMembership membership = book.membership();
        if (op == LAPSE) _lapseByParty(self, membership, ecny, trail, prudential, loanId);
        else _draw(self, membership, ecny, trail, loanId, op - DRAW);
    }

    function _draw(
        Loans storage self,
        IMembership membership,
        IDigitalRMB ecny,
        IAuditTrail trail,
        uint256 loanId,
        uint256 stage
    ) private {
        Core memory c = self.core[loanId];
        if (msg.sender != c.borrower) revert ILoanBook.NotBorrower(loanId, msg.sender, c.borrower);
        membership.requireActive(msg.sender);
        if (c.status != ILoanBook.Status.DISBURSED) revert ILoanBook.WrongLoanStatus(loanId, c.status);
        uint256 amount = _due(self, loanId, stage);
        address[] memory payees = self.stagePayees[loanId][stage];
        // A targeted payment is never held: every payee of the stage must be active.
        membership.requireAllActive(payees);
        // Interest and coupons accrue to now on the drawn outstanding (with their sub-fen
        // carries, as a settlement does), then the draw adds to it. A draw comes before
        // maturity, so no penalty accrues.
        uint256 n = c.trancheCount;
        Clock memory k = self.clock[loanId];
        LoanState.Book memory b = LoanState.load(self, loanId, n);
        LoanState.accrue(c, k, b);
        uint256[] memory parts = _parts(self, loanId, n, amount);
        for (uint256 i = 0; i < n; ++i) {
            // outstanding + part ≤ the tranche's commitment, a uint72
            b.outstanding[i] += parts[i];
            self.undrawn[loanId][i] -= parts[i];
        }
        LoanState.save(self, loanId, k, b);
        self.stages[loanId][stage].drawnAt = uint40(block.timestamp);
        uint256[] memory amounts = self.stagePayeeAmounts[loanId][stage];
        ecny.engineSplit(address(this), payees, amounts);
        emit ILoanBook.StageDrawn(loanId, stage, msg.sender, amount, parts, payees, amounts);
        trail.append(
            AuditKinds.LOAN_STAGE_DRAWN,
            msg.sender,
            loanId,
            keccak256(abi.encode(loanId, stage, msg.sender, amount, parts, payees, amounts))
        );
    }

    function _lapseByParty(
        Loans storage self,
        IMembership membership,
        IDigitalRMB ecny,
        IAuditTrail trail,
        IPrudential prudential,
        uint256 loanId
    ) private {
        Core storage c = self.core[loanId];
        if (c.status != ILoanBook.Status.DISBURSED) revert ILoanBook.WrongLoanStatus(loanId, c.status);
        membership.requireActive(msg.sender);
        if (
            msg.sender != c.borrower && !_isLender(self, loanId, c.trancheCount, msg.sender)
                && !membership.hasRoles(msg.sender, Roles.OPERATOR)
        ) revert ILoanBook.NotPartyToLoan(loanId, msg.sender);
        uint256 maturityAt = self.clock[loanId].maturityAt;
        if (block.timestamp < maturityAt) {
            revert ILoanBook.LapseBeforeMaturity(loanId, uint64(maturityAt), uint64(block.timestamp));
        }
        if (!_lapse(self, ecny, trail, prudential, loanId, msg.sender)) {
            revert ILoanBook.NothingToLapse(loanId);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The amount of stage `stage` if it may be drawn now; otherwise the refusal.
    function _due(Loans storage self, uint256 loanId, uint256 stage) private view returns (uint256) {
        ILoanBook.Stage[] storage stages = self.stages[loanId];
        uint256 count = stages.length == 0 ? 1 : stages.length;
        if (stage >= count) revert ILoanBook.UnknownStage(loanId, stage, count);
        Clock storage k = self.clock[loanId];
        if (stages.length == 0) revert ILoanBook.StageAlreadyDrawn(loanId, 0, k.disbursedAt);
        ILoanBook.Stage memory s = stages[stage];
        if (s.drawnAt != 0) revert ILoanBook.StageAlreadyDrawn(loanId, stage, s.drawnAt);
        if (s.lapsed || block.timestamp >= k.maturityAt) {
            revert ILoanBook.StageLapsed(loanId, stage, k.maturityAt);
        }
        uint256 dueAt = uint256(k.disbursedAt) + uint256(s.day) * DAY;
        if (block.timestamp < dueAt) {
            revert ILoanBook.StageNotYetDue(loanId, stage, uint64(dueAt), uint64(block.timestamp));
        }
        return s.amountFen;
    }

    /// @dev Split `amount` over the tranches pro rata by commitment (largest remainder, ties
    /// to the lower index). Where rounding would draw a tranche beyond its undrawn money, the
    /// split is by undrawn money instead: it never overdraws (amount ≤ Σ undrawn), and for the
    /// last stage left it is exactly what each tranche has left.
    function _parts(Loans storage self, uint256 loanId, uint256 n, uint256 amount)
        private
        view
        returns (uint256[] memory parts)
    {
        uint256[] memory committed = new uint256[](n);
        uint256[] memory undrawn = new uint256[](n);
        bool first = self.stages[loanId][0].drawnAt == 0;
        for (uint256 i = 0; i < n; ++i) {
            committed[i] = self.amounts[loanId][i];
            undrawn[i] = first ? committed[i] : self.undrawn[loanId][i];
        }
        parts = new uint256[](n);
        Waterfall.addProRata(amount, committed, parts);
        for (uint256 i = 0; i < n; ++i) {
            if (parts[i] > undrawn[i]) {
                parts = new uint256[](n);
                Waterfall.addProRata(amount, undrawn, parts);
                break;
            }
        }
    }

    /// @dev Lapse every stage neither drawn nor lapsed; refund each tranche's undrawn money.
    /// False when there was none.
    function _lapse(
        Loans storage self,
        IDigitalRMB ecny,
        IAuditTrail trail,
        IPrudential prudential,
        uint256 loanId,
        address actor
    ) private returns (bool) {
        uint256[] memory lapsed = _markLapsed(self, loanId);
        if (lapsed.length == 0) return false;
        (address[] memory lenders, uint256[] memory refunds) = _undrawn(self, loanId);
        // The money going back leaves the prudential books, which counted it as committed.
        prudential.lapsed(loanId, self.core[loanId].borrower, lenders, refunds);
        // A lender that is not active is refunded into its held balance (DESIGN §6.1).
        ecny.engineSplit(address(this), lenders, refunds);
        emit ILoanBook.StagesLapsed(loanId, actor, lapsed, refunds);
        trail.append(
            AuditKinds.LOAN_STAGES_LAPSED,
            actor,
            loanId,
            keccak256(abi.encode(loanId, actor, lapsed, refunds))
        );
        return true;
    }

    /// @dev Mark every stage neither drawn nor lapsed as lapsed; returns them.
    function _markLapsed(Loans storage self, uint256 loanId)
        private
        returns (uint256[] memory lapsed)
    {
        ILoanBook.Stage[] storage stages = self.stages[loanId];
        uint256 count = stages.length;
        lapsed = new uint256[](count);
        uint256 m;
        for (uint256 k = 0; k < count; ++k) {
            ILoanBook.Stage storage s = stages[k];
            if (s.drawnAt == 0 && !s.lapsed) {
                s.lapsed = true;
                lapsed[m++] = k;
            }
        }
        // Shrink to the stages lapsed; m ≤ count by construction.
        assembly ("memory-safe") {
            mstore(lapsed, m)
        }
    }

    /// @dev Each tranche's lender and undrawn money, which is taken out (set to zero).
    function _undrawn(Loans storage self, uint256 loanId)
        private
        returns (address[] memory lenders, uint256[] memory refunds)
    {
        uint256 n = self.core[loanId].trancheCount;
        lenders = new address[](n);
        refunds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            lenders[i] = self.slots[loanId][i].lender;
            refunds[i] = self.undrawn[loanId][i];
            self.undrawn[loanId][i] = 0;
        }
    }

    function _isLender(Loans storage self, uint256 loanId, uint256 n, address account)
        private
        view
        returns (bool)
    {
        for (uint256 i = 0; i < n; ++i) {
            if (self.slots[loanId][i].lender == account) return true;
        }
        return false;
    }
}
