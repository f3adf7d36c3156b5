// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title AuditTrail — the hash-chained supervisory trail (监管链)
/// @notice Keeps only the head of the chain on-chain (sequence number and latest hash); the
/// entries themselves live in `AuditRecorded` logs, from which anyone can recompute and
/// verify the chain. The writers are the engine contracts fixed at deployment. Auditors
/// publish checkpoints (Merkle roots over the entry hashes) that proofs are checked against.
/// @dev Writers are immutables, not a mapping: the check costs a few comparisons instead of
/// a cold storage read (2,100 gas) on every action of every contract. The deployer predicts
/// the engine addresses from its own nonce, so the trail can be deployed first.
/// Checkpoints are published, not maintained here: an incremental tree kept by `append`
/// (as the deposit contract keeps its own) measured 5,400-34,000 gas more per action, about
/// 8,000 on average, and would take a settlement past 150,000 (docs/audit.md); a checkpoint
/// is one auditor transaction, and every verifier recomputes its root from the logs.
contract AuditTrail is IAuditTrail {
    /// @dev Sixteen: the engines of DESIGN §4 and §6 number nine to twelve. Each slot is one
    /// more test for the writers after it (59 gas), so the deployment lists the
    /// busiest engines first; an unused slot costs a writer nothing (the check stops at a match).
    uint256 private constant MAX_WRITERS = 16;

    address private immutable _writer0;
    address private immutable _writer1;
    address private immutable _writer2;
    address private immutable _writer3;
    address private immutable _writer4;
    address private immutable _writer5;
    address private immutable _writer6;
    address private immutable _writer7;
    address private immutable _writer8;
    address private immutable _writer9;
    address private immutable _writer10;
    address private immutable _writer11;
    address private immutable _writer12;
    address private immutable _writer13;
    address private immutable _writer14;
    address private immutable _writer15;

    /// @notice The member register that says who is an AUDITOR.
    IMembership public immutable membership;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    uint64 private _seq;
    bytes32 private _head;
    uint64 private _checkpointSize;
    mapping(uint64 size => bytes32 root) private _roots;

    /// @notice The writer list cannot hold more than sixteen engine contracts.
    error TooManyWriters(uint256 count, uint256 max);

    /// @param writers the engine contracts that may append (at most sixteen)
    /// @param members the member register (checkpoints are published by AUDITOR members)
    constructor(address[] memory writers, IMembership members) {
        membership = members;
        if (writers.length > MAX_WRITERS) revert TooManyWriters(writers.length, MAX_WRITERS);
        address[MAX_WRITERS] memory w;
        for (uint256 i = 0; i < writers.length; ++i) {
            w[i] = writers[i];
        }
        (_writer0, _writer1, _writer2, _writer3) = (w[0], w[1], w[2], w[3]);
        (_writer4, _writer5, _writer6, _writer7) = (w[4], w[5], w[6], w[7]);
        (_writer8, _writer9, _writer10, _writer11) = (w[8], w[9], w[10], w[11]);
        (_writer12, _writer13, _writer14, _writer15) = (w[12], w[13], w[14], w[15]);
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAuditTrail
    function append(bytes32 kind, address actor, uint256 subject, bytes32 dataHash)
        external
        returns (uint64 seq)
    {
        if (!isWriter(msg.sender)) revert NotAuditWriter(msg.sender);
        bytes32 prevHash = _head;
        // A uint64 sequence cannot overflow: one entry per transaction at most a few per block.
        unchecked {
            seq = _seq + 1;
        }
        uint64 timestamp = uint64(block.timestamp);
        bytes32 entryHash = keccak256(abi.encode(prevHash, seq, kind, actor, subject, dataHash, timestamp));
        _seq = seq;
        _head = entryHash;
        emit AuditRecorded(seq, kind, actor, subject, dataHash, timestamp, prevHash, entryHash);
    }

    /// @inheritdoc IAuditTrail
    function checkpoint(uint64 size, bytes32 root) external {
        membership.requireRole(msg.sender, Roles.AUDITOR);
        uint64 latest = _checkpointSize;
        uint64 seq = _seq;
        if (size <= latest || size > seq) revert CheckpointOutOfRange(size, latest, seq);
        _checkpointSize = size;
        _roots[size] = root;
        emit CheckpointPublished(size, root, msg.sender);
    }

    /// @inheritdoc IAuditTrail
    function head() external view returns (uint64 seq, bytes32 entryHash) {
        return (_seq, _head);
    }

    /// @inheritdoc IAuditTrail
    function latestCheckpoint() external view returns (uint64 size, bytes32 root) {
        size = _checkpointSize;
        root = _roots[size];
    }

    /// @inheritdoc IAuditTrail
    function checkpointRoot(uint64 size) external view returns (bytes32 root) {
        return _roots[size];
    }

    /// @inheritdoc IAuditTrail
    function isWriter(address account) public view returns (bool) {
        // address(0) never calls, so unused (zero) slots match nobody. One test per slot,
        // returning at the first match: a writer pays only for the slots before its own.
        if (account == address(0)) return false;
        if (account == _writer0) return true;
        if (account == _writer1) return true;
        if (account == _writer2) return true;
        if (account == _writer3) return true;
        if (account == _writer4) return true;
        if (account == _writer5) return true;
        if (account == _writer6) return true;
        if (account == _writer7) return true;
        if (account == _writer8) return true;
        if (account == _writer9) return true;
        if (account == _writer10) return true;
        if (account == _writer11) return true;
        if (account == _writer12) return true;
        if (account == _writer13) return true;
        if (account == _writer14) return true;
        if (account == _writer15) return true;
        return false;
    }
}
