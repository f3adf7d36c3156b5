// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILoanBook} from "../interfaces/ILoanBook.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPolicy} from "../interfaces/IPolicy.sol";
import {Loans} from "./LoanStorage.sol";
import {Roles} from "./Roles.sol";

/// @title Compliance — the lender rules of DESIGN §4.7 checked at proposal and at funding
library Compliance {
    uint256 internal constant BPS = 10_000;

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
