"""Custom errors in words: each names the rule and the numbers.

The chain's answer is decoded from the revert data (never from a message string) and
rendered here with local account names, yuan amounts and role names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.money import format_bps, format_fen
from ledger.roles import STATUS_NAMES, role_names

NameOf = Callable[[str], str]

_RULES: dict[str, str] = {
    "NotAMember": "membership: {account} is not a member of the consortium",
    "MemberNotActive": (
        "membership: {account} is {status}; a suspended member can neither send, receive nor act"
    ),
    "MissingRole": "membership: {account} needs role {required} but holds {held}",
    "AlreadyMember": "membership: {account} is already a member",
    "InvalidRoles": "membership: role set {roles} is empty or unknown",
    "ZeroAddressMember": "membership: the zero address cannot be a member",
    "StatusUnchanged": "membership: {account} is already {status}",
    "CannotSuspendSelf": "membership: {account} cannot suspend itself",
    "CannotChangeOwnRecord": "membership: {account} cannot change its own roles, net assets or "
    "profile",
    "EngineCannotBeMember": "membership: {account} is an engine contract of this deployment; "
    "engines are never members",
    "RegulatorOnlyByRegulator": "membership: only a regulator grants or removes REGULATOR; "
    "{caller} is not one (the register holds {regulators} regulator(s); act as one with --as)",
    "RegulatorSuspendedOnlyByRegulator": "membership: only a regulator suspends or reinstates "
    "the regulator {regulator}, not {caller}",
    "OutsideJurisdiction": "jurisdiction: regulator {regulator} (region {jurisdiction}) may act "
    "only inside its region, not on region {region}",
    "InvalidRegion": "membership: region {region} is not a 6-digit GB/T 2260 code",
    "LicenceUnfit": "licence: {account} holds licence {licence}; this needs one of {fitting}",
    "LicenceExpired": "licence: {account}'s {licence} licence expired at {expiredAt} "
    "(chain time {nowAt})",
    "NotAuditWriter": "audit: {caller} is not an engine contract of this deployment",
    "CheckpointOutOfRange": (
        "audit: a checkpoint of {size} entries must be above the latest ({latest}) and at most"
        " the head ({head})"
    ),
    "NotEngine": "e-CNY: {caller} is not an engine contract of this deployment",
    "LengthMismatch": "e-CNY: {payees} payees but {amounts} amounts",
    "ZeroAmount": "e-CNY: the amount must be positive",
    "NothingHeld": "e-CNY: nothing is held for {member}",
    "SweepFailed": "e-CNY: the swept share {shareFen} for loan #{loanId} ran out of gas; "
    "the payment is refused rather than left unswept (send it with more gas)",
    "ERC20InsufficientBalance": "e-CNY: {sender} holds {balance}, needs {needed}",
    "ERC20InsufficientAllowance": "e-CNY: allowance of {spender} is {allowance}, needs {needed}",
    "ERC20InvalidReceiver": "e-CNY: {receiver} cannot receive",
    "ERC20InvalidSender": "e-CNY: {sender} cannot send",
    "ERC20InvalidApprover": "e-CNY: {approver} cannot approve",
    "ERC20InvalidSpender": "e-CNY: {spender} cannot be a spender",
    # receivables
    "UnknownReceivable": "receivables: there is no receivable #{id}",
    "DocumentAlreadyUsed": (
        "receivables: document {docHash} already backs receivable #{existing} "
        "(a debtor's document backs one receivable: no double financing; only its rejection "
        "or cancellation frees it)"
    ),
    "MissingDocument": "receivables: a receivable needs a document hash",
    "MaturityInPast": "receivables: maturity {maturityAt} is not after the chain's time {nowAt}",
    "InvalidValue": "receivables: value {valueFen} is zero or above the maximum {maxFen}",
    "WrongStatus": "receivables: #{id} is {status}, which does not allow this",
    "NotHolder": "receivables: {caller} does not hold #{id} ({holder} does)",
    "NotDebtor": "receivables: {caller} is not the debtor of #{id} ({debtor} is)",
    "PartCount": "receivables: a split takes 2 to {max} parts, not {parts}",
    "PartsMismatch": "receivables: the parts of #{id} sum to {sumFen}, not its unpaid {unpaidFen} "
    "(or a part is zero)",
    "Overpayment": "receivables: paying {amountFen} on #{id} is zero or more than the unpaid "
    "{unpaidFen}",
    "NotBorrowersReceivable": "loans: receivable #{id} is held by {holder}, not by the borrower "
    "{borrower}",
    "NotLoanBook": "only the loan book may do this (pledge, release, cover hooks), not {caller}",
    "ApprovalsDisabled": "receivables: approvals are disabled; only the holder moves a receivable",
    "SelfTransfer": "receivables: #{id} is already held by the recipient",
    "SelfIssue": "receivables: {issuer} cannot issue a receivable to itself",
    "DebtorIsBorrower": "loans: receivable #{id} is owed by the borrower {borrower} itself and "
    "cannot back its loan",
    "NotPledgedToLoan": "loans: receivable #{id} is {status}, not pledged to loan #{loanId}",
    # loans
    "UnknownLoan": "loans: there is no loan #{loanId}",
    "WrongLoanStatus": "loans: loan #{loanId} is {status}, which does not allow this",
    "NoTranches": "loans: a loan needs at least one tranche",
    "TooManyTranches": "loans: {count} tranches, at most {max}",
    "InvalidTrancheAmount": "loans: tranche {index} amount {amountFen} is zero or too large",
    "PrincipalAboveCap": "loans: principal {principalFen} is above the cap of {capFen}",
    "JuniorWithCoupon": "loans: junior tranche {index} has a coupon {couponBps}; juniors share "
    "the residual interest",
    "NoReceivables": "loans: a loan is proposed against at least one receivable",
    "InvalidTerm": "loans: a term of {termDays} days (1 to 3650)",
    "PayeesMismatch": "loans: payees take {payeesSumFen}, the principal is {principalFen}",
    "SharesAboveWhole": "loans: fee share {feeShareBps} + provision share {provisionShareBps} "
    "exceed 100%",
    "SweepAboveWhole": "loans: sweep share {sweepBps} exceeds 100%",
    "SweepTooLarge": "e-CNY: sweep share {sweepBps} exceeds 100%",
    "MissingTechPartner": "loans: a fee share needs the tech partner it is paid to",
    "NotOriginator": "loans: {caller} is not the originator of loan #{loanId} ({originator} is)",
    "NotBorrower": "loans: {caller} is not the borrower of loan #{loanId} ({borrower} is)",
    "NotOriginatorOrBorrower": "loans: only loan #{loanId}'s originator or borrower (after its "
    "deadline, any of its lenders too) may cancel, not {caller}",
    "NotLenderOfLoan": "loans: {caller} is neither a lender of loan #{loanId} nor an operator",
    "TermsMismatch": "loans: the terms of loan #{loanId} hash to {expected}, not the reviewed "
    "{given}",
    "NothingToFund": "loans: {lender} has no unfunded tranche in loan #{loanId}",
    "ZeroReceipt": "loans: a receipt of zero on loan #{loanId}",
    "ReceiptsMismatch": "loans: {loans} loans but {amounts} amounts",
    "EmptyBatch": "loans: a batch settles at least one receipt",
    "DefaultTooEarly": "loans: loan #{loanId} can be declared defaulted from {earliestAt}, "
    "not {nowAt} (maturity + default_days)",
    "NothingOutstanding": "loans: loan #{loanId} has no principal outstanding",
    "NotReceivableToken": "loans: only the receivable token hands in receivable payments",
    "NotTokenContract": "loans: only the e-CNY token hands in swept payments",
    "NotCoverBook": "loans: only the cover book hands in cover payments, not {caller}",
    # cover layers (DESIGN §6.2)
    "TooManyCoverLayers": "cover: {count} cover layers, at most {max}",
    "ZeroCoverShare": "cover: layer {layer} covers a share of zero",
    "InvalidCoverCap": "cover: layer {layer}'s cap {capFen} is zero or too large",
    "MarginAboveCap": "cover: layer {layer}'s margin {marginFen} is above its cap {capFen}",
    "CoverSharesAboveWhole": "cover: the layers cover {totalBps} of the loss, more than 100%",
    "NoCover": "cover: loan #{loanId} has no cover layers",
    "CoverClosed": "cover: loan #{loanId} was repaid or cancelled; its cover is closed",
    "CoverTermsMismatch": "cover: the terms of loan #{loanId} hash to {expected}, not the "
    "reviewed {given}",
    "NoLayerToAccept": "cover: {caller} has no cover layer of loan #{loanId} left to accept",
    "CoverNotAccepted": "cover: loan #{loanId} cannot be funded until every cover layer is "
    "accepted; layer {layer} by {provider} is not",
    "UnknownLayer": "cover: loan #{loanId} has no cover layer {layer}",
    "NotProvider": "cover: {caller} does not provide layer {layer} of loan #{loanId} "
    "({provider} does)",
    "NotDefaulted": "cover: loan #{loanId} has not defaulted; there is no claim",
    "ZeroHonour": "cover: an honour of zero on layer {layer} of loan #{loanId}",
    "HonourAboveClaim": "cover: {amountFen} is more than the unpaid claim of {unpaidFen} "
    "(layer {layer} of loan #{loanId})",
    "NothingClaimed": "cover: layer {layer} of loan #{loanId} has no claim unpaid",
    "ClaimLapsed": "cover: the claim of layer {layer} of loan #{loanId} has lapsed: the "
    "loan's principal outstanding is 0",
    "ClaimNotDue": "cover: the claim of layer {layer} of loan #{loanId} is due {dueAt}; it "
    "cannot be breached at {nowAt}",
    "AlreadyBreached": "cover: the claim of layer {layer} of loan #{loanId} is already breached",
    "TechPartnerCoverKind": "compliance: layer {layer} is {kind}; a tech partner may give a "
    "GUARANTEE only (no 兜底)",
    "TechCoverAboveCap": "compliance max_tech_cover_bps: tech partner {provider} would cover "
    "{shareBps} of the loss, above the cap of {maxTechCoverBps} (不得兜底)",
    "LenderRetentionTooLow": "compliance min_lender_retention_bps: GUARANTEE + INSURANCE cover "
    "{coveredBps}, leaving the lenders {retainedBps}, below the floor of "
    "{minLenderRetentionBps}",
    "RepurchaseNotByDebtor": "cover: layer {layer}'s REPURCHASE provider {provider} owes none "
    "of the pledged receivables",
    "ProposalExpired": "loans: the proposal of loan #{loanId} lapsed at {expiresAt} (now "
    "{nowAt}); it can only be cancelled, by its originator, borrower or any of its lenders",
    "PaymentBeforeDisbursement": "loans: receivable #{receivableId} is pledged to loan #{loanId}, "
    "which is {status}: it cannot be paid before the loan is disbursed",
    "CouponAboveRate": "loans: senior tranche {index} has a coupon of {couponBps}, above the "
    "borrower's rate of {rateBps}",
    "TooManyReceivables": "loans: {count} receivables pledged to one loan, at most {max}",
    "TooManyPayees": "loans: {count} payees for one disbursement, at most {max}",
    # staged drawdown (DESIGN §6.4)
    "StagesMismatch": "loans: {payees} payees but {stages} payee stages in the terms",
    "TooManyStages": "loans: {count} stages, at most {max}",
    "StageWithoutPayees": "loans: stage {stage} pays nobody (stages run 0, 1, 2, … and each "
    "pays someone)",
    "StageWithoutDay": "loans: a payee is in stage {stage}, which has no day",
    "StageDayNotBeforeMaturity": "loans: stage {stage}'s day {day} is not before maturity "
    "(a term of {termDays} days)",
    "UnknownStage": "loans: loan #{loanId} has {stages} stage(s), numbered from 0: there is no "
    "stage {stage}",
    "StageNotYetDue": "loans: stage {stage} of loan #{loanId} may be drawn from {dueAt} "
    "(disbursement + its day), not {nowAt}",
    "StageAlreadyDrawn": "loans: stage {stage} of loan #{loanId} was drawn at {drawnAt}",
    "StageLapsed": "loans: stage {stage} of loan #{loanId} lapsed: it was not drawn before "
    "maturity at {maturityAt}",
    "LapseBeforeMaturity": "loans: the undrawn stages of loan #{loanId} lapse from maturity at "
    "{maturityAt}, not {nowAt}",
    "NothingToLapse": "loans: loan #{loanId} has no undrawn stage",
    "NotPartyToLoan": "loans: {caller} is neither the borrower, a lender of loan #{loanId} nor "
    "an operator",
    # compliance (DESIGN §4.7)
    "OriginatorShareTooLow": "compliance min_originator_share_bps: the originating lender funds "
    "{shareBps} of principal, below the floor of {minBps}",
    "AprAboveCap": "compliance max_apr_bps: rate {rateBps} + penalty {penaltyBps} exceed the cap "
    "of {maxAprBps}",
    "FeeShareAboveCap": "compliance max_fee_share_bps: the tech fee share {feeShareBps} exceeds "
    "the cap of {maxFeeShareBps}",
    "TechPartnerCannotFund": "compliance: {lender} is a tech partner and may not fund a tranche "
    "(no 兜底)",
    "ExposureAboveLimit": "compliance max_single_borrower_bps: {lender}'s exposure to {borrower} "
    "would be {exposureFen}, above its limit of {limitFen} (the limit is a share of its "
    "registered net assets, which a regulator sets: "
    "`liandai --as REGULATOR member set-net-assets {lender} AMT`)",
    # prudential rules (DESIGN §6.6)
    "OnlineCapExceeded": "compliance max_online_{kindCap}_fen: online micro-lender {lender}'s "
    "exposure to {borrower} ({kind}) would be {exposureFen}, above the cap of {capFen}",
    "RelatedGroupAboveLimit": "compliance max_related_group_bps: {lender}'s exposure to the "
    "related group {group} would be {exposureFen}, above its limit of {limitFen}",
    "BookAboveLimit": "compliance max_book_x100: micro-lender {lender}'s funded book would be "
    "{bookFen}, above its limit of {limitFen}",
    "NotLoanBookCaller": "prudential: only the loan book reports loans, not {caller}",
    "NationalRegulatorOnly": "policy: only a national regulator (region 000000) sets policy; "
    "{regulator} is a regulator of region {region}",
    "NotTrancheMarket": "loans: only the tranche market moves a tranche, not {caller}",
    "UnknownTranche": "loans: loan #{loanId} has {trancheCount} tranches; there is no tranche "
    "{index}",
    "NotTrancheHolder": "tranches: {given} does not hold tranche {index} of loan #{loanId} "
    "({holder} does)",
    "InvalidNewHolder": "tranches: tranche {index} of loan #{loanId} cannot pass to {to}",
    "StagesNotDrawn": "tranches: tranche {index} of loan #{loanId} changes holder only once "
    "every stage is drawn ({notDrawn} undrawn or lapsed)",
    # tranche sales (DESIGN §6.3)
    "NoOffer": "tranches: there is no open offer for tranche {index} of loan #{loanId}",
    "NotOfferedBuyer": "tranches: tranche {index} of loan #{loanId} is offered to {buyer}, not "
    "to {caller}",
    "OfferExpired": "tranches: the offer of tranche {index} of loan #{loanId} expired at "
    "{expiresAt} (now {nowAt})",
    "TrancheInDeal": "tranches: tranche {index} of loan #{loanId} is in securitisation deal "
    "#{dealId} and cannot be offered or sold",
    "ZeroPrice": "tranches: the price of tranche {index} of loan #{loanId} must be positive",
    "InvalidOfferDays": "tranches: an offer lasts 1 to {maxDays} days, not {daysGiven}",
    "SelfOffer": "tranches: {holder} cannot offer tranche {index} of loan #{loanId} to itself",
    "OriginatorShareBelowFloor": "compliance min_originator_share_bps: after the sale the "
    "originator {originator} would hold {heldFen} of loan #{loanId}'s outstanding "
    "{outstandingFen}, below the floor of {minBps}",
    "NotSecuritisation": "tranches: only the securitisation contract locks deal tranches, not "
    "{caller}",
    "NotLockedInDeal": "tranches: tranche {index} of loan #{loanId} is not locked in deal "
    "#{dealId} (locked in: {lockedIn})",
    "NotADeal": "e-CNY: {dealId} is not a securitisation deal's number",
    # securitisation (DESIGN §6.5)
    "UnknownDeal": "abs: there is no deal #{dealId}",
    "WrongDealStatus": "abs: deal #{dealId} is {status}, which does not allow this",
    "NotDealOriginator": "abs: {caller} is not the originator of deal #{dealId} ({originator} is)",
    "NotServicer": "abs: {caller} is not the servicer of deal #{dealId} ({servicer} is)",
    "ClassCount": "abs: a deal has {min} to {max} classes, not {count}",
    "ClassesMismatch": "abs: {names} class names, {amounts} amounts, {coupons} coupons",
    "TranchesMismatch": "abs: {loans} loans but {indexes} tranche indexes",
    "ClassesNotPool": "abs: the classes sum to {classesFen}, not the pool balance {poolFen} "
    "(the tranches' outstanding)",
    "ZeroClass": "abs: class {classIndex} has no amount",
    "ServicingFeeAboveCap": "compliance max_servicing_fee_bps: the servicing fee {feeBps} exceeds "
    "the cap of {maxBps}",
    "InvalidServicer": "abs: the servicer {servicer} must be the originator or an active tech "
    "partner",
    "InvalidPeriod": "abs: a distribution period of {periodDays} days",
    "JuniorBelowRetention": "compliance min_retention_bps: the junior class {juniorFen} cannot "
    "hold the retention of {retentionFen}",
    "RetentionBreached": "compliance min_retention_bps: the originator would hold {heldFen} of "
    "deal #{dealId}'s junior, below the retention of {retentionFen}",
    "OverSubscribed": "abs: class {classIndex} of deal #{dealId} has {leftFen} left, not "
    "{amountFen}",
    "UnknownClass": "abs: deal #{dealId} has no class {classIndex}",
    "NotFullySubscribed": "abs: class {classIndex} of deal #{dealId} is subscribed "
    "{subscribedFen} of {amountFen}",
    "PoolChanged": "abs: deal #{dealId}'s tranches now owe {nowFen}, not the pool of {poolFen}; "
    "cancel and create it again",
    "TooEarlyToDistribute": "abs: only the servicer distributes deal #{dealId} before {nextAt} "
    "(now {nowAt})",
    "NothingToDistribute": "abs: deal #{dealId} has collected nothing since its last distribution",
    "NotInDeal": "abs: tranche {index} of loan #{loanId} is not in deal #{dealId}",
    "AlreadyWrittenOff": "abs: tranche {index} of loan #{loanId} is already written off",
    "WriteOffTooEarly": "abs: loan #{loanId} can be written off from {earliestAt} (maturity + "
    "default_days + claim_days), not {nowAt}",
    "LoanNotDefaulted": "abs: loan #{loanId} is not DEFAULTED",
    "NothingToClaim": "abs: {holder} has nothing to claim from deal #{dealId}",
    "NotNoteToken": "abs: {caller} is not a note token of the deal",
    "NotNoteHolderRole": "abs: {account} is not an active INVESTOR or LENDER, who alone hold notes",
    "TooManySubscriptions": "abs: deal #{dealId} takes at most {max} subscriptions",
    "NotIssuer": "abs: only the securitisation contract mints and burns notes, not {caller}",
    "AlreadyInitialised": "abs: this note token is already bound to its class",
    "FailedDeployment": "abs: a note token could not be created",
    "InsufficientBalance": "abs: the securitisation contract holds {balance}, needs {needed}",
    # policy and pool
    "UnknownParameter": "policy: no parameter named {name}",
    "ParameterOutOfRange": "policy: {name} = {value} is out of range (0 to {max})",
    "ZeroContribution": "pool: a contribution must be positive",
    # credit files (DESIGN §6.7)
    "ConsentNotGranted": "credit consent: {borrower} never granted {lender} consent to read its "
    "credit file",
    "ConsentWasRevoked": "credit consent: {borrower} revoked its consent to {lender} at "
    "{revokedAt}",
    "ConsentExpired": "credit consent: {borrower}'s consent to {lender} expired at {expiresAt} "
    "(now {nowAt})",
    "ConsentDaysOutOfRange": "credit consent: a consent lasts 1 to {maxDays} days, not {daysGiven}",
    "ConsentWithoutPurpose": "credit consent: a consent names its purpose",
    "ConsentToSelf": "credit consent: {account} cannot grant consent to itself",
    "ReentrancyGuardReentrantCall": "reentrant call refused",
    "SafeCastOverflowedUintDowncast": "arithmetic: {value} does not fit in {bits} bits",
    "ERC721NonexistentToken": "receivables: no token #{tokenId}",
    "ERC721IncorrectOwner": "receivables: {sender} does not own #{tokenId} ({owner} does)",
    "ERC721InsufficientApproval": "receivables: {operator} may not move #{tokenId}",
    "ERC721InvalidReceiver": "receivables: {receiver} cannot receive a receivable",
    "ERC721InvalidSender": "receivables: {sender} cannot send",
    "ERC721InvalidApprover": "receivables: {approver} cannot approve",
    "ERC721InvalidOperator": "receivables: {operator} cannot be an operator",
    "ERC721InvalidOwner": "receivables: {owner} cannot own a receivable",
    "TooManyWriters": "audit: {count} writers, at most {max}",
    "TooManyEngines": "e-CNY: {count} engines, at most {max}",
    "Error": "{message}",
    "Panic": "contract panic (code {code})",
}

_ROLE_ARGS = {"roles", "required", "held", "anyOf", "oldRoles", "newRoles"}
_FEN_ARGS = {"balance", "needed", "allowance"}
_TIME_ARGS = {
    "maturityAt",
    "nowAt",
    "earliestAt",
    "dueAt",
    "revokedAt",
    "expiresAt",
    "expiredAt",
    "drawnAt",
    "nextAt",
}
_COVER_KINDS = ["GUARANTEE", "INSURANCE", "REPURCHASE"]
_REGION_ARGS = {"region", "jurisdiction"}
_RECEIVABLE_STATUS = [
    "NONE",
    "PENDING",
    "ACTIVE",
    "PLEDGED",
    "PAID",
    "SPLIT",
    "REJECTED",
    "CANCELLED",
    "OVERDUE",
]
_LOAN_STATUS = [
    "NONE",
    "PROPOSED",
    "ACCEPTED",
    "FUNDING",
    "FUNDED",
    "DISBURSED",
    "REPAID",
    "DEFAULTED",
    "CANCELLED",
]
# Which status list an error's `status` argument is drawn from.
_STATUS_TABLES: dict[str, list[str]] = {
    "WrongStatus": _RECEIVABLE_STATUS,
    "NotPledgedToLoan": _RECEIVABLE_STATUS,
    "WrongLoanStatus": _LOAN_STATUS,
    "PaymentBeforeDisbursement": _LOAN_STATUS,
    "WrongDealStatus": ["NONE", "SUBSCRIBING", "CLOSED", "CANCELLED"],
}


def _render(key: str, value: Any, name_of: NameOf, error: str = "") -> str:
    from ledger.models import KINDS, LICENCES, group_name

    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return name_of(value)
    if key in _REGION_ARGS and isinstance(value, int):
        return f"{value:06d}"
    if key == "licence" and isinstance(value, int):
        return LICENCES[value] if value < len(LICENCES) else str(value)
    if key == "fitting" and isinstance(value, int):
        return ", ".join(n for i, n in enumerate(LICENCES) if value >> i & 1)
    if key == "kind" and isinstance(value, int):
        return KINDS[value] if value < len(KINDS) else str(value)
    if key == "group" and isinstance(value, bytes):
        name = group_name(value)
        return name_of(name) if name.startswith("0x") else repr(name)
    if key in _ROLE_ARGS and isinstance(value, int):
        return "|".join(role_names(value)) or "no role"
    if key == "status" and isinstance(value, int):
        names = _STATUS_TABLES.get(error)
        if names is not None:
            return names[value] if value < len(names) else str(value)
        return STATUS_NAMES.get(value, str(value))
    if key == "layer" and isinstance(value, int):
        return str(value + 1)  # numbered from 1, as `cover show` lists them
    if key == "kind" and isinstance(value, int):
        return _COVER_KINDS[value] if value < len(_COVER_KINDS) else str(value)
    if key in _TIME_ARGS and isinstance(value, int):
        from ledger.money import format_time

        return format_time(value)
    if key == "name" and isinstance(value, bytes):
        return repr(value.rstrip(b"\0").decode("ascii", "replace"))
    if isinstance(value, int) and (key in _FEN_ARGS or key.endswith("Fen")):
        return format_fen(value)
    if isinstance(value, int) and (key.endswith("Bps") or key == "minBps"):
        return format_bps(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def explain(name: str, args: dict[str, Any], name_of: NameOf) -> str:
    """`MissingRole`, {...} → 'MissingRole — membership: bank needs role ECNY_ISSUER …'."""
    rendered = {k: _render(k, v, name_of, name) for k, v in args.items()}
    if name == "OnlineCapExceeded":
        rendered["kindCap"] = "individual" if int(args.get("kind", 0)) <= 1 else "business"
    template = _RULES.get(name)
    if template is None:
        detail = ", ".join(f"{k}={v}" for k, v in rendered.items())
        return f"{name}({detail})"
    return f"{name} — {template.format(**rendered)}"
