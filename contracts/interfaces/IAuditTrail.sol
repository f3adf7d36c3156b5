// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembershipErrors} from "./IMembershipErrors.sol";

/// @title IAuditTrail — the hash-chained supervisory trail (监管链)
/// @notice Every action of every engine contract appends exactly one entry, in the same
/// transaction as the action. Entries form a hash chain:
/// `entryHash = keccak256(abi.encode(prevHash, seq, kind, actor, subject, dataHash, at))`,
/// `seq` starting at 1 and the first `prevHash` zero. `dataHash` is the keccak-256 of the
/// ABI-encoded fields of the business event the same contract emitted for the action,
/// so an auditor can bind each entry to what the contracts actually did.
///
/// Auditors fix checkpoints: the root of the Merkle tree (RFC 9162 §2.1, SHA-256) whose
/// leaves are the first `size` entry hashes, `leaf = sha256(0x00 ‖ entryHash)`,
/// `node = sha256(0x01 ‖ left ‖ right)`. Inclusion proofs for one entry and consistency
/// proofs between two checkpoints are checked against these roots; any verifier
/// recomputes every published root from the logs, so a wrong one is caught.
interface IAuditTrail is IMembershipErrors {
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

    /// @notice An auditor fixed the Merkle root of the first `size` entries.
    /// @param size number of entries the tree covers (entries 1..size)
    /// @param root RFC 9162 Merkle tree hash (SHA-256) over their entry hashes
    /// @param auditor the AUDITOR member who published it
    event CheckpointPublished(uint64 indexed size, bytes32 root, address indexed auditor);

    /// @notice The caller is not an engine contract registered when the trail was deployed.
    error NotAuditWriter(address caller);

    /// @notice A checkpoint must cover more entries than the latest one and no more than the
    /// trail holds: `latest < size <= head`.
    error CheckpointOutOfRange(uint64 size, uint64 latest, uint64 head);

    /// @notice Append one entry; callable only by the engine contracts fixed at deployment.
    /// @return seq the new entry's sequence number
    function append(bytes32 kind, address actor, uint256 subject, bytes32 dataHash)
        external
        returns (uint64 seq);

    /// @notice Fix the Merkle root of the first `size` entries. Only an active AUDITOR; sizes
    /// only grow, so consecutive checkpoints can be proved consistent.
    function checkpoint(uint64 size, bytes32 root) external;

    /// @notice The latest entry: its sequence number and hash (0, 0 when empty).
    function head() external view returns (uint64 seq, bytes32 entryHash);

    /// @notice The latest checkpoint (0, 0 when none).
    function latestCheckpoint() external view returns (uint64 size, bytes32 root);

    /// @notice The root published for `size` (zero when no checkpoint has that size).
    function checkpointRoot(uint64 size) external view returns (bytes32 root);

    /// @notice Whether `account` may append (one of the engine contracts).
    function isWriter(address account) external view returns (bool);
}
