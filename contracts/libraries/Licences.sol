// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../interfaces/IMembership.sol";

/// @title Licences — which licences fit which business (DESIGN §6.6)
/// @notice A set of licences is a bit mask with bit `uint8(licence)` set for each member.
library Licences {
    /// @notice Lending (funding a tranche): banks, micro-loan and online micro-loan
    /// companies, factoring companies.
    uint256 internal constant LENDING = (1 << uint8(IMembership.Licence.BANK))
        | (1 << uint8(IMembership.Licence.MICROLOAN))
        | (1 << uint8(IMembership.Licence.ONLINE_MICROLOAN))
        | (1 << uint8(IMembership.Licence.FACTORING));
    /// @notice A guarantee cover layer (政府性融资担保, 再担保).
    uint256 internal constant GUARANTEE_COVER = 1 << uint8(IMembership.Licence.GUARANTEE);
    /// @notice An insurance cover layer (信用保证保险).
    uint256 internal constant INSURANCE_COVER = 1 << uint8(IMembership.Licence.INSURER);
    /// @notice Micro-lenders: their funded book is capped at a multiple of net assets.
    uint256 internal constant MICRO_LENDERS = (1 << uint8(IMembership.Licence.MICROLOAN))
        | (1 << uint8(IMembership.Licence.ONLINE_MICROLOAN));

    function has(uint256 set, IMembership.Licence licence) internal pure returns (bool) {
        return set & (1 << uint8(licence)) != 0;
    }
}
