// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanBook} from "../interfaces/ILoanBook.sol";

// Storage layout of the loan book, shared with the libraries that run inside it
// (LoanOrigination and LoanLifecycle are called by DELEGATECALL and write these very slots).

/// @dev Hot word 1: read by every settlement, written on status changes.
struct Core {
    address borrower;
    ILoanBook.Status status;
    uint8 trancheCount;
    ILoanBook.Mode mode;
    uint8 fundedMask;
    uint16 feeShareBps;
    uint16 provisionShareBps;
    uint16 sweepBps;
    uint16 rateBps;
}

/// @dev Hot word 2: read and written by every settlement.
struct Clock {
    uint40 accruedTo;
    uint80 interestDue;
    uint40 maturityAt;
    uint40 disbursedAt;
    uint16 penaltyBps;
    uint16 graceDays;
    uint16 termDays;
}

/// @dev One word per tranche.
struct Slot {
    address lender;
    bool senior;
    uint16 couponBps;
    uint72 outstanding;
}

/// @dev Cold details. `expiresAt`: the proposal's deadline; until disbursement, nothing
/// happens to the loan after it but its cancellation (by any of its lenders too).
struct Details {
    address originator;
    uint40 expiresAt;
    address techPartner;
    bytes32 termsHash;
    uint256 principal;
}

/// @dev A senior tranche's unpaid coupon and the sub-fen remainder of its accrual, in
/// units of 1 / (10000 × 31,536,000) fen (DESIGN §3: the floor never loses interest).
struct Coupon {
    uint128 due;
    uint128 carry;
}

/// @dev Everything the loan book stores.
struct Loans {
    mapping(uint256 loanId => Core) core;
    mapping(uint256 loanId => Clock) clock;
    mapping(uint256 loanId => mapping(uint256 index => Slot)) slots;
    mapping(uint256 loanId => mapping(uint256 index => Coupon)) couponDue;
    mapping(uint256 loanId => mapping(uint256 index => uint256)) amounts;
    mapping(uint256 loanId => Details) details;
    mapping(uint256 loanId => uint256[]) receivableIds;
    mapping(uint256 loanId => address[]) payees;
    mapping(uint256 loanId => uint256[]) payeeAmounts;
    mapping(address lender => mapping(address borrower => uint256)) exposure;
    // Sweeping loans per borrower, oldest first (a doubly linked list of loan ids).
    mapping(address borrower => uint256) sweepHead;
    mapping(address borrower => uint256) sweepTail;
    mapping(uint256 loanId => uint256) sweepNext;
    mapping(uint256 loanId => uint256) sweepPrev;
    uint256 nextLoanId;
    // Sub-fen remainders of borrower interest (low 128 bits) and penalty (high 128 bits).
    mapping(uint256 loanId => uint256) carry;
    // Staged drawdown (DESIGN §6.4), for staged loans only: their stages (stage 0's payees
    // are `payees` above), the payees of stages k ≥ 1, and each tranche's undrawn money.
    mapping(uint256 loanId => ILoanBook.Stage[]) stages;
    mapping(uint256 loanId => mapping(uint256 stage => address[])) stagePayees;
    mapping(uint256 loanId => mapping(uint256 stage => uint256[])) stagePayeeAmounts;
    mapping(uint256 loanId => mapping(uint256 index => uint256)) undrawn;
    // Tranches that changed holder (DESIGN §6.3, §6.5): bit i set once tranche i moved; its
    // holder's exposure booking is then `booked`, not the tranche's amount.
    mapping(uint256 loanId => uint256) movedMask;
    mapping(uint256 loanId => mapping(uint256 index => uint256)) booked;
}
