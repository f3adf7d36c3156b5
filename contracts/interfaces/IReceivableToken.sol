// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IReceivableToken — digital debt certificates (数字债权凭证)
/// @notice A core enterprise (the debtor) confirms on-chain what it owes a supplier by
/// issuing a receivable: face value in fen, maturity and the hash of the documents backing
/// it (存证). A document hash backs one receivable ever. The holder splits it into parts
/// that sum exactly to its unpaid value and passes them up its supply chain (拆分流转);
/// any active part can be pledged to a loan, once. The debtor pays in e-CNY, in full or in
/// parts: to the holder, or — while pledged — into the loan's waterfall.
/// ERC-721 compatible (ownerOf, balanceOf, Transfer events); approvals are disabled: only
/// the holder moves its receivables.
interface IReceivableToken is IERC721, IMembershipErrors {
    /// @dev OVERDUE is never stored: `statusOf` derives it from maturity.
    enum Status {
        NONE,
        PENDING,
        ACTIVE,
        PLEDGED,
        PAID,
        SPLIT,
        REJECTED,
        CANCELLED,
        OVERDUE
    }

    /// @notice A receivable as `receivableOf` returns it.
    struct ReceivableInfo {
        uint256 id;
        address debtor;
        address holder;
        uint256 valueFen;
        uint256 paidFen;
        uint64 maturityAt;
        Status status;
        uint256 root;
        uint256 parent;
        uint256 firstChild;
        uint256 childCount;
        uint256 pledgedTo;
    }

    event ReceivableIssued(
        uint256 indexed id,
        address indexed debtor,
        address indexed supplier,
        uint256 valueFen,
        uint64 maturityAt,
        bytes32 docHash
    );
    event ReceivableAccepted(uint256 indexed id, address indexed holder);
    event ReceivableRejected(uint256 indexed id, address indexed holder);
    event ReceivableCancelled(uint256 indexed id, address indexed debtor);
    event ReceivableSplit(
        uint256 indexed id, address indexed holder, uint256 firstChild, uint256[] valuesFen
    );
    event ReceivableTransferred(uint256 indexed id, address indexed from, address indexed to);
    event ReceivablePaid(
        uint256 indexed id,
        address indexed debtor,
        address indexed holder,
        uint256 amountFen,
        uint256 paidFen,
        uint256 loanId
    );
    event ReceivablesPledged(uint256 indexed loanId, address indexed borrower, uint256[] ids);
    event ReceivablesReleased(uint256 indexed loanId, uint256[] ids);

    /// @notice No receivable has this id.
    error UnknownReceivable(uint256 id);
    /// @notice This debtor's document hash already backs receivable `existing` (no double
    /// financing); only a rejection or cancellation of that receivable frees it.
    error DocumentAlreadyUsed(bytes32 docHash, uint256 existing);
    /// @notice The document hash is zero.
    error MissingDocument();
    /// @notice The maturity `maturityAt` is not after the current time `nowAt`.
    error MaturityInPast(uint64 maturityAt, uint64 nowAt);
    /// @notice A value of zero, or above the largest storable value.
    error InvalidValue(uint256 valueFen, uint256 maxFen);
    /// @notice The receivable's status does not allow this action.
    error WrongStatus(uint256 id, Status status);
    /// @notice `caller` is not the receivable's holder `holder`.
    error NotHolder(uint256 id, address caller, address holder);
    /// @notice `caller` is not the receivable's debtor `debtor`.
    error NotDebtor(uint256 id, address caller, address debtor);
    /// @notice A split needs between 2 and `max` parts.
    error PartCount(uint256 parts, uint256 max);
    /// @notice The parts sum to `sumFen`, not the unpaid value `unpaidFen`; or a part is zero.
    error PartsMismatch(uint256 id, uint256 sumFen, uint256 unpaidFen);
    /// @notice A payment of `amountFen` exceeds the unpaid value `unpaidFen`.
    error Overpayment(uint256 id, uint256 amountFen, uint256 unpaidFen);
    /// @notice The receivable is held by `holder`, not by the loan's borrower.
    error NotBorrowersReceivable(uint256 id, address holder, address borrower);
    /// @notice Only the loan book may pledge and release.
    error NotLoanBook(address caller);
    /// @notice A member cannot issue a receivable to itself (a debt it owes itself).
    error SelfIssue(address issuer);
    /// @notice Receivable `id` is owed by the borrower itself: it cannot back its own loan.
    error DebtorIsBorrower(uint256 id, address borrower);
    /// @notice Receivable `id` is not (or no longer) pledged to `loanId`; it is `status`.
    error NotPledgedToLoan(uint256 id, uint256 loanId, Status status);
    /// @notice Receivables move only by their holder: approvals are disabled.
    error ApprovalsDisabled();
    /// @notice Receivables are paid in e-CNY by transfer only; a transfer to itself is refused.
    error SelfTransfer(uint256 id);

    /// @notice Issue a receivable to an active SUPPLIER. Only an active CORE_ENTERPRISE.
    function issue(address supplier, uint256 valueFen, uint64 maturityAt, bytes32 docHash)
        external
        returns (uint256 id);
    /// @notice The supplier confirms a pending receivable.
    function accept(uint256 id) external;
    /// @notice The supplier rejects a pending receivable.
    function reject(uint256 id) external;
    /// @notice The debtor withdraws a pending receivable.
    function cancel(uint256 id) external;
    /// @notice Split an active, unpledged receivable into parts summing to its unpaid value.
    /// @return firstChild the first new id; the parts get consecutive ids in the given order
    function split(uint256 id, uint256[] calldata valuesFen) external returns (uint256 firstChild);
    /// @notice Pass an active, unpledged receivable to another active member.
    function transfer(uint256 id, address to) external;
    /// @notice The debtor pays `amountFen` of the unpaid value in e-CNY.
    function pay(uint256 id, uint256 amountFen) external;

    /// @notice Pledge the borrower's active receivables to `loanId`. Only the loan book.
    function pledge(uint256 loanId, address borrower, uint256[] calldata ids) external;
    /// @notice Release receivables pledged to `loanId` (paid ones stay PAID); `actor` is the
    /// member whose action closed the loan. Only the loan book.
    function release(uint256 loanId, address actor, uint256[] calldata ids) external;
    /// @notice Revert with `NotPledgedToLoan` unless every receivable of `ids` is pledged to
    /// `loanId` (the loan book checks its collateral again at disbursement).
    function requirePledged(uint256 loanId, uint256[] calldata ids) external view;

    function receivableOf(uint256 id) external view returns (ReceivableInfo memory);
    /// @notice Stored status, or OVERDUE when active/pledged, unpaid and past maturity.
    function statusOf(uint256 id) external view returns (Status);
    /// @notice The latest receivable `debtor` issued on a document hash (0 if none). A
    /// document is bound to its debtor: another debtor's use of the same hash cannot block
    /// it. It backs one receivable at a time and ever after acceptance; a receivable rejected
    /// or cancelled (never accepted) frees it for a new issue.
    function receivableOfDocument(address debtor, bytes32 docHash) external view returns (uint256);
    /// @notice Unpaid value of a receivable.
    function unpaidOf(uint256 id) external view returns (uint256);
    /// @notice The next id `issue` or `split` will use.
    function nextId() external view returns (uint256);
}
