// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";

/// @title AuditedEngine — base of every contract that appends to the trail
/// @notice Holds the trail's address and appends one entry per action, with the action's
/// caller as the actor. Contracts emit their business event first and then call `_audit`
/// with the hash of the same fields, so verification can bind the two.
abstract contract AuditedEngine {
    /// @notice The trail every action of this contract appends to.
    IAuditTrail public immutable auditTrail;

    constructor(IAuditTrail trail) {
        auditTrail = trail;
    }

    /// @dev Append one entry for the current action, the caller being the actor.
    function _audit(bytes32 kind, uint256 subject, bytes32 dataHash) internal {
        auditTrail.append(kind, msg.sender, subject, dataHash);
    }

    /// @dev Append one entry whose actor is a member acting through another engine (the
    /// debtor paying a pledged receivable, the payer whose payment was swept).
    function _auditAs(address actor, bytes32 kind, uint256 subject, bytes32 dataHash) internal {
        auditTrail.append(kind, actor, subject, dataHash);
    }

    /// @dev An address as an audit subject.
    function _subject(address account) internal pure returns (uint256) {
        return uint256(uint160(account));
    }
}
