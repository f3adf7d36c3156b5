// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IPolicy — compliance parameters the contracts enforce (合规即执行)
/// @notice Set only by an active national REGULATOR (region 000000); every change is an
/// audit entry. The loan book reads them inside every proposal, funding, settlement and
/// default.
interface IPolicy is IMembershipErrors {
    /// @notice All parameters, in basis points, days, fen or hundredths.
    struct Params {
        uint16 minOriginatorShareBps; // joint loan: originating lender funds at least this share
        uint16 maxAprBps; // borrower rate + penalty rate at most this
        uint16 maxFeeShareBps; // tech partner's share of interest at most this
        uint16 maxSingleBorrowerBps; // one lender's exposure to one borrower, of its net assets
        uint16 defaultDays; // a loan can be declared defaulted this many days past maturity
        uint16 maxTechCoverBps; // a tech partner's cover share of one loan at most this (§6.2)
        uint16 minLenderRetentionBps; // GUARANTEE + INSURANCE leave lenders at least this
        uint16 claimDays; // a cover claim is due this many days after the default
        // DESIGN §6.6
        uint64 maxOnlineIndividualFen; // online micro-lender: exposure to an individual
        uint64 maxOnlineBusinessFen; // online micro-lender: exposure to a business
        uint16 maxRelatedGroupBps; // one lender's exposure to a related group, of net assets
        uint16 maxBookX100; // a micro-lender's funded book, in hundredths of its net assets
        uint16 techFeeNplBps; // tech fee withheld while its loans' NPL ratio is above this
    }

    /// @notice Securitisation parameters (DESIGN §6.5), kept apart from `Params` so the loan
    /// book, which reads `params()`, does not decode them. A deal writes a loan's tranche off
    /// `Params.claimDays` after its default, the day its cover claims fall due (§6.2).
    struct DealParams {
        uint16 maxServicingFeeBps; // a servicer's fee a year, of the notes' balance
        uint16 minRetentionBps; // the originator keeps this share of a deal's pool, in its junior
    }

    event PolicyChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);

    /// @notice `name` is not a policy parameter.
    error UnknownParameter(bytes32 name);
    /// @notice `value` is outside the parameter's range [0, max].
    error ParameterOutOfRange(bytes32 name, uint256 value, uint256 max);
    /// @notice Policy is national: `regulator`'s jurisdiction is `region`, not 000000.
    error NationalRegulatorOnly(address regulator, uint32 region);

    /// @notice Change one parameter, by name (e.g. "max_apr_bps"). Only an active national
    /// REGULATOR.
    function set(bytes32 name, uint256 value) external;
    /// @notice Every parameter.
    function params() external view returns (Params memory);
    /// @notice The securitisation parameters.
    function dealParams() external view returns (DealParams memory);
}
