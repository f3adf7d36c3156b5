// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {IProvisionPool} from "./interfaces/IProvisionPool.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";

/// @title ProvisionPool — risk compensation pool (风险补偿池)
/// @notice See IProvisionPool. The loan book pays provisions in and cover out directly
/// through the e-CNY engine interface, inside its own audited actions.
contract ProvisionPool is IProvisionPool, AuditedEngine {
    IDigitalRMB public immutable ecny;

    constructor(IAuditTrail trail, IDigitalRMB ecny_) AuditedEngine(trail) {
        ecny = ecny_;
    }

    /// @inheritdoc IProvisionPool
    function contribute(uint256 amountFen) external {
        if (amountFen == 0) revert ZeroContribution();
        // The token checks that the contributor is an active member.
        ecny.engineTransfer(msg.sender, address(this), amountFen);
        uint256 balance = ecny.balanceOf(address(this));
        emit PoolContributed(msg.sender, amountFen, balance);
        _audit(
            AuditKinds.POOL_CONTRIBUTED,
            _subject(msg.sender),
            keccak256(abi.encode(msg.sender, amountFen, balance))
        );
    }

    /// @inheritdoc IProvisionPool
    function balanceFen() external view returns (uint256) {
        return ecny.balanceOf(address(this));
    }
}
