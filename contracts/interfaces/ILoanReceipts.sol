// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ILoanReceipts — how money reaches a loan's waterfall from other engines
/// @notice The receivable token hands a pledged receivable's payment here; the e-CNY token
/// hands the swept share of a payment into a borrower's wallet here; the cover book hands a
/// provider's payment under its cover here. Either way the loan
/// book settles the receipt in the same transaction, pulling the amount straight from
/// `payer` to the waterfall's payees.
interface ILoanReceipts {
    /// @notice A debtor paid `amountFen` on receivable `receivableId`, pledged to `loanId`;
    /// the residual goes to `holder`. Only the receivable token.
    function settleReceivablePayment(
        uint256 loanId,
        uint256 receivableId,
        address payer,
        address holder,
        uint256 amountFen
    ) external;

    /// @notice `payer` paid into the borrower's wallet and `amountFen` was swept to `loanId`.
    /// Only the e-CNY token.
    function settleSweep(uint256 loanId, address payer, uint256 amountFen) external;

    /// @notice A cover provider (`payer`) honoured `amountFen` of its claim on the defaulted
    /// `loanId`: a principal-only receipt, seniors first. Only the cover book, which caps the
    /// amount at the principal outstanding.
    function settleCover(uint256 loanId, address payer, uint256 amountFen) external;
}
