// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title ICoverBook — cover layers of a loan (分险) and the reimbursement of cover (DESIGN §6.2)
/// @notice A loan's terms may list up to 4 cover layers `(provider, kind, shareBps, capFen,
/// marginFen)`, part of the terms document the borrower accepts by its hash:
/// - `GUARANTEE` (政府性融资担保, 再担保) and `INSURANCE` (信用保证保险) by a `GUARANTOR`; a
///   `TECH_PARTNER` may give a `GUARANTEE` only, its shares summing to at most
///   `max_tech_cover_bps` (the platform may bear a share of risk, never all of it: 不得兜底);
/// - `REPURCHASE` (核心企业回购) by the `CORE_ENTERPRISE` that owes one of the pledged receivables;
/// - GUARANTEE + INSURANCE shares at most `10000 − min_lender_retention_bps` (lenders keep at
///   least that share of every loss), all shares at most 10000, `0 < capFen`, margin ≤ cap.
/// Each provider accepts its layers by the terms hash, depositing their margins (保证金)
/// here; the loan book refuses funding until every layer is accepted. Margins come back in
/// full when the loan is repaid or cancelled.
///
/// On default, with `D` the principal outstanding: each layer owes
/// `owed = min(floor(D × shareBps / 10000), capFen)`; its margin pays `min(margin, owed)` at
/// once and the rest of the margin goes back; the provision pool covers
/// `min(pool balance, D − Σ owed)`; the loan book applies the sum as one principal-only
/// receipt, seniors first. The rest of each `owed` is a claim on its provider, due
/// `claim_days` later: `honour` pays any part at any time, as a principal-only receipt; an
/// unpaid claim past its due date can be marked breached by any member (it stays payable).
/// A cover payment is capped at the principal outstanding; claims lapse once it is 0.
///
/// A receipt after the default pays interest, then principal seniors first, then reimburses
/// what the pool and each layer paid (代偿追偿), pro rata by what each paid and has not had
/// back (largest remainder; ties in layer order, the pool last), and only then the residual.
interface ICoverBook is IMembershipErrors {
    enum Kind {
        GUARANTEE,
        INSURANCE,
        REPURCHASE
    }

    /// @notice One layer as the terms document lists it.
    struct CoverSpec {
        address provider;
        Kind kind;
        uint16 shareBps;
        uint256 capFen;
        uint256 marginFen;
    }

    /// @notice A layer's live state, as `layerOf` returns it.
    struct LayerInfo {
        address provider;
        Kind kind;
        uint16 shareBps;
        uint256 capFen;
        uint256 marginFen;
        bool accepted;
        bool breached;
        uint256 owedFen; // set at default: min(floor(D × share / 10000), cap)
        uint256 paidFen; // by its margin at default and by honours since
        uint256 reimbursedFen; // paid back to it by recoveries
    }

    /// @notice A loan's cover, as `coverOf` returns it.
    struct CoverInfo {
        uint256 layerCount;
        bool closed; // repaid or cancelled: margins returned, nothing more to accept
        uint64 defaultedAt;
        uint64 dueAt; // claims due (defaultedAt + claim_days), 0 before a default
        uint256 principalAtDefaultFen; // D
        uint256 poolPaidFen;
        uint256 poolReimbursedFen;
    }

    /// @notice `provider` accepted its layers `layers` (indexes) of `loanId` by the terms
    /// hash, depositing `marginFen` in all.
    event CoverAccepted(
        uint256 indexed loanId, address indexed provider, uint256[] layers, uint256 marginFen
    );
    /// @notice `loanId` was declared defaulted (by `by`) with `principalFen` (D) outstanding:
    /// per layer what it owes and what its margin paid at once, the pool's cover, and when
    /// the rest of each claim is due.
    event CoverCalled(
        uint256 indexed loanId,
        address indexed by,
        uint256 principalFen,
        uint256[] owedFen,
        uint256[] marginPaidFen,
        uint256[] marginReturnedFen,
        uint256 poolFen,
        uint64 dueAt
    );
    /// @notice The provider of layer `layer` paid `amountFen` of its claim (a principal-only
    /// receipt); `paidFen` of `owedFen` is now paid.
    event CoverHonoured(
        uint256 indexed loanId,
        uint256 indexed layer,
        address indexed provider,
        uint256 amountFen,
        uint256 paidFen,
        uint256 owedFen
    );
    /// @notice `by` marked the claim of layer `layer` breached: `unpaidFen` still unpaid
    /// after its due date `dueAt`. The claim stays payable.
    event CoverBreached(
        uint256 indexed loanId,
        uint256 indexed layer,
        address indexed provider,
        address by,
        uint256 unpaidFen,
        uint64 dueAt
    );
    /// @notice A receipt after the default paid back cover: per layer, then the pool.
    event CoverReimbursed(
        uint256 indexed loanId, address indexed payer, uint256[] layersFen, uint256 poolFen
    );
    /// @notice The loan was repaid or cancelled: the margins still held went back.
    event CoverReleased(uint256 indexed loanId, uint256[] marginsFen);

    // --- input and state errors ---
    error NotLoanBook(address caller);
    error TooManyCoverLayers(uint256 count, uint256 max);
    error ZeroCoverShare(uint256 layer);
    error InvalidCoverCap(uint256 layer, uint256 capFen);
    error MarginAboveCap(uint256 layer, uint256 marginFen, uint256 capFen);
    error CoverSharesAboveWhole(uint256 totalBps);
    error NoCover(uint256 loanId);
    error CoverClosed(uint256 loanId);
    error CoverTermsMismatch(uint256 loanId, bytes32 expected, bytes32 given);
    error NoLayerToAccept(uint256 loanId, address caller);
    error CoverNotAccepted(uint256 loanId, uint256 layer, address provider);
    error UnknownLayer(uint256 loanId, uint256 layer);
    error NotProvider(uint256 loanId, uint256 layer, address caller, address provider);
    error NotDefaulted(uint256 loanId);
    error ZeroHonour(uint256 loanId, uint256 layer);
    error HonourAboveClaim(uint256 loanId, uint256 layer, uint256 amountFen, uint256 unpaidFen);
    error NothingClaimed(uint256 loanId, uint256 layer);
    error ClaimLapsed(uint256 loanId, uint256 layer);
    error ClaimNotDue(uint256 loanId, uint256 layer, uint64 nowAt, uint64 dueAt);
    error AlreadyBreached(uint256 loanId, uint256 layer);

    // --- compliance (DESIGN §6.2): each names the rule and the numbers ---
    /// @notice a tech partner may give a GUARANTEE layer only.
    error TechPartnerCoverKind(uint256 layer, Kind kind);
    /// @notice a tech partner's cover shares in the loan exceed `max_tech_cover_bps` (不得兜底).
    error TechCoverAboveCap(address provider, uint256 shareBps, uint256 maxTechCoverBps);
    /// @notice GUARANTEE + INSURANCE shares leave lenders less than `min_lender_retention_bps`.
    error LenderRetentionTooLow(
        uint256 coveredBps, uint256 retainedBps, uint256 minLenderRetentionBps
    );
    /// @notice a REPURCHASE layer's provider owes none of the pledged receivables.
    error RepurchaseNotByDebtor(uint256 layer, address provider);

    /// @notice Record and check the layers of a proposal. Only the loan book, inside `propose`.
    function register(
        uint256 loanId,
        bytes32 termsHash,
        uint256[] calldata receivableIds,
        CoverSpec[] calldata layers
    ) external;
    /// @notice The caller accepts all its unaccepted layers of `loanId` by the terms hash,
    /// depositing their margins. Only an active provider of the loan, before funding.
    function accept(uint256 loanId, bytes32 termsHash) external;
    /// @notice Reverts with `CoverNotAccepted` unless every layer of `loanId` is accepted.
    function requireAccepted(uint256 loanId) external view;
    /// @notice The loan was repaid or cancelled (by `actor`'s action): return the margins
    /// still held. Only the loan book.
    function release(uint256 loanId, address actor) external;
    /// @notice The loan was declared defaulted by `by` with `principalFen` outstanding: settle
    /// margins and the pool's cover. Returns the cover to apply as one principal-only receipt
    /// and the account the loan book pays it from. Only the loan book.
    function onDefault(uint256 loanId, uint256 principalFen, address by)
        external
        returns (uint256 coverFen, address payer);
    /// @notice Reimburse cover out of `residualFen` of a receipt after the default, paid by
    /// `payer`; returns what was taken. Only the loan book.
    function reimburse(uint256 loanId, address payer, uint256 residualFen)
        external
        returns (uint256 takenFen);
    /// @notice The provider of `layer` pays `amountFen` of its claim (capped at the principal
    /// outstanding) as a principal-only receipt, seniors first. Returns what was paid.
    function honour(uint256 loanId, uint256 layer, uint256 amountFen)
        external
        returns (uint256 paidFen);
    /// @notice Any active member marks an unpaid claim breached once its due date has passed.
    function breach(uint256 loanId, uint256 layer) external;

    function coverOf(uint256 loanId) external view returns (CoverInfo memory);
    function layerOf(uint256 loanId, uint256 layer) external view returns (LayerInfo memory);
}
