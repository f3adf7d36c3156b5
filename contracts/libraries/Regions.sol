// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Regions — GB/T 2260 administrative division codes as jurisdictions
/// @notice A code is six digits PPCCDD: province PP, city CC, district DD. 000000 is
/// national; PP0000 a province holds every code PPxxxx; PPCC00 a city holds every code
/// PPCCxx; any other code holds only itself.
library Regions {
    uint32 internal constant NATIONAL = 0;
    uint32 internal constant MAX = 999_999;

    /// @notice True when `region` lies inside `jurisdiction`.
    function covers(uint32 jurisdiction, uint32 region) internal pure returns (bool) {
        if (jurisdiction == NATIONAL) return true;
        if (jurisdiction % 10_000 == 0) return jurisdiction / 10_000 == region / 10_000;
        if (jurisdiction % 100 == 0) return jurisdiction / 100 == region / 100;
        return jurisdiction == region;
    }
}
