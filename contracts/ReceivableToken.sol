// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanReceipts} from "./interfaces/ILoanReceipts.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ReceivableToken — digital debt certificates (数字债权凭证)
/// @notice See IReceivableToken. Every state change appends one audit entry bound to its
/// event. No operation scans other receivables: gas does not grow with the ledger.
/// @dev A receivable's state is one storage word; debtor and maturity live once per root
/// (children inherit them), and a split's children get consecutive ids, so a parent records
/// its children as (first id, count) in one word.
contract ReceivableToken is ERC721, ReentrancyGuardTransient, IReceivableToken, AuditedEngine {
    /// @notice The most parts one split may create.
    uint256 public constant MAX_PARTS = 20;
    /// @notice The largest value a receivable can hold (uint72 fen ≈ 4.7 × 10^19 yuan).
    uint256 public constant MAX_VALUE = type(uint72).max;

    struct Record {
        Status status;
        uint48 parent;
        uint48 root;
        uint72 value;
        uint72 paid;
    }

    struct Root {
        address debtor;
        uint64 maturityAt;
    }

    IMembership public immutable membership;
    IDigitalRMB public immutable ecny;
    /// @notice The loan book: the only contract that pledges and releases.
    address public immutable loanBook;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(uint256 id => Record) private _records;
    mapping(uint256 root => Root) private _roots;
    mapping(uint256 parent => uint256 packed) private _children; // firstChild << 8 | count
    mapping(uint256 id => uint256 loanId) private _pledgedTo;
    mapping(bytes32 debtorDoc => uint256 id) private _documents; // keccak256(debtor, docHash)
    // Starts at 1 so id 0 means "none" and the first issue costs what the 10,000th does.
    uint256 private _nextId = 1;

    constructor(IAuditTrail trail, IMembership members, IDigitalRMB ecny_, address loanBook_)
        ERC721("liandai receivable", "LDRC")
        AuditedEngine(trail)
    {
        membership = members;
        ecny = ecny_;
        loanBook = loanBook_;
    }

    /*//////////////////////////////////////////////////////////////
                                LIFECYCLE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReceivableToken
    function issue(address supplier, uint256 valueFen, uint64 maturityAt, bytes32 docHash)
        external
        nonReentrant
        returns (uint256 id)
    {
        membership.requireRole(msg.sender, Roles.CORE_ENTERPRISE);
        membership.requireRole(supplier, Roles.SUPPLIER);
        if (supplier == msg.sender) revert SelfIssue(msg.sender);
        if (valueFen == 0 || valueFen > MAX_VALUE) revert InvalidValue(valueFen, MAX_VALUE);
        if (maturityAt <= block.timestamp) revert MaturityInPast(maturityAt, uint64(block.timestamp));
        if (docHash == bytes32(0)) revert MissingDocument();
        bytes32 key = _documentKey(msg.sender, docHash);
        uint256 existing = _documents[key];
        if (existing != 0) {
            // Freed only by a rejection or cancellation: the receivable was never accepted.
            Status was = _records[existing].status;
            if (was != Status.REJECTED && was != Status.CANCELLED) {
                revert DocumentAlreadyUsed(docHash, existing);
            }
        }
        id = _nextId++;
        _documents[key] = id;
        _records[id] = Record(Status.PENDING, 0, uint48(id), uint72(valueFen), 0);
        _roots[id] = Root(msg.sender, maturityAt);
        _mint(supplier, id);
        emit ReceivableIssued(id, msg.sender, supplier, valueFen, maturityAt, docHash);
        _audit(
            AuditKinds.RECEIVABLE_ISSUED,
            id,
            keccak256(abi.encode(id, msg.sender, supplier, valueFen, maturityAt, docHash))
        );
    }

    /// @inheritdoc IReceivableToken
    function accept(uint256 id) external nonReentrant {
        Record storage r = _pendingHeldByCaller(id);
        r.status = Status.ACTIVE;
        emit ReceivableAccepted(id, msg.sender);
        _audit(AuditKinds.RECEIVABLE_ACCEPTED, id, keccak256(abi.encode(id, msg.sender)));
    }

    /// @inheritdoc IReceivableToken
    function reject(uint256 id) external nonReentrant {
        Record storage r = _pendingHeldByCaller(id);
        r.status = Status.REJECTED;
        _burn(id);
        emit ReceivableRejected(id, msg.sender);
        _audit(AuditKinds.RECEIVABLE_REJECTED, id, keccak256(abi.encode(id, msg.sender)));
    }

    /// @inheritdoc IReceivableToken
    function cancel(uint256 id) external nonReentrant {
        membership.requireActive(msg.sender);
        Record storage r = _existing(id);
        address debtor = _roots[r.root].debtor;
        if (msg.sender != debtor) revert NotDebtor(id, msg.sender, debtor);
        if (r.status != Status.PENDING) revert WrongStatus(id, r.status);
        r.status = Status.CANCELLED;
        _burn(id);
        emit ReceivableCancelled(id, msg.sender);
        _audit(AuditKinds.RECEIVABLE_CANCELLED, id, keccak256(abi.encode(id, msg.sender)));
    }

    /// @inheritdoc IReceivableToken
    function split(uint256 id, uint256[] calldata valuesFen)
        external
        nonReentrant
        returns (uint256 firstChild)
    {
        Record storage r = _activeHeldByCaller(id);
        uint256 parts = valuesFen.length;
        if (parts < 2 || parts > MAX_PARTS) revert PartCount(parts, MAX_PARTS);
        uint256 unpaid = r.value - r.paid;
        uint256 sum;
        for (uint256 i = 0; i < parts; ++i) {
            if (valuesFen[i] == 0) revert PartsMismatch(id, 0, unpaid);
            sum += valuesFen[i];
        }
        if (sum != unpaid) revert PartsMismatch(id, sum, unpaid);
        firstChild = _nextId;
        // parts ≤ MAX_PARTS, so ids and the packed word cannot overflow.
        _nextId = firstChild + parts;
        r.status = Status.SPLIT;
        _children[id] = firstChild << 8 | parts;
        _burn(id);
        uint48 root = r.root;
        for (uint256 i = 0; i < parts; ++i) {
            uint256 child = firstChild + i;
            // Every part is at most the unpaid value, which fits uint72.
            _records[child] = Record(Status.ACTIVE, uint48(id), root, uint72(valuesFen[i]), 0);
            _mint(msg.sender, child);
        }
        emit ReceivableSplit(id, msg.sender, firstChild, valuesFen);
        _audit(
            AuditKinds.RECEIVABLE_SPLIT,
            id,
            keccak256(abi.encode(id, msg.sender, firstChild, valuesFen))
        );
    }

    /// @inheritdoc IReceivableToken
    function transfer(uint256 id, address to) external nonReentrant {
        _moveByHolder(id, msg.sender, to);
    }

    /// @notice ERC-721 transfer: only the holder itself, under the same rules as `transfer`.
    function transferFrom(address from, address to, uint256 id)
        public
        override(ERC721, IERC721)
        nonReentrant
    {
        if (from != msg.sender) revert NotHolder(id, msg.sender, _ownerOf(id));
        _moveByHolder(id, from, to);
    }

    /// @inheritdoc IReceivableToken
    function pay(uint256 id, uint256 amountFen) external nonReentrant {
        Record storage r = _existing(id);
        address debtor = _roots[r.root].debtor;
        if (msg.sender != debtor) revert NotDebtor(id, msg.sender, debtor);
        Status status = r.status;
        if (status != Status.ACTIVE && status != Status.PLEDGED) revert WrongStatus(id, status);
        uint256 unpaid = r.value - r.paid;
        if (amountFen == 0 || amountFen > unpaid) revert Overpayment(id, amountFen, unpaid);
        // Effects before the e-CNY moves: the loan book may release this receivable
        // (the loan repaid) while settling, and must see it as paid.
        uint256 paid = r.paid + amountFen;
        r.paid = uint72(paid);
        if (paid == r.value) r.status = Status.PAID;
        uint256 loanId = status == Status.PLEDGED ? _pledgedTo[id] : 0;
        address holder = _ownerOf(id);
        emit ReceivablePaid(id, debtor, holder, amountFen, paid, loanId);
        _audit(
            AuditKinds.RECEIVABLE_PAID,
            id,
            keccak256(abi.encode(id, debtor, holder, amountFen, paid, loanId))
        );
        if (loanId != 0) {
            ILoanReceipts(loanBook).settleReceivablePayment(loanId, id, debtor, holder, amountFen);
        } else {
            ecny.engineTransfer(debtor, holder, amountFen);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 PLEDGES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReceivableToken
    function pledge(uint256 loanId, address borrower, uint256[] calldata ids) external {
        if (msg.sender != loanBook) revert NotLoanBook(msg.sender);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Record storage r = _existing(id);
            if (r.status != Status.ACTIVE) revert WrongStatus(id, r.status);
            address holder = _ownerOf(id);
            if (holder != borrower) revert NotBorrowersReceivable(id, holder, borrower);
            if (_roots[r.root].debtor == borrower) revert DebtorIsBorrower(id, borrower);
            r.status = Status.PLEDGED;
            _pledgedTo[id] = loanId;
        }
        emit ReceivablesPledged(loanId, borrower, ids);
        _auditAs(
            borrower,
            AuditKinds.RECEIVABLES_PLEDGED,
            loanId,
            keccak256(abi.encode(loanId, borrower, ids))
        );
    }

    /// @inheritdoc IReceivableToken
    function release(uint256 loanId, address actor, uint256[] calldata ids) external {
        if (msg.sender != loanBook) revert NotLoanBook(msg.sender);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Record storage r = _records[id];
            if (r.status == Status.PLEDGED && _pledgedTo[id] == loanId) {
                r.status = Status.ACTIVE;
                delete _pledgedTo[id];
            }
        }
        emit ReceivablesReleased(loanId, ids);
        _auditAs(actor, AuditKinds.RECEIVABLES_RELEASED, loanId, keccak256(abi.encode(loanId, ids)));
    }

    /// @inheritdoc IReceivableToken
    function requirePledged(uint256 loanId, uint256[] calldata ids) external view {
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Status status = _records[id].status;
            if (status != Status.PLEDGED || _pledgedTo[id] != loanId) {
                revert NotPledgedToLoan(id, loanId, status);
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IReceivableToken
    function receivableOf(uint256 id) external view returns (ReceivableInfo memory info) {
        Record memory r = _existingView(id);
        Root memory root = _roots[r.root];
        uint256 kids = _children[id];
        info = ReceivableInfo({
            id: id,
            debtor: root.debtor,
            holder: _ownerOf(id),
            valueFen: r.value,
            paidFen: r.paid,
            maturityAt: root.maturityAt,
            status: _derived(r, root),
            root: r.root,
            parent: r.parent,
            firstChild: kids >> 8,
            childCount: kids & 0xff,
            pledgedTo: _pledgedTo[id]
        });
    }

    /// @inheritdoc IReceivableToken
    function statusOf(uint256 id) external view returns (Status) {
        Record memory r = _existingView(id);
        return _derived(r, _roots[r.root]);
    }

    /// @inheritdoc IReceivableToken
    function receivableOfDocument(address debtor, bytes32 docHash) external view returns (uint256) {
        return _documents[_documentKey(debtor, docHash)];
    }

    /// @inheritdoc IReceivableToken
    function unpaidOf(uint256 id) external view returns (uint256) {
        Record memory r = _existingView(id);
        return r.value - r.paid;
    }

    /// @inheritdoc IReceivableToken
    function nextId() external view returns (uint256) {
        return _nextId;
    }

    /// @notice Approvals are disabled: only the holder moves a receivable.
    function approve(address, uint256) public pure override(ERC721, IERC721) {
        revert ApprovalsDisabled();
    }

    /// @notice Approvals are disabled: only the holder moves a receivable.
    function setApprovalForAll(address, bool) public pure override(ERC721, IERC721) {
        revert ApprovalsDisabled();
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _moveByHolder(uint256 id, address from, address to) private {
        _activeHeldByCaller(id);
        if (to == from) revert SelfTransfer(id);
        // DESIGN §4.3: a receivable passes up the supply chain or to a factor, nowhere else.
        membership.requireRole(to, Roles.SUPPLIER | Roles.LENDER);
        _transfer(from, to, id);
        emit ReceivableTransferred(id, from, to);
        _audit(AuditKinds.RECEIVABLE_TRANSFERRED, id, keccak256(abi.encode(id, from, to)));
    }

    function _documentKey(address debtor, bytes32 docHash) private pure returns (bytes32) {
        return keccak256(abi.encode(debtor, docHash));
    }

    function _existing(uint256 id) private view returns (Record storage r) {
        r = _records[id];
        if (r.status == Status.NONE) revert UnknownReceivable(id);
    }

    function _existingView(uint256 id) private view returns (Record memory r) {
        r = _records[id];
        if (r.status == Status.NONE) revert UnknownReceivable(id);
    }

    function _pendingHeldByCaller(uint256 id) private view returns (Record storage r) {
        membership.requireActive(msg.sender);
        r = _existing(id);
        address holder = _ownerOf(id);
        if (holder != msg.sender) revert NotHolder(id, msg.sender, holder);
        if (r.status != Status.PENDING) revert WrongStatus(id, r.status);
    }

    function _activeHeldByCaller(uint256 id) private view returns (Record storage r) {
        membership.requireActive(msg.sender);
        r = _existing(id);
        address holder = _ownerOf(id);
        if (holder != msg.sender) revert NotHolder(id, msg.sender, holder);
        if (r.status != Status.ACTIVE) revert WrongStatus(id, r.status);
    }

    function _derived(Record memory r, Root memory root) private view returns (Status) {
        bool open = r.status == Status.ACTIVE || r.status == Status.PLEDGED;
        if (open && block.timestamp > root.maturityAt && r.paid < r.value) return Status.OVERDUE;
        return r.status;
    }
}
