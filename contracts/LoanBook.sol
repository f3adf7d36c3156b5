// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {ICoverBook} from "./interfaces/ICoverBook.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanBook} from "./interfaces/ILoanBook.sol";
import {ILoanReceipts} from "./interfaces/ILoanReceipts.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {IPrudential} from "./interfaces/IPrudential.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";
import {LoanLifecycle} from "./libraries/LoanLifecycle.sol";
import {LoanOrigination} from "./libraries/LoanOrigination.sol";
import {LoanStages} from "./libraries/LoanStages.sol";
import {LoanState} from "./libraries/LoanState.sol";
import {Clock, Core, Details, Loans} from "./libraries/LoanStorage.sol";
import {TrancheTransfer} from "./libraries/TrancheTransfer.sol";
import {Waterfall} from "./libraries/Waterfall.sol";

/// @title LoanBook — joint loans and their repayment waterfall
/// @notice See ILoanBook. Money never rests here except between funding and disbursement
/// (or a cancellation's refund) and, for a staged loan, until its stages are drawn or lapse:
/// receipts go straight from the payer to the waterfall's payees in one e-CNY call, so this
/// contract's e-CNY balance always equals the funding it holds for loans not yet disbursed
/// plus the undrawn stages of staged ones (LoanStages).
/// @dev A settlement touches two storage words of the loan (terms; clock) and one per
/// tranche (lender, class, coupon and outstanding packed), plus one per senior for its
/// unpaid coupon. Everything else about a loan is cold: read at proposal, funding,
/// disbursement and close only.
contract LoanBook is ILoanBook, AuditedEngine, ReentrancyGuardTransient {
    uint256 public constant MAX_TRANCHES = 8;
    uint256 private constant BPS = 10_000;

    /// @dev One settlement, field for field the LoanSettled event.
    struct Receipt {
        uint256 loanId;
        Source source;
        address payer;
        uint256 amount;
        uint256 fee;
        uint256 provision;
        uint256[] interest;
        uint256[] principal;
        uint256 residual;
        address residualTo;
        bool repaid;
    }

    IMembership public immutable membership;
    IDigitalRMB public immutable ecny;
    IReceivableToken public immutable receivables;
    IPolicy public immutable policy;
    /// @notice The provision pool (an e-CNY holder the loan book pays into and draws on).
    address public immutable pool;
    /// @dev The one contract that may move a tranche to a new holder (DESIGN §6.3, §6.5).
    address private immutable _trancheMarket;
    /// @dev The cover layers of loans (DESIGN §6.2): hooked in at proposal, funding,
    /// default, close and every receipt after a default.
    ICoverBook private immutable _cover;
    /// @dev The prudential rules of DESIGN §6.6 and their books.
    IPrudential private immutable _prudential;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    Loans private _l;

    constructor(
        IAuditTrail trail,
        IMembership members,
        IDigitalRMB ecny_,
        IReceivableToken receivables_,
        IPolicy policy_,
        address pool_,
        address trancheMarket_,
        ICoverBook cover_,
        IPrudential prudential_
    ) AuditedEngine(trail) {
        membership = members;
        ecny = ecny_;
        receivables = receivables_;
        policy = policy_;
        pool = pool_;
        _trancheMarket = trancheMarket_;
        _cover = cover_;
        _prudential = prudential_;
        _l.nextLoanId = 1;
    }

    /*//////////////////////////////////////////////////////////////
                               ORIGINATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ILoanBook
    function propose(bytes calldata terms) external nonReentrant returns (uint256 loanId) {
        membership.requireRole(msg.sender, Roles.LENDER);
        address borrower;
        bytes32 termsHash;
        (loanId, borrower, termsHash) =
            LoanOrigination.propose(_l, membership, policy, _cover, _prudential, terms);
        emit LoanProposed(loanId, msg.sender, borrower, terms, termsHash);
        _audit(
            AuditKinds.LOAN_PROPOSED,
            loanId,
            keccak256(abi.encode(loanId, msg.sender, borrower, terms, termsHash))
        );
    }

    /// @inheritdoc ILoanBook
    function accept(uint256 loanId, bytes32 termsHash) external nonReentrant {
        Core storage c = _existing(loanId);
        if (msg.sender != c.borrower) revert NotBorrower(loanId, msg.sender, c.borrower);
        membership.requireActive(msg.sender);
        if (c.status != Status.PROPOSED) revert WrongLoanStatus(loanId, c.status);
        uint256 expiresAt = _l.details[loanId].expiresAt;
        if (block.timestamp > expiresAt) {
            revert ProposalExpired(loanId, uint64(expiresAt), uint64(block.timestamp));
        }
        bytes32 expected = _l.details[loanId].termsHash;
        if (termsHash != expected) revert TermsMismatch(loanId, expected, termsHash);
        c.status = Status.ACCEPTED;
        receivables.pledge(loanId, msg.sender, _l.receivableIds[loanId]);
        emit LoanAccepted(loanId, msg.sender, termsHash);
        _audit(AuditKinds.LOAN_ACCEPTED, loanId, keccak256(abi.encode(loanId, msg.sender, termsHash)));
    }

    /// @inheritdoc ILoanBook
    function fund(uint256 loanId) external nonReentrant {
        _existing(loanId);
        (uint256 amount, bool full) = LoanLifecycle.fund(_l, policy, _cover, _prudential, loanId);
        ecny.engineTransfer(msg.sender, address(this), amount);
        emit LoanFunded(loanId, msg.sender, amount, full);
        _audit(AuditKinds.LOAN_FUNDED, loanId, keccak256(abi.encode(loanId, msg.sender, amount, full)));
    }

    /// @inheritdoc ILoanBook
    function disburse(uint256 loanId) external nonReentrant {
        _existing(loanId);
        (uint64 nowAt, uint64 maturityAt) =
            LoanLifecycle.disburse(_l, membership, policy, receivables, ecny, _prudential, loanId);
        address[] memory payees = _l.payees[loanId];
        uint256[] memory amounts = _l.payeeAmounts[loanId];
        ecny.engineSplit(address(this), payees, amounts);
        emit LoanDisbursed(loanId, msg.sender, nowAt, maturityAt, payees, amounts);
        _audit(
            AuditKinds.LOAN_DISBURSED,
            loanId,
            keccak256(abi.encode(loanId, msg.sender, nowAt, maturityAt, payees, amounts))
        );
    }

    /// @inheritdoc ILoanBook
    function cancel(uint256 loanId) external nonReentrant {
        _existing(loanId);
        (address[] memory lenders, uint256[] memory refunds, uint256 refunded) =
            LoanLifecycle.cancel(_l, membership, receivables, _prudential, loanId);
        // A lender that is not active is refunded into its held balance (DESIGN §6.1).
        if (refunded != 0) ecny.engineSplit(address(this), lenders, refunds);
        _cover.release(loanId, msg.sender);
        emit LoanCancelled(loanId, msg.sender, refunded);
        _audit(AuditKinds.LOAN_CANCELLED, loanId, keccak256(abi.encode(loanId, msg.sender, refunded)));
    }

    /*//////////////////////////////////////////////////////////////
                                RECEIPTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ILoanBook
    function repay(uint256 loanId, uint256 amountFen) external nonReentrant {
        Core memory c = _existing(loanId);
        _settle(loanId, c, msg.sender, amountFen, c.borrower, Source.REPAYMENT);
    }

    /// @inheritdoc ILoanBook
    function repayMany(uint256[] calldata loanIds, uint256[] calldata amountsFen)
        external
        nonReentrant
    {
        if (loanIds.length != amountsFen.length) {
            revert ReceiptsMismatch(loanIds.length, amountsFen.length);
        }
        // An empty batch would succeed as a no-op for anyone, member or not.
        if (loanIds.length == 0) revert EmptyBatch();
        for (uint256 i = 0; i < loanIds.length; ++i) {
            Core memory c = _existing(loanIds[i]);
            _settle(loanIds[i], c, msg.sender, amountsFen[i], c.borrower, Source.REPAYMENT);
        }
    }

    /// @inheritdoc ILoanReceipts
    function settleReceivablePayment(
        uint256 loanId,
        uint256 receivableId,
        address payer,
        address holder,
        uint256 amountFen
    ) external nonReentrant {
        if (msg.sender != address(receivables)) revert NotReceivableToken(msg.sender);
        Core memory c = _existing(loanId);
        // Pledged but not yet disbursed: the collateral must not leave before the loan exists.
        if (c.status != Status.DISBURSED && c.status != Status.DEFAULTED) {
            revert PaymentBeforeDisbursement(loanId, receivableId, c.status);
        }
        _settle(loanId, c, payer, amountFen, holder, Source.RECEIVABLE);
    }

    /// @inheritdoc ILoanReceipts
    function settleSweep(uint256 loanId, address payer, uint256 amountFen) external nonReentrant {
        if (msg.sender != address(ecny)) revert NotTokenContract(msg.sender);
        Core memory c = _existing(loanId);
        _settle(loanId, c, payer, amountFen, c.borrower, Source.SWEEP);
    }

    /// @inheritdoc ILoanReceipts
    function settleCover(uint256 loanId, address payer, uint256 amountFen) external nonReentrant {
        if (msg.sender != address(_cover)) revert NotCoverBook(msg.sender);
        Core memory c = _existing(loanId);
        _settle(loanId, c, payer, amountFen, payer, Source.COVER);
    }

    /// @inheritdoc ILoanBook
    function declareDefault(uint256 loanId) external nonReentrant {
        _existing(loanId);
        LoanLifecycle.Default memory d = LoanLifecycle.declareDefault(
            _l, membership, policy, receivables, ecny, _cover, _prudential, loanId
        );
        if (d.coverFen != 0) ecny.engineSplit(d.payer, d.lenders, d.principalFen);
        emit LoanDefaulted(
            loanId, msg.sender, d.coverFen, d.principalFen, d.lossFen, d.interestDueFen
        );
        _audit(
            AuditKinds.LOAN_DEFAULTED,
            loanId,
            keccak256(
                abi.encode(
                    loanId, msg.sender, d.coverFen, d.principalFen, d.lossFen, d.interestDueFen
                )
            )
        );
        _lapseStages(loanId, msg.sender);
    }

    /// @inheritdoc ILoanBook
    function draw(uint256 loanId, uint256 stage) external nonReentrant {
        _stages(loanId, stage + LoanStages.DRAW, msg.sender);
    }

    /// @inheritdoc ILoanBook
    function lapse(uint256 loanId) external nonReentrant {
        _stages(loanId, LoanStages.LAPSE, msg.sender);
    }

    /// @inheritdoc ILoanBook
    /// @dev Unguarded against reentry on purpose (and for the book's size): it moves no
    /// value and calls out only to views; its one caller, the market, is guarded itself.
    function transferTranche(uint256 loanId, uint256 index, address from, address to) external {
        if (msg.sender != _trancheMarket) revert NotTrancheMarket(msg.sender);
        TrancheTransfer.transfer(_l, membership, policy, _prudential, ecny, loanId, index, from, to);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ILoanBook
    function loanOf(uint256 loanId) external view returns (LoanInfo memory info) {
        Core memory c = _existing(loanId);
        Clock memory k = _l.clock[loanId];
        Details memory d = _l.details[loanId];
        LoanState.Book memory b = LoanState.load(_l, loanId, c.trancheCount);
        if (c.status == Status.DISBURSED || c.status == Status.DEFAULTED) LoanState.accrue(c, k, b);
        info = LoanInfo({
            status: c.status,
            originator: d.originator,
            borrower: c.borrower,
            principalFen: d.principal,
            outstandingFen: LoanState.sum(b.outstanding),
            interestDueFen: k.interestDue,
            disbursedAt: k.disbursedAt,
            maturityAt: k.maturityAt,
            accruedTo: k.accruedTo,
            termsHash: d.termsHash,
            trancheCount: c.trancheCount,
            expiresAt: d.expiresAt
        });
    }

    /// @inheritdoc ILoanBook
    function termsOf(uint256 loanId) external view returns (Terms memory) {
        Core memory c = _existing(loanId);
        Clock memory k = _l.clock[loanId];
        return Terms({
            borrower: c.borrower,
            techPartner: _l.details[loanId].techPartner,
            rateBps: c.rateBps,
            penaltyBps: k.penaltyBps,
            termDays: k.termDays,
            graceDays: k.graceDays,
            feeShareBps: c.feeShareBps,
            provisionShareBps: c.provisionShareBps,
            sweepBps: c.sweepBps,
            mode: c.mode,
            expiryDays: 0
        });
    }

    /// @inheritdoc ILoanBook
    function trancheOf(uint256 loanId, uint256 index) external view returns (TrancheInfo memory) {
        Core memory c = _existing(loanId);
        LoanState.Book memory b = LoanState.load(_l, loanId, c.trancheCount);
        if (c.status == Status.DISBURSED || c.status == Status.DEFAULTED) {
            LoanState.accrue(c, _l.clock[loanId], b);
        }
        return TrancheInfo({
            lender: b.lenders[index],
            senior: b.senior[index],
            amountFen: _l.amounts[loanId][index],
            couponBps: uint16(b.coupon[index]),
            outstandingFen: b.outstanding[index],
            couponDueFen: b.couponDue[index],
            funded: c.fundedMask & (1 << index) != 0
        });
    }

    /// @inheritdoc ILoanBook
    function receivablesOf(uint256 loanId) external view returns (uint256[] memory) {
        return _l.receivableIds[loanId];
    }

    /// @inheritdoc ILoanBook
    function payeesOf(uint256 loanId) external view returns (address[] memory, uint256[] memory) {
        return (_l.payees[loanId], _l.payeeAmounts[loanId]);
    }

    /// @inheritdoc ILoanBook
    function exposureOf(address lender, address borrower) external view returns (uint256) {
        return _l.exposure[lender][borrower];
    }

    /// @inheritdoc ILoanBook
    function nextLoanId() external view returns (uint256) {
        return _l.nextLoanId;
    }

    /*//////////////////////////////////////////////////////////////
                          SETTLEMENT (DESIGN §4.5)
    //////////////////////////////////////////////////////////////*/

    function _settle(
        uint256 loanId,
        Core memory c,
        address payer,
        uint256 amount,
        address residualTo,
        Source source
    ) private {
        if (c.status != Status.DISBURSED && c.status != Status.DEFAULTED) {
            revert WrongLoanStatus(loanId, c.status);
        }
        if (amount == 0) revert ZeroReceipt(loanId);
        Receipt memory r;
        r.loanId = loanId;
        r.source = source;
        r.payer = payer;
        r.amount = amount;
        r.residualTo = residualTo;
        Clock memory k = _l.clock[loanId];
        LoanState.Book memory b = LoanState.load(_l, loanId, c.trancheCount);
        LoanState.accrue(c, k, b);
        uint256 owed = _split(r, c, k, b);
        LoanState.save(_l, loanId, k, b);
        r.repaid = r.amount - r.residual - LoanState.sum(r.interest) - r.fee - r.provision == owed
            && k.interestDue == 0;
        // After a default, what is left reimburses cover before the residual (DESIGN §6.2).
        if (c.status == Status.DEFAULTED && r.residual != 0) {
            r.residual -= _cover.reimburse(loanId, payer, r.residual);
        }
        if (r.repaid) {
            _l.core[loanId].status = Status.REPAID;
            _close(loanId, c, b, payer);
        }
        // DESIGN §6.6: the fee goes to the pool while the tech partner's loans' NPL is high.
        if (c.feeShareBps != 0 && _prudential.settled(loanId, owed - LoanState.sum(b.outstanding), r.fee)) {
            r.provision += r.fee;
            r.fee = 0;
        }
        uint256 swept = _pay(r, b);
        _record(r);
        // The residual is a payment into the recipient's wallet: another of its loans that
        // sweeps takes its share (DESIGN §4.2), as a receipt from the same payer.
        if (swept != 0) {
            uint256 sweepLoan = _l.sweepHead[residualTo];
            _settle(sweepLoan, _l.core[sweepLoan], payer, swept, residualTo, Source.SWEEP);
        }
    }

    function _record(Receipt memory r) private {
        emit LoanSettled(
            r.loanId,
            r.source,
            r.payer,
            r.amount,
            r.fee,
            r.provision,
            r.interest,
            r.principal,
            r.residual,
            r.residualTo,
            r.repaid
        );
        _auditAs(r.payer, AuditKinds.LOAN_SETTLED, r.loanId, _fieldsHash(abi.encode(r)));
    }

    /// @dev DESIGN §4.5 steps 2–4 on the accrued state; returns the principal owed before.
    function _split(Receipt memory r, Core memory c, Clock memory k, LoanState.Book memory b)
        private
        view
        returns (uint256 owed)
    {
        // A cover payment is principal only.
        uint256 x = r.source == Source.COVER ? 0 : r.amount < k.interestDue ? r.amount : k.interestDue;
        r.fee = x * c.feeShareBps / BPS;
        r.provision = x * c.provisionShareBps / BPS;
        r.interest = _interest(r.loanId, b, x - r.fee - r.provision);
        k.interestDue -= uint80(x);
        owed = LoanState.sum(b.outstanding);
        uint256 y = r.amount - x < owed ? r.amount - x : owed;
        // After a default, recoveries go seniors first whatever the mode (DESIGN §4.6).
        r.principal = LoanState.principal(b, y, c.mode == Mode.SEQUENTIAL || c.status == Status.DEFAULTED);
        r.residual = r.amount - x - y;
    }

    /// @dev keccak256 of a memory struct's fields ABI-encoded in order — what
    /// `abi.encode(field1, field2, …)` gives. `abi.encode(r)` of a struct with dynamic
    /// members starts with one extra word (the offset 0x20 of the tuple), skipped here.
    function _fieldsHash(bytes memory encoded) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(encoded, 0x40), sub(mload(encoded), 0x20))
        }
    }

    /// @dev Split the lenders' interest `l`: seniors' coupons due in listed order, then the
    /// rest pro rata to juniors by outstanding (all tranches if there is no junior; by
    /// original principal if those weights are all zero).
    function _interest(uint256 loanId, LoanState.Book memory b, uint256 l) private view returns (uint256[] memory paid) {
        paid = new uint256[](b.n);
        for (uint256 i = 0; i < b.n && l != 0; ++i) {
            if (!b.senior[i]) continue;
            uint256 p = l < b.couponDue[i] ? l : b.couponDue[i];
            paid[i] = p;
            b.couponDue[i] -= p;
            l -= p;
        }
        if (l == 0) return paid;
        uint256[] memory weights = new uint256[](b.n);
        uint256 total;
        for (uint256 i = 0; i < b.n; ++i) {
            if (!b.hasJunior || !b.senior[i]) {
                weights[i] = b.outstanding[i];
                total += weights[i];
            }
        }
        if (total == 0) {
            for (uint256 i = 0; i < b.n; ++i) {
                if (!b.hasJunior || !b.senior[i]) weights[i] = _l.amounts[loanId][i];
            }
        }
        Waterfall.addProRata(l, weights, paid);
    }

    /// @dev One e-CNY call pays everybody straight from the payer; what is owed to a member
    /// who is not active is held for it. Returns the residual's swept
    /// share when another of the recipient's loans sweeps (0 otherwise).
    function _pay(Receipt memory r, LoanState.Book memory b) private returns (uint256 swept) {
        uint256 n = b.n;
        address[] memory payees = new address[](n + 3);
        uint256[] memory amounts = new uint256[](n + 3);
        payees[0] = r.fee != 0 ? _l.details[r.loanId].techPartner : address(0);
        amounts[0] = r.fee;
        payees[1] = pool;
        amounts[1] = r.provision;
        for (uint256 i = 0; i < n; ++i) {
            payees[i + 2] = b.lenders[i];
            amounts[i + 2] = r.interest[i] + r.principal[i];
        }
        payees[n + 2] = r.residualTo;
        if (r.residual != 0) {
            uint256 sweepLoan = _l.sweepHead[r.residualTo];
            if (sweepLoan != 0 && sweepLoan != r.loanId) {
                swept = ecny.sweepShare(r.residualTo, sweepLoan, r.residual);
            }
        }
        amounts[n + 2] = r.residual - swept;
        ecny.engineSplit(r.payer, payees, amounts);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev A repaid loan leaves the active set: its sweep stops, its undrawn stages lapse;
    /// its receivables, the lenders' exposure and the cover layers' margins are released.
    function _close(uint256 loanId, Core memory c, LoanState.Book memory b, address actor)
        private
    {
        if (c.sweepBps != 0 && c.status == Status.DISBURSED) {
            LoanLifecycle.sweepRemove(_l, ecny, c.borrower, loanId);
        }
        _lapseStages(loanId, actor);
        LoanState.release(_l, receivables, _cover, _prudential, loanId, c.borrower, b, actor);
    }

    /// @dev A staged loan's undrawn stages lapse when it is repaid or defaulted.
    function _lapseStages(uint256 loanId, address actor) private {
        if (_l.stages[loanId].length != 0) _stages(loanId, LoanStages.CLOSE, actor);
    }

    /// @dev Staged drawdown runs in LoanStages, through this one call site (code size).
    function _stages(uint256 loanId, uint256 op, address actor) private {
        LoanStages.run(_l, _prudential, loanId, op, actor);
    }

    function _existing(uint256 loanId) private view returns (Core storage c) {
        c = _l.core[loanId];
        if (c.status == Status.NONE) revert UnknownLoan(loanId);
    }

}
