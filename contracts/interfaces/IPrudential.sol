// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IPrudential — the prudential rules of DESIGN §6.6 and the books they need
/// @notice The loan book reports each loan's life here — proposal, funding, disbursement,
/// every settlement, default, close — and this contract checks, in the same transaction:
/// - lending needs an unexpired licence that fits (BANK, MICROLOAN, ONLINE_MICROLOAN,
///   FACTORING);
/// - an online micro-lender's exposure to one borrower stays within
///   `max_online_individual_fen` (individuals and borrowers of unspecified kind) or
///   `max_online_business_fen` (MICRO, SME, LARGE);
/// - a lender's exposure to a borrower's whole related-party group (a borrower with no
///   group is a group of its own) stays within `max_related_group_bps` of its net assets;
/// - a micro-lender's (MICROLOAN, ONLINE_MICROLOAN) funded book stays within
///   `max_book_x100` hundredths of its net assets;
/// - a loan's tech-partner fee goes to the provision pool, not to the tech partner, while
///   the defaulted principal of that tech partner's loans is more than `tech_fee_npl_bps`
///   of their outstanding principal, on the book as the receipt leaves it.
/// Exposure, as for the single-borrower limit (DESIGN §4.7), is funded principal of open
/// loans: counted at funding, released when the loan is repaid or cancelled, kept while it
/// is defaulted, and moved with a tranche sold. A loan counts toward the borrower's group as
/// it was at proposal.
/// A tech partner's book counts, over the loans that pay it a fee share: outstanding
/// principal of disbursed and defaulted loans, and of it, that of defaulted loans.
/// A staged loan (DESIGN §6.4) counts its committed principal, drawn or not; when its undrawn
/// stages lapse, the money going back to the lenders leaves their books and the tech
/// partner's.
interface IPrudential is IMembershipErrors {
    /// @notice One tech partner's loans (those paying it a fee share).
    struct TechBook {
        uint128 outstandingFen; // principal outstanding of its disbursed or defaulted loans
        uint128 defaultedFen; // of which, of its defaulted loans
    }

    /// @notice A settlement's tech-partner fee went to the provision pool: the tech
    /// partner's loans had `defaultedFen` defaulted of `outstandingFen` outstanding.
    event TechFeeWithheld(
        uint256 indexed loanId,
        address indexed techPartner,
        uint256 feeFen,
        uint256 defaultedFen,
        uint256 outstandingFen
    );

    /// @notice Only the loan book reports loans.
    error NotLoanBookCaller(address caller);
    /// @notice online micro-loan cap: `lender`'s exposure to `borrower` (of `kind`, an
    /// IMembership.BorrowerKind) would be `exposureFen`, above the cap `capFen`.
    error OnlineCapExceeded(
        address lender, address borrower, uint8 kind, uint256 exposureFen, uint256 capFen
    );
    /// @notice related-party limit: `lender`'s exposure to `group` would be `exposureFen`,
    /// above `limitFen` (max_related_group_bps of its net assets).
    error RelatedGroupAboveLimit(
        address lender, bytes32 group, uint256 exposureFen, uint256 limitFen
    );
    /// @notice micro-lender book limit: `lender`'s funded book would be `bookFen`, above
    /// `limitFen` (max_book_x100 hundredths of its net assets).
    error BookAboveLimit(address lender, uint256 bookFen, uint256 limitFen);

    /// @notice A loan was proposed: check every tranche's lender (licence, online cap,
    /// related group, book) and remember the loan's group, tech partner and principal.
    /// `totalsFen[i]` is tranche i's lender's share of the loan up to tranche i, and
    /// `exposuresFen[i]` its exposure to the borrower with that share added.
    function register(
        uint256 loanId,
        address borrower,
        address techPartner,
        uint256 principalFen,
        address[] calldata lenders,
        uint256[] calldata totalsFen,
        uint256[] calldata exposuresFen
    ) external;
    /// @notice `lender` funds `amountFen`, bringing its exposure to `borrower` to
    /// `exposureFen`: check its licence and the limits, then count it.
    function fund(
        uint256 loanId,
        address lender,
        address borrower,
        uint256 amountFen,
        uint256 exposureFen
    ) external;
    /// @notice The loan (to `borrower`) was repaid or cancelled: release what its lenders
    /// funded.
    function release(uint256 loanId, address borrower) external;
    /// @notice A tranche of the loan (to `borrower`) passed from `seller` to `buyer` (DESIGN
    /// §6.3): `releasedFen` of the seller's funding leaves its books, and `bookedFen` (the
    /// tranche's outstanding; 0 for an engine account, which books nothing) joins the
    /// buyer's, bringing its exposure to the borrower to `exposureFen`. A buyer booking
    /// anything is checked as a funding lender is (licence, online cap, related group, book),
    /// and a later release of the loan subtracts from the buyer, not the seller.
    function transferred(
        uint256 loanId,
        address seller,
        address buyer,
        address borrower,
        uint256 releasedFen,
        uint256 bookedFen,
        uint256 exposureFen
    ) external;
    /// @notice The loan was disbursed: its principal joins its tech partner's book.
    function disbursed(uint256 loanId) external;
    /// @notice A settlement repaid `principalFen` with a fee of `feeFen`: returns true when
    /// the fee goes to the pool (decided on the book after this settlement's principal).
    function settled(uint256 loanId, uint256 principalFen, uint256 feeFen)
        external
        returns (bool withheld);
    /// @notice The loan defaulted: `coverFen` of its principal was covered, `remainingFen`
    /// stays outstanding (defaulted).
    function defaulted(uint256 loanId, uint256 coverFen, uint256 remainingFen) external;
    /// @notice The undrawn stages of the loan (to `borrower`) lapsed: `refundsFen[i]` went
    /// back to `lenders[i]` (one entry per tranche). It leaves each lender's book and group
    /// exposure (unless the loan's fundings were already released) and its tech partner's
    /// outstanding principal.
    function lapsed(
        uint256 loanId,
        address borrower,
        address[] calldata lenders,
        uint256[] calldata refundsFen
    ) external;

    /// @notice The related-party group key a loan counts toward: the borrower's group at
    /// proposal; zero when it had none (the loan then counts toward the borrower's own key,
    /// `bytes32(uint256(uint160(borrower)))`).
    function groupOfLoan(uint256 loanId) external view returns (bytes32);
    /// @notice A lender's exposure to a group (funded principal of open loans).
    function groupExposureOf(address lender, bytes32 group) external view returns (uint256);
    /// @notice A lender's funded book (funded principal of its open loans).
    function bookOf(address lender) external view returns (uint256);
    /// @notice A tech partner's book.
    function techBookOf(address techPartner) external view returns (TechBook memory);
    /// @notice True while the tech partner's fee shares go to the pool.
    function feeWithheld(address techPartner) external view returns (bool);
}
