// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Waterfall — interest accrual and exact splits (DESIGN §3, §4.5)
/// @notice Pure maths with no storage: simple interest ACT/365 per second, whose sub-fen
/// remainder at each checkpoint is carried to the next (so the interest accrued is the floor
/// of the exact sum, however often it is checkpointed), and the largest-remainder pro-rata split (ties to the lower index) that makes
/// every split sum exactly to the amount split. ledger/waterfall.py is the reference model.
library Waterfall {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant YEAR = 31_536_000;

    /// @notice floor(principal × bps × seconds / (10000 × 31,536,000)).
    /// @dev principal < 2^96, bps < 2^16, seconds < 2^40: the product stays far below 2^256.
    function interest(uint256 principal, uint256 bps, uint256 secs) internal pure returns (uint256) {
        return principal * bps * secs / (BPS * YEAR);
    }

    /// @notice Accrue one stream: (floor(x), x − floor(x)) of principal × bps × seconds /
    /// (10000 × 31,536,000) + the carry from the last checkpoint, the remainder kept in units
    /// of 1 / (10000 × 31,536,000) fen (below 2^39).
    function accrue(uint256 principal, uint256 bps, uint256 secs, uint256 carry)
        internal
        pure
        returns (uint256 due, uint256 carryOut)
    {
        uint256 scaled = principal * bps * secs + carry;
        return (scaled / (BPS * YEAR), scaled % (BPS * YEAR));
    }

    /// @notice Seconds of [from, to] at or after `start` (the penalty window).
    function overlap(uint256 from, uint256 to, uint256 start) internal pure returns (uint256) {
        if (to <= start) return 0;
        return from >= start ? to - from : to - start;
    }

    /// @notice Add `amount` split pro rata by `weights` into `out`, by largest remainder
    /// (ties to the lower index). Requires a non-zero total weight when amount > 0.
    function addProRata(uint256 amount, uint256[] memory weights, uint256[] memory out)
        internal
        pure
    {
        uint256 n = weights.length;
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            total += weights[i];
        }
        if (amount == 0 || total == 0) return;
        uint256[] memory rem = new uint256[](n);
        uint256 given;
        for (uint256 i = 0; i < n; ++i) {
            uint256 scaled = amount * weights[i];
            uint256 q = scaled / total;
            out[i] += q;
            given += q;
            rem[i] = scaled % total;
        }
        // Fewer than n fen are left over; each goes to the largest remainder not yet served,
        // ties to the lower index (strict comparison keeps the first). A zero remainder is
        // never served: the remainders sum to leftover × total, so enough are non-zero.
        for (uint256 left = amount - given; left != 0; --left) {
            uint256 best = n;
            for (uint256 i = 0; i < n; ++i) {
                if (rem[i] != 0 && (best == n || rem[i] > rem[best])) best = i;
            }
            out[best] += 1;
            rem[best] = 0;
        }
    }
}
