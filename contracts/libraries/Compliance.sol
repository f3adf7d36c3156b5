// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {Loans} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title Compliance — the rules of DESIGN §4.7 checked at proposal, funding and disbursement
library Compliance {
    uint256 internal constant BPS = 10_000;

    /// @notice Borrower rate + penalty within `max_apr_bps`; fee share within
    /// `max_fee_share_bps`.
    function checkRates(uint16 rateBps, uint16 penaltyBps, uint16 feeShareBps, IPolicy.Params memory p)
        internal
        pure
    {
        if (uint256(rateBps) + penaltyBps > p.maxAprBps) {
            revert ILoanBook.AprAboveCap(rateBps, penaltyBps, p.maxAprBps);
        }
        if (feeShareBps > p.maxFeeShareBps) {
            revert ILoanBook.FeeShareAboveCap(feeShareBps, p.maxFeeShareBps);
        }
    }

    /// @notice Joint loan: originatorAmount / principal ≥ min_originator_share_bps / 10000,
    /// compared exactly.
    function checkOriginatorShare(uint256 originatorAmount, uint256 principal, IPolicy.Params memory p)
        internal
        pure
    {
        if (originatorAmount * BPS < uint256(p.minOriginatorShareBps) * principal) {
            revert ILoanBook.OriginatorShareTooLow(
                originatorAmount * BPS / principal, p.minOriginatorShareBps
            );
        }
    }

    /// @notice An active LENDER that is not also a TECH_PARTNER (platforms may not fund).
    function checkLender(IMembership membership, address lender) internal view {
        membership.requireRole(lender, Roles.LENDER);
        if (membership.hasRoles(lender, Roles.TECH_PARTNER)) {
            revert ILoanBook.TechPartnerCannotFund(lender);
        }
    }

    /// @notice The lender's exposure to the borrower after adding `amount` stays within
    /// `max_single_borrower_bps` of its registered net assets. Exposure counts the funded
    /// principal of the lender's open loans to the borrower (released when a loan is repaid
    /// or cancelled, kept while it is defaulted).
    function checkExposure(
        IMembership membership,
        Loans storage loans,
        address lender,
        address borrower,
        uint256 amount,
        IPolicy.Params memory p
    ) internal view {
        uint256 exposure = loans.exposure[lender][borrower] + amount;
        uint256 limit =
            uint256(membership.memberOf(lender).netAssetsFen) * p.maxSingleBorrowerBps / BPS;
        if (exposure > limit) {
            revert ILoanBook.ExposureAboveLimit(lender, borrower, exposure, limit);
        }
    }
}
