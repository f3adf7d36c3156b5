// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {Loans} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title Compliance — the lender rules of DESIGN §4.7 and §6.6
/// @notice The rates and originator's share are checked at proposal, funding and
/// disbursement; the role and single-borrower checks at proposal and funding; the §6.6
/// rules' arithmetic is here too, wired to its books by Prudential.
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

    /// @notice The online micro-loan cap on one borrower's exposure, by its kind: the
    /// individual cap for INDIVIDUAL and UNSPECIFIED, the business cap otherwise.
    function onlineCap(IMembership.BorrowerKind kind, IPolicy.Params memory p)
        internal
        pure
        returns (uint256)
    {
        if (kind == IMembership.BorrowerKind.INDIVIDUAL || kind == IMembership.BorrowerKind.UNSPECIFIED) {
            return p.maxOnlineIndividualFen;
        }
        return p.maxOnlineBusinessFen;
    }

    /// @notice The key a borrower's exposure counts under: its related-party group, or the
    /// borrower itself (as a 20-byte key, which no group name can equal: names are UTF-8
    /// text, left-aligned, and never start with twelve zero bytes).
    function groupKey(bytes32 group, address borrower) internal pure returns (bytes32) {
        return group != bytes32(0) ? group : bytes32(uint256(uint160(borrower)));
    }

    /// @notice `bps` basis points of `netAssetsFen`, floored.
    function shareOf(uint256 netAssetsFen, uint256 bps) internal pure returns (uint256) {
        return netAssetsFen * bps / BPS;
    }

    /// @notice A micro-lender's book limit: `x100` hundredths of its net assets, floored.
    function bookLimit(uint256 netAssetsFen, uint256 x100) internal pure returns (uint256) {
        return netAssetsFen * x100 / 100;
    }

    /// @notice True while defaulted ÷ outstanding > `thresholdBps` / 10000, compared
    /// exactly (no rounding): the tech fee is withheld.
    function nplAbove(uint256 defaultedFen, uint256 outstandingFen, uint256 thresholdBps)
        internal
        pure
        returns (bool)
    {
        return defaultedFen * BPS > thresholdBps * outstandingFen;
    }
}
