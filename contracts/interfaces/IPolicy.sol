// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IPolicy — compliance parameters the contracts enforce (合规即执行)
/// @notice Set only by an active REGULATOR; every change is an audit entry. The loan book
/// reads them inside every proposal, funding and default.
interface IPolicy is IMembershipErrors {
    /// @notice All parameters, in basis points or days.
    struct Params {
        uint16 minOriginatorShareBps; // joint loan: originating lender funds at least this share
        uint16 maxAprBps; // borrower rate + penalty rate at most this
        uint16 maxFeeShareBps; // tech partner's share of interest at most this
        uint16 maxSingleBorrowerBps; // one lender's exposure to one borrower, of its net assets
        uint16 defaultDays; // a loan can be declared defaulted this many days past maturity
    }

    /// @notice Securitisation parameters (DESIGN §6.5), kept apart from `Params` so the loan
    /// book, which reads `params()`, does not decode them.
    struct DealParams {
        uint16 maxServicingFeeBps; // a servicer's fee a year, of the notes' balance
        uint16 minRetentionBps; // the originator keeps this share of a deal's pool, in its junior
        uint16 claimDays; // days a loan is DEFAULTED before a deal writes its tranche off
    }

    event PolicyChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);

    /// @notice `name` is not a policy parameter.
    error UnknownParameter(bytes32 name);
    /// @notice `value` is outside the parameter's range [0, max].
    error ParameterOutOfRange(bytes32 name, uint256 value, uint256 max);

    /// @notice Change one parameter, by name (e.g. "max_apr_bps"). Only an active REGULATOR.
    function set(bytes32 name, uint256 value) external;
    /// @notice Every parameter.
    function params() external view returns (Params memory);
    /// @notice The securitisation parameters.
    function dealParams() external view returns (DealParams memory);
}
