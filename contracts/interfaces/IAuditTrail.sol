// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAuditTrail — the hash-chained supervisory trail (监管链)
/// @notice Every action of every engine contract appends exactly one entry, in the same
/// transaction as the action. Entries form a hash chain:
/// `entryHash = keccak256(abi.encode(prevHash, seq, kind, actor, subject, dataHash, at))`,
/// `seq` starting at 1 and the first `prevHash` zero. `dataHash` is the keccak-256 of the
/// ABI-encoded fields of the business event the same contract emitted for the action,
/// so an auditor can bind each entry to what the contracts actually did.
interface IAuditTrail {
    /// @notice One entry of the trail.
    /// @param seq position in the trail, 1-based, without gaps
    /// @param kind keccak256 of the entry kind's name, e.g. keccak256("MEMBER_ADMITTED")
    /// @param actor the member who acted (the engine's caller)
    /// @param subject the receivable/loan id, or an address widened to uint256
    /// @param dataHash keccak256(abi.encode(business event fields, in declaration order))
    /// @param at block timestamp
    /// @param prevHash entryHash of entry seq-1 (zero for seq 1)
    /// @param entryHash the hash chaining this entry to its predecessor
    event AuditRecorded(
        uint64 indexed seq,
        bytes32 indexed kind,
        address indexed actor,
        uint256 subject,
        bytes32 dataHash,
        uint64 at,
        bytes32 prevHash,
        bytes32 entryHash
    );

    /// @notice The caller is not an engine contract registered when the trail was deployed.
    error NotAuditWriter(address caller);

    /// @notice Append one entry; callable only by the engine contracts fixed at deployment.
    /// @return seq the new entry's sequence number
    function append(bytes32 kind, address actor, uint256 subject, bytes32 dataHash)
        external
        returns (uint64 seq);

    /// @notice The latest entry: its sequence number and hash (0, 0 when empty).
    function head() external view returns (uint64 seq, bytes32 entryHash);

    /// @notice Whether `account` may append (one of the engine contracts).
    function isWriter(address account) external view returns (bool);
}
