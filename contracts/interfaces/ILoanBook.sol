// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanReceipts} from "./ILoanReceipts.sol";
import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title ILoanBook — joint loans (联合贷款) with an automatic repayment waterfall
/// @notice A loan is proposed by its originating lender against receivables held by the
/// borrower; the borrower reviews the terms (the disclosed APR among them) and accepts,
/// which pledges its receivables; each lender funds its own tranche in e-CNY; the
/// originator disburses to the loan's fixed payees (定向支付). Every receipt — a direct
/// repayment, a pledged receivable's payment, the swept share of a payment into the
/// borrower's wallet — is split in the same transaction per DESIGN §4.5: tech-partner fee,
/// provision, senior coupons, junior interest, principal, residual. Compliance rules are
/// checked inside each transaction and refusals name the rule and the numbers.
interface ILoanBook is ILoanReceipts, IMembershipErrors {
    enum Status {
        NONE,
        PROPOSED,
        ACCEPTED,
        FUNDING,
        FUNDED,
        DISBURSED,
        REPAID,
        DEFAULTED,
        CANCELLED
    }

    enum Mode {
        SEQUENTIAL,
        PRO_RATA
    }

    /// @notice Where a receipt came from.
    enum Source {
        REPAYMENT,
        RECEIVABLE,
        SWEEP,
        COVER
    }

    /// @notice Loan terms as proposed.
    struct Terms {
        address borrower;
        address techPartner; // receives the fee share; zero when feeShareBps is 0
        uint16 rateBps;
        uint16 penaltyBps;
        uint16 termDays;
        uint16 graceDays;
        uint16 feeShareBps;
        uint16 provisionShareBps;
        uint16 sweepBps;
        Mode mode;
        // The proposal lapses this many days after it is made (0: 30). Not stored: termsOf
        // reports 0, and LoanInfo.expiresAt the deadline itself.
        uint16 expiryDays;
    }

    /// @notice One tranche: its lender, class (senior: fixed coupon, first in line; junior:
    /// residual interest, first loss), principal and coupon (seniors only).
    struct TrancheSpec {
        address lender;
        bool senior;
        uint256 amountFen;
        uint16 couponBps;
    }

    /// @notice A tranche's live state, as `trancheOf` returns it.
    struct TrancheInfo {
        address lender;
        bool senior;
        uint256 amountFen;
        uint16 couponBps;
        uint256 outstandingFen;
        uint256 couponDueFen;
        bool funded;
    }

    /// @notice One stage of a staged loan (DESIGN §6.4), as the loan book keeps it. Stage 0 is
    /// drawn at disbursement; stage k ≥ 1 by the borrower from `day` days after it, before
    /// maturity. What a stage takes is drawn from the tranches pro rata by commitment.
    struct Stage {
        uint16 day;
        uint72 amountFen;
        uint40 drawnAt; // 0 while undrawn
        bool lapsed; // its money went back to the lenders
    }

    /// @notice A loan's live state, as `loanOf` returns it; interest accrued to this block.
    struct LoanInfo {
        Status status;
        address originator;
        address borrower;
        uint256 principalFen;
        uint256 outstandingFen;
        uint256 interestDueFen;
        uint64 disbursedAt;
        uint64 maturityAt;
        uint64 accruedTo;
        bytes32 termsHash;
        uint256 trancheCount;
        uint64 expiresAt;
    }

    /// @notice `terms` is the terms document the borrower and the cover providers accept by
    /// its keccak-256: `abi.encode(Terms, TrancheSpec[], receivableIds, payees,
    /// payeeAmountsFen, ICoverBook.CoverSpec[] layers)`, or for a staged loan the same
    /// followed by `uint256[] payeeStages, uint256[] stageDays` (the day of stage k ≥ 1 at
    /// index k − 1).
    event LoanProposed(
        uint256 indexed loanId,
        address indexed originator,
        address indexed borrower,
        bytes terms,
        bytes32 termsHash
    );
    event LoanAccepted(uint256 indexed loanId, address indexed borrower, bytes32 termsHash);
    event LoanFunded(
        uint256 indexed loanId, address indexed lender, uint256 amountFen, bool fullyFunded
    );
    event LoanDisbursed(
        uint256 indexed loanId,
        address indexed originator,
        uint64 disbursedAt,
        uint64 maturityAt,
        address[] payees,
        uint256[] amountsFen
    );
    event LoanSettled(
        uint256 indexed loanId,
        Source indexed source,
        address indexed payer,
        uint256 amountFen,
        uint256 feeFen,
        uint256 provisionFen,
        uint256[] interestFen,
        uint256[] principalFen,
        uint256 residualFen,
        address residualTo,
        bool repaid
    );
    event LoanCancelled(uint256 indexed loanId, address indexed by, uint256 refundedFen);
    event LoanDefaulted(
        uint256 indexed loanId,
        address indexed by,
        uint256 coverFen,
        uint256[] principalFen,
        uint256 lossFen,
        uint256 interestDueFen
    );

    /// @notice The borrower drew stage `stage`: `principalFen` per tranche (pro rata by
    /// commitment) paid to the stage's payees.
    event StageDrawn(
        uint256 indexed loanId,
        uint256 indexed stage,
        address indexed borrower,
        uint256 amountFen,
        uint256[] principalFen,
        address[] payees,
        uint256[] amountsFen
    );
    /// @notice Undrawn `stages` lapsed: each tranche's undrawn money went back to its lender.
    event StagesLapsed(
        uint256 indexed loanId, address indexed by, uint256[] stages, uint256[] refundsFen
    );
    /// @notice Tranche `index` of `loanId` passed from `from` to `to` with its outstanding
    /// principal and unpaid coupon (DESIGN §6.3, §6.5); `from`'s exposure booking for it,
    /// `releasedFen`, was released and `bookedFen` booked for `to` (0 for an engine account).
    /// Covered by the audit entry of the tranche market's action.
    event TrancheTransferred(
        uint256 indexed loanId,
        uint256 indexed index,
        address indexed from,
        address to,
        uint256 outstandingFen,
        uint256 releasedFen,
        uint256 bookedFen
    );

    // --- input and state errors ---
    error UnknownLoan(uint256 loanId);
    error WrongLoanStatus(uint256 loanId, Status status);
    error NoTranches();
    error TooManyTranches(uint256 count, uint256 max);
    error InvalidTrancheAmount(uint256 index, uint256 amountFen);
    error PrincipalAboveCap(uint256 principalFen, uint256 capFen);
    error JuniorWithCoupon(uint256 index, uint16 couponBps);
    error NoReceivables();
    error InvalidTerm(uint16 termDays);
    error PayeesMismatch(uint256 payeesSumFen, uint256 principalFen);
    error SharesAboveWhole(uint16 feeShareBps, uint16 provisionShareBps);
    error SweepAboveWhole(uint16 sweepBps);
    error MissingTechPartner();
    error NotOriginator(uint256 loanId, address caller, address originator);
    error NotBorrower(uint256 loanId, address caller, address borrower);
    error NotOriginatorOrBorrower(uint256 loanId, address caller);
    error NotLenderOfLoan(uint256 loanId, address caller);
    error TermsMismatch(uint256 loanId, bytes32 expected, bytes32 given);
    error NothingToFund(uint256 loanId, address lender);
    error ZeroReceipt(uint256 loanId);
    error ReceiptsMismatch(uint256 loans, uint256 amounts);
    error EmptyBatch();
    error DefaultTooEarly(uint256 loanId, uint64 nowAt, uint64 earliestAt);
    error NothingOutstanding(uint256 loanId);
    error NotReceivableToken(address caller);
    error NotTokenContract(address caller);
    error NotTrancheMarket(address caller);
    error UnknownTranche(uint256 loanId, uint256 index, uint256 trancheCount);
    /// @notice `given` is not the holder of the tranche; `holder` is.
    error NotTrancheHolder(uint256 loanId, uint256 index, address given, address holder);
    error InvalidNewHolder(uint256 loanId, uint256 index, address to);
    /// @notice A tranche of a staged loan changes holder only once every stage is drawn:
    /// `notDrawn` stages are still undrawn or lapsed, and their money is the committing
    /// lender's (DESIGN §6.3, §6.4).
    error StagesNotDrawn(uint256 loanId, uint256 index, uint256 notDrawn);
    error NotCoverBook(address caller);
    /// @notice The proposal lapsed at `expiresAt`: it can no longer be accepted, funded or
    /// disbursed, only cancelled (by its originator, its borrower or any of its lenders).
    error ProposalExpired(uint256 loanId, uint64 expiresAt, uint64 nowAt);
    /// @notice A pledged receivable is paid before its loan is disbursed: refused, so the
    /// collateral cannot leave before the loan exists (the loan is `status`).
    error PaymentBeforeDisbursement(uint256 loanId, uint256 receivableId, Status status);
    /// @notice A senior coupon above the borrower's rate: the lenders would be owed more
    /// interest than the borrower pays.
    error CouponAboveRate(uint256 index, uint16 couponBps, uint16 rateBps);
    /// @notice More receivables pledged to one loan than a settlement can release in one block.
    error TooManyReceivables(uint256 count, uint256 max);
    /// @notice More payees for one disbursement than the cap.
    error TooManyPayees(uint256 count, uint256 max);

    // --- staged drawdown (DESIGN §6.4) ---
    /// @notice A staged terms document lists `stages` payee stages for `payees` payees.
    error StagesMismatch(uint256 payees, uint256 stages);
    /// @notice More stages than the cap.
    error TooManyStages(uint256 count, uint256 max);
    /// @notice Stage `stage` has no payee (or pays nothing): every stage up to the last pays.
    error StageWithoutPayees(uint256 stage);
    /// @notice A payee is in stage `stage`, which has no day.
    error StageWithoutDay(uint256 stage);
    /// @notice Stage `stage`'s day must fall before maturity: `day` < the term of `termDays`.
    error StageDayNotBeforeMaturity(uint256 stage, uint256 day, uint256 termDays);
    /// @notice The loan has `stages` stages (0 to stages − 1; 1 for an unstaged loan).
    error UnknownStage(uint256 loanId, uint256 stage, uint256 stages);
    /// @notice Stage `stage` may be drawn from `dueAt` (disbursement + its day), not `nowAt`.
    error StageNotYetDue(uint256 loanId, uint256 stage, uint64 dueAt, uint64 nowAt);
    /// @notice Stage `stage` was drawn at `drawnAt` (stage 0 at disbursement).
    error StageAlreadyDrawn(uint256 loanId, uint256 stage, uint64 drawnAt);
    /// @notice Stage `stage` lapsed: it was not drawn before maturity at `maturityAt`.
    error StageLapsed(uint256 loanId, uint256 stage, uint64 maturityAt);
    /// @notice Undrawn stages lapse from maturity at `maturityAt` on, not `nowAt`.
    error LapseBeforeMaturity(uint256 loanId, uint64 maturityAt, uint64 nowAt);
    /// @notice No stage of the loan is left undrawn.
    error NothingToLapse(uint256 loanId);
    /// @notice Only the loan's borrower, one of its lenders or an operator, not `caller`.
    error NotPartyToLoan(uint256 loanId, address caller);

    // --- compliance (DESIGN §4.7): each names the rule and the numbers ---
    /// @notice joint loan: the originating lender funds `shareBps` of principal, below `minBps`.
    error OriginatorShareTooLow(uint256 shareBps, uint256 minBps);
    /// @notice borrower rate + penalty rate above the cap.
    error AprAboveCap(uint256 rateBps, uint256 penaltyBps, uint256 maxAprBps);
    /// @notice tech partner's fee share above the cap.
    error FeeShareAboveCap(uint256 feeShareBps, uint256 maxFeeShareBps);
    /// @notice a tech partner may not fund a tranche (platforms may not 兜底).
    error TechPartnerCannotFund(address lender);
    /// @notice a lender's exposure to one borrower would exceed its share of net assets.
    error ExposureAboveLimit(
        address lender, address borrower, uint256 exposureFen, uint256 limitFen
    );

    /// @notice Propose a loan. `terms` is `abi.encode(Terms, TrancheSpec[], uint256[]
    /// receivableIds, address[] payees, uint256[] payeeAmountsFen, CoverSpec[] layers)`; the
    /// borrower and every cover provider accept it by its hash. Only an active LENDER, which
    /// becomes the originator.
    function propose(bytes calldata terms) external returns (uint256 loanId);
    /// @notice The borrower accepts the terms it reviewed (`termsHash`), pledging its receivables.
    function accept(uint256 loanId, bytes32 termsHash) external;
    /// @notice A lender funds all of its unfunded tranches of the loan, before the proposal
    /// expires and once every cover layer is accepted; the terms are checked again against
    /// the policy in force.
    function fund(uint256 loanId) external;
    /// @notice The originator pays the principal to the loan's fixed payees, before the
    /// proposal expires: the terms are checked again against the policy in force, the
    /// borrower and payees must be active and every receivable still pledged to the loan.
    function disburse(uint256 loanId) external;
    /// @notice Any active member repays `amountFen`; the residual goes to the borrower.
    function repay(uint256 loanId, uint256 amountFen) external;
    /// @notice Settle several repayments, for several loans, in one transaction: each runs
    /// the waterfall with its own event and audit entry, the caller paying them all; at least
    /// one receipt, the same number of loans and amounts.
    function repayMany(uint256[] calldata loanIds, uint256[] calldata amountsFen) external;
    /// @notice The originator or the borrower cancels before disbursement; after the
    /// proposal's expiry any of its lenders may too (a co-lender's exit). Every funded tranche
    /// is refunded to its lender (held for it if it is not active), receivables released.
    function cancel(uint256 loanId) external;
    /// @notice A lender of the loan or an operator declares it defaulted `default_days` past
    /// maturity; the layers' margins and the provision pool cover principal, seniors first,
    /// in one principal-only receipt (DESIGN §6.2).
    function declareDefault(uint256 loanId) external;
    /// @notice The borrower draws stage `stage` (k ≥ 1) of a disbursed loan, from its day and
    /// before maturity: its amount is drawn from the tranches pro rata by commitment (largest
    /// remainder, ties to the lower index; by undrawn money where rounding would overdraw a
    /// tranche) and paid to the stage's payees only. Interest and coupons accrue on the drawn
    /// outstanding only, from now.
    function draw(uint256 loanId, uint256 stage) external;
    /// @notice From maturity on, the borrower, a lender of the loan or an operator lapses its
    /// undrawn stages: each tranche's undrawn money goes back to its lender (held for it if it
    /// is not active). They lapse by themselves when the loan is repaid or defaulted.
    function lapse(uint256 loanId) external;
    /// @notice Tranche `index` of a DISBURSED or DEFAULTED loan passes from its holder `from`
    /// to `to`: outstanding principal, unpaid coupon and every later receipt's share. `from`'s
    /// exposure for it is released; `to` is an active LENDER, not a TECH_PARTNER, within its
    /// single-borrower limit for the outstanding (booked), or an engine account (a
    /// securitisation deal's, booking nothing). Only the tranche market, which checks the
    /// sale's own rules and audits the action.
    function transferTranche(uint256 loanId, uint256 index, address from, address to) external;

    function loanOf(uint256 loanId) external view returns (LoanInfo memory);
    function termsOf(uint256 loanId) external view returns (Terms memory);
    function trancheOf(uint256 loanId, uint256 index) external view returns (TrancheInfo memory);
    function receivablesOf(uint256 loanId) external view returns (uint256[] memory);
    function payeesOf(uint256 loanId)
        external
        view
        returns (address[] memory payees, uint256[] memory amountsFen);
    function exposureOf(address lender, address borrower) external view returns (uint256);
    function nextLoanId() external view returns (uint256);
}
