// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanBook} from "./interfaces/ILoanBook.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {ISecuritisation} from "./interfaces/ISecuritisation.sol";
import {ITrancheMarket} from "./interfaces/ITrancheMarket.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {DealNote} from "./DealNote.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";
import {Waterfall} from "./libraries/Waterfall.sol";

/// @title Securitisation — deals of pooled tranches with note classes (DESIGN §6.5)
/// @notice See ISecuritisation. Each deal keeps its e-CNY in its own account
/// (`IDigitalRMB.dealAccount`): the subscriptions until close, then what the loan book pays
/// for its tranches and what its holders have not yet claimed. Its books are, at every
/// moment, that account's balance: subscriptions waiting (before close), the classes'
/// payments not yet claimed, and the cash collected since the last distribution.
/// @dev Pro-rata accounting, exact: each class keeps `paid`, every fen paid to it; a holder
/// of `u` of the class's `amount` units is owed floor((paid × u + correction) / amount) less
/// what it claimed, the correction moving with every transfer (so payments before a transfer
/// stay with the sender). A sole holder is owed exactly `paid`; a holder's sub-fen part
/// waits (under one fen per class).
contract Securitisation is ISecuritisation, AuditedEngine, ReentrancyGuardTransient {
    uint256 private constant BPS = 10_000;
    uint256 private constant DAY = 86_400;
    uint256 public constant MIN_CLASSES = 2;
    uint256 public constant MAX_CLASSES = 5;
    uint256 public constant MAX_TRANCHES = 16;
    uint256 public constant MAX_SUBSCRIPTIONS = 64;

    struct Deal {
        address originator;
        Status status;
        uint8 classCount;
        uint16 feeBps;
        uint16 periodDays;
        address servicer;
        uint40 createdAt;
        uint40 closedAt;
        uint40 accruedTo;
        uint40 lastDistributionAt;
        uint256 pool;
        uint256 retention;
        uint256 feeDue;
    }

    struct NoteClass {
        bytes32 name;
        DealNote token;
        uint16 couponBps;
        uint256 amount;
        uint256 balance;
        uint256 couponDue;
        uint256 subscribed;
        uint256 paid;
        uint256 claimed;
    }

    struct Subscription {
        address investor;
        uint8 classIndex;
        uint256 amount;
    }

    IMembership public immutable membership;
    IDigitalRMB public immutable ecny;
    ILoanBook public immutable loanBook;
    ITrancheMarket public immutable market;
    IPolicy public immutable policy;
    /// @notice The note implementation each class is a clone of.
    address public immutable noteImplementation;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    uint256 private _nextDealId = 1;
    mapping(uint256 dealId => Deal) private _deals;
    mapping(uint256 dealId => mapping(uint256 classIndex => NoteClass)) private _classes;
    mapping(uint256 dealId => uint256[]) private _loanIds;
    mapping(uint256 dealId => uint256[]) private _indexes;
    mapping(uint256 dealId => mapping(uint256 k => bool)) private _writtenOff;
    mapping(uint256 dealId => Subscription[]) private _subscriptions;
    mapping(uint256 dealId => mapping(uint256 classIndex => mapping(address holder => int256))) private
        _correction;
    mapping(uint256 dealId => mapping(uint256 classIndex => mapping(address holder => uint256))) private
        _withdrawn;

    constructor(
        IAuditTrail trail,
        IMembership members,
        IDigitalRMB ecny_,
        ILoanBook loanBook_,
        ITrancheMarket market_,
        IPolicy policy_
    ) AuditedEngine(trail) {
        membership = members;
        ecny = ecny_;
        loanBook = loanBook_;
        market = market_;
        policy = policy_;
        noteImplementation = address(new DealNote());
    }

    /*//////////////////////////////////////////////////////////////
                              SUBSCRIPTION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISecuritisation
    function create(DealTerms calldata terms) external nonReentrant returns (uint256 dealId) {
        membership.requireRole(msg.sender, Roles.LENDER);
        dealId = _nextDealId++;
        uint256 pool = _lockTranches(dealId, terms);
        IPolicy.DealParams memory p = policy.dealParams();
        uint256 retention = _checkClasses(terms, pool, p);
        if (terms.feeBps > p.maxServicingFeeBps) revert ServicingFeeAboveCap(terms.feeBps, p.maxServicingFeeBps);
        if (terms.servicer != msg.sender && !membership.hasRoles(terms.servicer, Roles.TECH_PARTNER)) {
            revert InvalidServicer(terms.servicer);
        }
        if (terms.periodDays == 0) revert InvalidPeriod(terms.periodDays);
        Deal storage d = _deals[dealId];
        d.originator = msg.sender;
        d.status = Status.SUBSCRIBING;
        d.classCount = uint8(terms.names.length);
        d.feeBps = terms.feeBps;
        d.periodDays = terms.periodDays;
        d.servicer = terms.servicer;
        d.createdAt = uint40(block.timestamp);
        d.pool = pool;
        d.retention = retention;
        for (uint256 c = 0; c < terms.names.length; ++c) {
            _newClass(dealId, c, terms.names[c], terms.amountsFen[c], terms.couponsBps[c]);
        }
        emit DealCreated(dealId, msg.sender, terms, pool);
        _audit(AuditKinds.DEAL_CREATED, dealId, keccak256(abi.encode(dealId, msg.sender, terms, pool)));
    }

    /// @inheritdoc ISecuritisation
    function subscribe(uint256 dealId, uint256 classIndex, uint256 amountFen) external nonReentrant {
        Deal storage d = _dealIn(dealId, Status.SUBSCRIBING);
        _requireHolderRole(msg.sender);
        if (amountFen == 0) revert ZeroAmount();
        if (classIndex >= d.classCount) revert UnknownClass(dealId, classIndex);
        NoteClass storage k = _classes[dealId][classIndex];
        uint256 left = k.amount - k.subscribed;
        if (amountFen > left) revert OverSubscribed(dealId, classIndex, amountFen, left);
        if (_subscriptions[dealId].length >= MAX_SUBSCRIPTIONS) revert TooManySubscriptions(dealId, MAX_SUBSCRIPTIONS);
        k.subscribed += amountFen;
        _subscriptions[dealId].push(Subscription(msg.sender, uint8(classIndex), amountFen));
        ecny.engineTransfer(msg.sender, _account(dealId), amountFen);
        k.token.mint(msg.sender, amountFen);
        emit Subscribed(dealId, classIndex, msg.sender, amountFen);
        _audit(
            AuditKinds.DEAL_SUBSCRIBED, dealId, keccak256(abi.encode(dealId, classIndex, msg.sender, amountFen))
        );
    }

    /// @inheritdoc ISecuritisation
    function close(uint256 dealId) external nonReentrant {
        Deal storage d = _dealIn(dealId, Status.SUBSCRIBING);
        _requireOriginator(dealId, d);
        uint256 n = d.classCount;
        for (uint256 c = 0; c < n; ++c) {
            NoteClass storage k = _classes[dealId][c];
            if (k.subscribed != k.amount) revert NotFullySubscribed(dealId, c, k.subscribed, k.amount);
        }
        uint256 held = _classes[dealId][n - 1].token.balanceOf(msg.sender);
        if (held < d.retention) revert RetentionBreached(dealId, held, d.retention);
        address account = _account(dealId);
        uint256[] storage loanIds = _loanIds[dealId];
        uint256[] storage indexes = _indexes[dealId];
        uint256 outstanding;
        for (uint256 t = 0; t < loanIds.length; ++t) {
            outstanding += loanBook.trancheOf(loanIds[t], indexes[t]).outstandingFen;
            market.deliver(loanIds[t], indexes[t], dealId, account);
        }
        if (outstanding != d.pool) revert PoolChanged(dealId, d.pool, outstanding);
        d.status = Status.CLOSED;
        d.closedAt = uint40(block.timestamp);
        d.accruedTo = uint40(block.timestamp);
        d.lastDistributionAt = uint40(block.timestamp);
        for (uint256 c = 0; c < n; ++c) {
            NoteClass storage k = _classes[dealId][c];
            k.balance = k.amount;
        }
        ecny.engineTransfer(account, msg.sender, d.pool);
        emit DealClosed(dealId, msg.sender, d.pool, held);
        _audit(AuditKinds.DEAL_CLOSED, dealId, keccak256(abi.encode(dealId, msg.sender, d.pool, held)));
    }

    /// @inheritdoc ISecuritisation
    function cancel(uint256 dealId) external nonReentrant {
        Deal storage d = _dealIn(dealId, Status.SUBSCRIBING);
        _requireOriginator(dealId, d);
        d.status = Status.CANCELLED;
        uint256[] storage loanIds = _loanIds[dealId];
        for (uint256 t = 0; t < loanIds.length; ++t) {
            market.unlock(loanIds[t], _indexes[dealId][t], dealId);
        }
        Subscription[] storage subs = _subscriptions[dealId];
        address[] memory payees = new address[](subs.length);
        uint256[] memory amounts = new uint256[](subs.length);
        uint256 refunded;
        for (uint256 i = 0; i < subs.length; ++i) {
            Subscription memory s = subs[i];
            _classes[dealId][s.classIndex].token.burn(s.investor, s.amount);
            payees[i] = s.investor;
            amounts[i] = s.amount;
            refunded += s.amount;
        }
        if (refunded != 0) ecny.engineSplit(_account(dealId), payees, amounts);
        emit DealCancelled(dealId, msg.sender, refunded);
        _audit(AuditKinds.DEAL_CANCELLED, dealId, keccak256(abi.encode(dealId, msg.sender, refunded)));
    }

    /*//////////////////////////////////////////////////////////////
                        DISTRIBUTION AND LOSSES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISecuritisation
    function distribute(uint256 dealId) external nonReentrant {
        Deal storage d = _dealIn(dealId, Status.CLOSED);
        membership.requireActive(msg.sender);
        if (msg.sender != d.servicer) {
            uint256 next = uint256(d.lastDistributionAt) + uint256(d.periodDays) * DAY;
            if (block.timestamp < next) revert TooEarlyToDistribute(dealId, uint64(block.timestamp), uint64(next));
        }
        _accrue(dealId, d);
        uint256 cash = ecny.balanceOf(_account(dealId)) - _unclaimed(dealId, d.classCount);
        if (cash == 0) revert NothingToDistribute(dealId);
        (uint256 fee, uint256[] memory coupon, uint256[] memory principal, uint256 excess) =
            _waterfall(dealId, d, cash);
        d.lastDistributionAt = uint40(block.timestamp);
        if (fee != 0) ecny.engineTransfer(_account(dealId), d.servicer, fee);
        emit Distributed(dealId, msg.sender, cash, fee, coupon, principal, excess);
        _audit(
            AuditKinds.DEAL_DISTRIBUTED,
            dealId,
            keccak256(abi.encode(dealId, msg.sender, cash, fee, coupon, principal, excess))
        );
    }

    /// @inheritdoc ISecuritisation
    function writeOff(uint256 dealId, uint256 loanId, uint256 index) external nonReentrant {
        Deal storage d = _dealIn(dealId, Status.CLOSED);
        if (msg.sender != d.servicer) revert NotServicer(dealId, msg.sender, d.servicer);
        membership.requireActive(msg.sender);
        uint256 k = _position(dealId, loanId, index);
        if (_writtenOff[dealId][k]) revert AlreadyWrittenOff(dealId, loanId, index);
        ILoanBook.LoanInfo memory info = loanBook.loanOf(loanId);
        if (info.status != ILoanBook.Status.DEFAULTED) revert LoanNotDefaulted(dealId, loanId);
        IPolicy.Params memory p = policy.params();
        uint256 days_ = uint256(p.defaultDays) + uint256(p.claimDays);
        uint256 earliest = uint256(info.maturityAt) + days_ * DAY;
        if (block.timestamp < earliest) {
            revert WriteOffTooEarly(dealId, loanId, uint64(block.timestamp), uint64(earliest));
        }
        _accrue(dealId, d);
        _writtenOff[dealId][k] = true;
        uint256 loss = loanBook.trancheOf(loanId, index).outstandingFen;
        uint256[] memory reduced = new uint256[](d.classCount);
        uint256 left = loss;
        for (uint256 c = d.classCount; c > 0 && left != 0; --c) {
            NoteClass storage nc = _classes[dealId][c - 1];
            uint256 r = left < nc.balance ? left : nc.balance;
            nc.balance -= r;
            reduced[c - 1] = r;
            left -= r;
        }
        emit WrittenOff(dealId, loanId, index, loss, reduced);
        _audit(AuditKinds.DEAL_WRITTEN_OFF, dealId, keccak256(abi.encode(dealId, loanId, index, loss, reduced)));
    }

    /// @inheritdoc ISecuritisation
    function claim(uint256 dealId) external nonReentrant returns (uint256 total) {
        Deal storage d = _dealIn(dealId, Status.CLOSED);
        membership.requireActive(msg.sender);
        uint256[] memory amounts = new uint256[](d.classCount);
        for (uint256 c = 0; c < d.classCount; ++c) {
            uint256 owed = claimableOf(dealId, c, msg.sender);
            if (owed == 0) continue;
            amounts[c] = owed;
            total += owed;
            _withdrawn[dealId][c][msg.sender] += owed;
            _classes[dealId][c].claimed += owed;
        }
        if (total == 0) revert NothingToClaim(dealId, msg.sender);
        ecny.engineTransfer(_account(dealId), msg.sender, total);
        emit Claimed(dealId, msg.sender, amounts, total);
        _audit(AuditKinds.DEAL_CLAIMED, dealId, keccak256(abi.encode(dealId, msg.sender, amounts, total)));
    }

    /// @inheritdoc ISecuritisation
    function noteTransfer(uint256 dealId, uint256 classIndex, address from, address to, uint256 units)
        external
    {
        NoteClass storage k = _classes[dealId][classIndex];
        if (msg.sender != address(k.token) || msg.sender == address(0)) revert NotNoteToken(msg.sender);
        Deal storage d = _dealIn(dealId, Status.CLOSED);
        _requireHolderRole(from);
        _requireHolderRole(to);
        if (from == d.originator && classIndex == d.classCount - 1) {
            uint256 held = k.token.balanceOf(from);
            uint256 after_ = held < units ? 0 : held - units;
            if (after_ < d.retention) revert RetentionBreached(dealId, after_, d.retention);
        }
        int256 moved = int256(k.paid * units);
        _correction[dealId][classIndex][from] += moved;
        _correction[dealId][classIndex][to] -= moved;
        emit NotesTransferred(dealId, classIndex, from, to, units);
        _auditAs(
            from, AuditKinds.NOTES_TRANSFERRED, dealId, keccak256(abi.encode(dealId, classIndex, from, to, units))
        );
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISecuritisation
    function dealOf(uint256 dealId) external view returns (DealInfo memory info) {
        Deal storage d = _existing(dealId);
        info.status = d.status;
        info.originator = d.originator;
        info.servicer = d.servicer;
        info.account = _account(dealId);
        info.feeBps = d.feeBps;
        info.periodDays = d.periodDays;
        info.poolFen = d.pool;
        info.retentionFen = d.retention;
        info.feeDueFen = d.feeDue;
        info.createdAt = d.createdAt;
        info.closedAt = d.closedAt;
        info.accruedTo = d.accruedTo;
        info.lastDistributionAt = d.lastDistributionAt;
        info.classCount = d.classCount;
        info.trancheCount = _loanIds[dealId].length;
    }

    /// @inheritdoc ISecuritisation
    function classOf(uint256 dealId, uint256 classIndex) external view returns (ClassInfo memory) {
        if (classIndex >= _existing(dealId).classCount) revert UnknownClass(dealId, classIndex);
        NoteClass storage k = _classes[dealId][classIndex];
        return ClassInfo(
            k.name, address(k.token), k.couponBps, k.amount, k.balance, k.couponDue, k.subscribed, k.paid, k.claimed
        );
    }

    /// @inheritdoc ISecuritisation
    function trancheOf(uint256 dealId, uint256 k) external view returns (uint256, uint256, bool) {
        _existing(dealId);
        return (_loanIds[dealId][k], _indexes[dealId][k], _writtenOff[dealId][k]);
    }

    /// @inheritdoc ISecuritisation
    function claimableOf(uint256 dealId, uint256 classIndex, address holder) public view returns (uint256) {
        NoteClass storage k = _classes[dealId][classIndex];
        if (address(k.token) == address(0)) return 0;
        int256 scaled = int256(k.paid * k.token.balanceOf(holder)) + _correction[dealId][classIndex][holder];
        // The correction keeps the scaled total at or above what the holder was entitled to
        // when its units moved: never negative.
        uint256 entitled = uint256(scaled) / k.amount;
        return entitled - _withdrawn[dealId][classIndex][holder];
    }

    /// @inheritdoc ISecuritisation
    function nextDealId() external view returns (uint256) {
        return _nextDealId;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Lock each tranche (held by the caller, of a DISBURSED loan); their outstanding.
    function _lockTranches(uint256 dealId, DealTerms calldata terms) private returns (uint256 pool) {
        uint256 count = terms.loanIds.length;
        if (count != terms.indexes.length) revert TranchesMismatch(count, terms.indexes.length);
        if (count == 0) revert NoTranches();
        if (count > MAX_TRANCHES) revert TooManyTranches(count, MAX_TRANCHES);
        for (uint256 t = 0; t < count; ++t) {
            uint256 loanId = terms.loanIds[t];
            ILoanBook.LoanInfo memory info = loanBook.loanOf(loanId);
            if (info.status != ILoanBook.Status.DISBURSED) revert ILoanBook.WrongLoanStatus(loanId, info.status);
            if (terms.indexes[t] >= info.trancheCount) {
                revert ILoanBook.UnknownTranche(loanId, terms.indexes[t], info.trancheCount);
            }
            market.lock(loanId, terms.indexes[t], msg.sender, dealId);
            pool += loanBook.trancheOf(loanId, terms.indexes[t]).outstandingFen;
            _loanIds[dealId].push(loanId);
            _indexes[dealId].push(terms.indexes[t]);
        }
    }

    /// @dev 2 to 5 classes summing to the pool, none empty, the junior without a coupon and
    /// large enough for the retention, which is returned.
    function _checkClasses(DealTerms calldata terms, uint256 pool, IPolicy.DealParams memory p)
        private
        pure
        returns (uint256 retention)
    {
        uint256 n = terms.names.length;
        if (n < MIN_CLASSES || n > MAX_CLASSES) revert ClassCount(n, MIN_CLASSES, MAX_CLASSES);
        if (terms.amountsFen.length != n || terms.couponsBps.length != n) {
            revert ClassesMismatch(n, terms.amountsFen.length, terms.couponsBps.length);
        }
        uint256 sum;
        for (uint256 c = 0; c < n; ++c) {
            if (terms.amountsFen[c] == 0) revert ZeroClass(c);
            sum += terms.amountsFen[c];
        }
        if (sum != pool) revert ClassesNotPool(sum, pool);
        if (terms.couponsBps[n - 1] != 0) revert JuniorWithCoupon(terms.couponsBps[n - 1]);
        // ceil(B × min_retention_bps / 10000)
        retention = (pool * p.minRetentionBps + BPS - 1) / BPS;
        if (terms.amountsFen[n - 1] < retention) revert JuniorBelowRetention(terms.amountsFen[n - 1], retention);
    }

    function _newClass(uint256 dealId, uint256 c, bytes32 name, uint256 amount, uint16 couponBps) private {
        DealNote token = DealNote(Clones.clone(noteImplementation));
        string memory label = _text(name);
        token.initialise(
            dealId, c, string.concat("liandai ABS #", Strings.toString(dealId), " class ", label), label
        );
        NoteClass storage k = _classes[dealId][c];
        k.name = name;
        k.token = token;
        k.couponBps = couponBps;
        k.amount = amount;
    }

    /// @dev Fee and coupons from the last checkpoint to now, floored (unpaid amounts carry).
    function _accrue(uint256 dealId, Deal storage d) private {
        uint256 dt = block.timestamp - d.accruedTo;
        if (dt == 0) return;
        uint256 n = d.classCount;
        uint256 total;
        for (uint256 c = 0; c < n; ++c) {
            NoteClass storage k = _classes[dealId][c];
            total += k.balance;
            if (k.couponBps != 0) k.couponDue += Waterfall.interest(k.balance, k.couponBps, dt);
        }
        d.feeDue += Waterfall.interest(total, d.feeBps, dt);
        d.accruedTo = uint40(block.timestamp);
    }

    /// @dev DESIGN §6.5 steps (1)–(4) on `cash`; credits each class's holders.
    function _waterfall(uint256 dealId, Deal storage d, uint256 cash)
        private
        returns (uint256 fee, uint256[] memory coupon, uint256[] memory principal, uint256 excess)
    {
        uint256 n = d.classCount;
        coupon = new uint256[](n);
        principal = new uint256[](n);
        fee = cash < d.feeDue ? cash : d.feeDue;
        d.feeDue -= fee;
        cash -= fee;
        for (uint256 c = 0; c < n && cash != 0; ++c) {
            NoteClass storage k = _classes[dealId][c];
            uint256 due = cash < k.couponDue ? cash : k.couponDue;
            k.couponDue -= due;
            coupon[c] = due;
            cash -= due;
        }
        bool repaid = true;
        for (uint256 c = 0; c < n; ++c) {
            NoteClass storage k = _classes[dealId][c];
            uint256 part = cash < k.balance ? cash : k.balance;
            k.balance -= part;
            principal[c] = part;
            cash -= part;
            if (k.balance != 0) repaid = false;
        }
        if (repaid) excess = cash;
        for (uint256 c = 0; c < n; ++c) {
            uint256 paid = coupon[c] + principal[c] + (c == n - 1 ? excess : 0);
            if (paid != 0) _credit(_classes[dealId][c], paid);
        }
    }

    /// @dev Pay `amount` fen to a class: its holders' shares follow from `paid` (claimableOf).
    function _credit(NoteClass storage k, uint256 amount) private {
        k.paid += amount;
    }

    function _unclaimed(uint256 dealId, uint256 n) private view returns (uint256 total) {
        for (uint256 c = 0; c < n; ++c) {
            NoteClass storage k = _classes[dealId][c];
            total += k.paid - k.claimed;
        }
    }

    function _position(uint256 dealId, uint256 loanId, uint256 index) private view returns (uint256) {
        uint256[] storage loanIds = _loanIds[dealId];
        for (uint256 t = 0; t < loanIds.length; ++t) {
            if (loanIds[t] == loanId && _indexes[dealId][t] == index) return t;
        }
        revert NotInDeal(dealId, loanId, index);
    }

    function _requireHolderRole(address account) private view {
        if (!membership.hasRoles(account, Roles.INVESTOR) && !membership.hasRoles(account, Roles.LENDER)) {
            // Name the membership reason when there is one (not a member, not active).
            membership.requireActive(account);
            revert NotNoteHolderRole(account);
        }
    }

    function _requireOriginator(uint256 dealId, Deal storage d) private view {
        if (msg.sender != d.originator) revert NotDealOriginator(dealId, msg.sender, d.originator);
        membership.requireActive(msg.sender);
    }

    function _dealIn(uint256 dealId, Status status) private view returns (Deal storage d) {
        d = _existing(dealId);
        if (d.status != status) revert WrongDealStatus(dealId, d.status);
    }

    function _existing(uint256 dealId) private view returns (Deal storage d) {
        d = _deals[dealId];
        if (d.status == Status.NONE) revert UnknownDeal(dealId);
    }

    /// @dev The deal's e-CNY account: this contract's address, low 32 bits xor-ed with the id.
    function _account(uint256 dealId) private view returns (address) {
        return address(uint160(address(this)) ^ uint160(dealId));
    }

    /// @dev A bytes32 name as text, without its trailing zero bytes.
    function _text(bytes32 name) private pure returns (string memory s) {
        uint256 len;
        while (len < 32 && name[len] != 0) ++len;
        bytes memory out = new bytes(len);
        for (uint256 i = 0; i < len; ++i) {
            out[i] = name[i];
        }
        s = string(out);
    }
}
