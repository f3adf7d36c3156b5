// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICoverBook} from "../interfaces/ICoverBook.sol";
import {IPrudential} from "../interfaces/IPrudential.sol";
import {IReceivableToken} from "../interfaces/IReceivableToken.sol";
import {Clock, Core, Coupon, Loans, Slot} from "./LoanStorage.sol";
import {Waterfall} from "./Waterfall.sol";

/// @title LoanState — one loan's working set in memory: load, accrue, pay principal, save
/// @notice Internal functions shared by the loan book's settlement and the default in
/// `LoanLifecycle` (both write the book's storage: the library by DELEGATECALL), so the two
/// accrue and allocate principal by the same code (DESIGN §3, §4.5, §4.6).
library LoanState {
    uint256 internal constant DAY = 86_400;

    /// @dev The working set of one settlement, in memory.
    struct Book {
        uint256 n;
        address[] lenders;
        bool[] senior;
        uint256[] coupon;
        uint256[] outstanding;
        uint256[] couponDue;
        uint256[] couponCarry;
        uint256 carryInterest;
        uint256 carryPenalty;
        bool hasJunior;
    }

    function load(Loans storage self, uint256 loanId, uint256 n)
        internal
        view
        returns (Book memory b)
    {
        b.n = n;
        b.lenders = new address[](n);
        b.senior = new bool[](n);
        b.coupon = new uint256[](n);
        b.outstanding = new uint256[](n);
        b.couponDue = new uint256[](n);
        b.couponCarry = new uint256[](n);
        uint256 carry = self.carry[loanId];
        b.carryInterest = uint128(carry);
        b.carryPenalty = carry >> 128;
        for (uint256 i = 0; i < n; ++i) {
            Slot memory s = self.slots[loanId][i];
            b.lenders[i] = s.lender;
            b.senior[i] = s.senior;
            b.coupon[i] = s.couponBps;
            b.outstanding[i] = s.outstanding;
            if (s.senior) {
                Coupon memory cp = self.couponDue[loanId][i];
                b.couponDue[i] = cp.due;
                b.couponCarry[i] = cp.carry;
            } else {
                b.hasJunior = true;
            }
        }
    }

    function save(Loans storage self, uint256 loanId, Clock memory k, Book memory b) internal {
        self.clock[loanId] = k;
        // Carries are below 10000 × 31,536,000 < 2^39; a coupon due is below the uint80
        // interest bound (a senior's coupon never exceeds the borrower's rate).
        self.carry[loanId] = b.carryInterest | b.carryPenalty << 128;
        for (uint256 i = 0; i < b.n; ++i) {
            Slot storage s = self.slots[loanId][i];
            // outstanding only decreases from a uint72 principal
            s.outstanding = uint72(b.outstanding[i]);
            if (b.senior[i]) {
                self.couponDue[loanId][i] =
                    Coupon(uint128(b.couponDue[i]), uint128(b.couponCarry[i]));
            }
        }
    }

    /// @dev Accrue borrower interest, penalty and senior coupons from the last checkpoint,
    /// each stream carrying its sub-fen remainder to the next (DESIGN §3).
    function accrue(Core memory c, Clock memory k, Book memory b) internal view {
        uint256 t = block.timestamp;
        uint256 from = k.accruedTo;
        if (t <= from) return;
        uint256 dt = t - from;
        uint256 owed = sum(b.outstanding);
        uint256 add;
        (add, b.carryInterest) = Waterfall.accrue(owed, c.rateBps, dt, b.carryInterest);
        uint256 due = k.interestDue + add;
        if (k.penaltyBps != 0) {
            uint256 start = uint256(k.maturityAt) + uint256(k.graceDays) * DAY;
            (add, b.carryPenalty) = Waterfall.accrue(
                owed, k.penaltyBps, Waterfall.overlap(from, t, start), b.carryPenalty
            );
            due += add;
        }
        // Unreachable by the principal cap at proposal; checked all the same, never truncated.
        k.interestDue = SafeCast.toUint80(due);
        k.accruedTo = uint40(t);
        for (uint256 i = 0; i < b.n; ++i) {
            if (b.senior[i]) {
                (add, b.couponCarry[i]) =
                    Waterfall.accrue(b.outstanding[i], b.coupon[i], dt, b.couponCarry[i]);
                b.couponDue[i] += add;
            }
        }
    }

    /// @dev Allocate principal `y` (≤ outstanding): sequential — seniors in listed order up
    /// to their outstanding, then juniors pro rata; otherwise all tranches pro rata.
    function principal(Book memory b, uint256 y, bool sequential)
        internal
        pure
        returns (uint256[] memory paid)
    {
        paid = new uint256[](b.n);
        if (y == 0) return paid;
        uint256[] memory weights = new uint256[](b.n);
        for (uint256 i = 0; i < b.n; ++i) {
            if (sequential && b.senior[i]) {
                uint256 p = y < b.outstanding[i] ? y : b.outstanding[i];
                paid[i] = p;
                y -= p;
            } else {
                weights[i] = b.outstanding[i];
            }
        }
        Waterfall.addProRata(y, weights, paid);
        for (uint256 i = 0; i < b.n; ++i) {
            b.outstanding[i] -= paid[i];
        }
    }

    /// @dev A loan fully repaid: its holders' exposure to the borrower goes (each tranche's
    /// amount, or, once the tranche has moved, what its holder booked: DESIGN §6.3), and in
    /// the prudential books, which moved with every sale, to its group and in their books;
    /// its receivables are released and its cover layers' margins (if still held) go back.
    function release(
        Loans storage self,
        IReceivableToken receivables,
        ICoverBook cover,
        IPrudential prudential,
        uint256 loanId,
        address borrower,
        Book memory b,
        address actor
    ) internal {
        uint256 moved = self.movedMask[loanId];
        for (uint256 i = 0; i < b.n; ++i) {
            self.exposure[b.lenders[i]][borrower] -=
                moved >> i & 1 == 0 ? self.amounts[loanId][i] : self.booked[loanId][i];
        }
        prudential.release(loanId, borrower);
        receivables.release(loanId, actor, self.receivableIds[loanId]);
        cover.release(loanId, actor);
    }

    function isLender(Book memory b, address account) internal pure returns (bool) {
        for (uint256 i = 0; i < b.n; ++i) {
            if (b.lenders[i] == account) return true;
        }
        return false;
    }

    function sum(uint256[] memory xs) internal pure returns (uint256 total) {
        for (uint256 i = 0; i < xs.length; ++i) {
            total += xs[i];
        }
    }
}
