// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Policy — the regulator's parameters, in three storage words
/// @notice Defaults per DESIGN §4.7, §6.2 and §6.6: originator share ≥ 30%, rate + penalty
/// ≤ 24%, tech fee ≤ 30% of interest, single-borrower exposure ≤ 10% and related-group
/// exposure ≤ 15% of a lender's net assets, default after 90 days past maturity; cover: a
/// tech partner's share ≤ 20%, lenders keep ≥ 20% of every loss, claims due 30 days after a
/// default; an online micro-lender's exposure to one borrower ≤ 300,000.00 (individual) or
/// 1,000,000.00 (business), a micro-lender's book ≤ 5 × its net assets, the tech fee
/// withheld while its loans' NPL ratio is above 2.5%; securitisation (§6.5): a servicing fee ≤
/// 0.5% a year, the originator retaining ≥ 5% of a deal's pool. Only a national regulator
/// changes them.
contract Policy is IPolicy, AuditedEngine {
    bytes32 private constant MIN_ORIGINATOR_SHARE = "min_originator_share_bps";
    bytes32 private constant MAX_APR = "max_apr_bps";
    bytes32 private constant MAX_FEE_SHARE = "max_fee_share_bps";
    bytes32 private constant MAX_SINGLE_BORROWER = "max_single_borrower_bps";
    bytes32 private constant DEFAULT_DAYS = "default_days";
    bytes32 private constant MAX_TECH_COVER = "max_tech_cover_bps";
    bytes32 private constant MIN_LENDER_RETENTION = "min_lender_retention_bps";
    bytes32 private constant CLAIM_DAYS = "claim_days";
    bytes32 private constant MAX_ONLINE_INDIVIDUAL = "max_online_individual_fen";
    bytes32 private constant MAX_ONLINE_BUSINESS = "max_online_business_fen";
    bytes32 private constant MAX_RELATED_GROUP = "max_related_group_bps";
    bytes32 private constant MAX_BOOK = "max_book_x100";
    bytes32 private constant TECH_FEE_NPL = "tech_fee_npl_bps";
    bytes32 private constant MAX_SERVICING_FEE = "max_servicing_fee_bps";
    bytes32 private constant MIN_RETENTION = "min_retention_bps";

    IMembership public immutable membership;

    Params private _params = Params({
        minOriginatorShareBps: 3000,
        maxAprBps: 2400,
        maxFeeShareBps: 3000,
        maxSingleBorrowerBps: 1000,
        defaultDays: 90,
        maxTechCoverBps: 2000,
        minLenderRetentionBps: 2000,
        claimDays: 30,
        maxOnlineIndividualFen: 30_000_000,
        maxOnlineBusinessFen: 100_000_000,
        maxRelatedGroupBps: 1500,
        maxBookX100: 500,
        techFeeNplBps: 250
    });
    DealParams private _dealParams = DealParams({maxServicingFeeBps: 50, minRetentionBps: 500});

    constructor(IAuditTrail trail, IMembership members) AuditedEngine(trail) {
        membership = members;
    }

    /// @inheritdoc IPolicy
    function set(bytes32 name, uint256 value) external {
        membership.requireRole(msg.sender, Roles.REGULATOR);
        uint32 region = membership.profileOf(msg.sender).region;
        if (region != 0) revert NationalRegulatorOnly(msg.sender, region);
        Params storage p = _params;
        uint256 old;
        if (name == MIN_ORIGINATOR_SHARE) {
            old = p.minOriginatorShareBps;
            p.minOriginatorShareBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MAX_APR) {
            old = p.maxAprBps;
            p.maxAprBps = uint16(_bounded(name, value, 65_535));
        } else if (name == MAX_FEE_SHARE) {
            old = p.maxFeeShareBps;
            p.maxFeeShareBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MAX_SINGLE_BORROWER) {
            old = p.maxSingleBorrowerBps;
            p.maxSingleBorrowerBps = uint16(_bounded(name, value, 10_000));
        } else if (name == DEFAULT_DAYS) {
            old = p.defaultDays;
            p.defaultDays = uint16(_bounded(name, value, 3650));
        } else if (name == MAX_TECH_COVER) {
            old = p.maxTechCoverBps;
            p.maxTechCoverBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MIN_LENDER_RETENTION) {
            old = p.minLenderRetentionBps;
            p.minLenderRetentionBps = uint16(_bounded(name, value, 10_000));
        } else if (name == CLAIM_DAYS) {
            old = p.claimDays;
            p.claimDays = uint16(_bounded(name, value, 3650));
        } else if (name == MAX_ONLINE_INDIVIDUAL) {
            old = p.maxOnlineIndividualFen;
            p.maxOnlineIndividualFen = uint64(_bounded(name, value, type(uint64).max));
        } else if (name == MAX_ONLINE_BUSINESS) {
            old = p.maxOnlineBusinessFen;
            p.maxOnlineBusinessFen = uint64(_bounded(name, value, type(uint64).max));
        } else if (name == MAX_RELATED_GROUP) {
            old = p.maxRelatedGroupBps;
            p.maxRelatedGroupBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MAX_BOOK) {
            old = p.maxBookX100;
            p.maxBookX100 = uint16(_bounded(name, value, 65_535));
        } else if (name == TECH_FEE_NPL) {
            old = p.techFeeNplBps;
            p.techFeeNplBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MAX_SERVICING_FEE) {
            old = _dealParams.maxServicingFeeBps;
            _dealParams.maxServicingFeeBps = uint16(_bounded(name, value, 10_000));
        } else if (name == MIN_RETENTION) {
            old = _dealParams.minRetentionBps;
            _dealParams.minRetentionBps = uint16(_bounded(name, value, 10_000));
        } else {
            revert UnknownParameter(name);
        }
        emit PolicyChanged(name, old, value);
        _audit(AuditKinds.POLICY_CHANGED, uint256(name), keccak256(abi.encode(name, old, value)));
    }

    /// @inheritdoc IPolicy
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IPolicy
    function dealParams() external view returns (DealParams memory) {
        return _dealParams;
    }

    function _bounded(bytes32 name, uint256 value, uint256 max) private pure returns (uint256) {
        if (value > max) revert ParameterOutOfRange(name, value, max);
        return value;
    }
}
