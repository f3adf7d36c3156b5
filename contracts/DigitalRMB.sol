// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title DigitalRMB — the e-CNY stand-in (数字人民币)
/// @notice An ERC-20 with 2 decimals whose unit is the fen. Only an active ECNY_ISSUER mints
/// and burns; a member's transfer needs both parties active and appends one audit entry
/// bound to the ERC-20 `Transfer` event it emits. Engine contracts move value inside their
/// own audited actions (a loan's funding, a settlement's fan-out) through `enginePull` and
/// `engineDistribute`, which append nothing themselves: the engine's entry covers them.
/// @dev Entry points check membership explicitly instead of hooking `_update`, so each path
/// states its own rule: members pay members, engines pay members, nobody pays an engine by
/// plain transfer (value sent that way would sit outside the engine's books).
contract DigitalRMB is ERC20, IDigitalRMB, AuditedEngine {
    /// @notice The member register every transfer is checked against.
    IMembership public immutable membership;

    address private immutable _engine0;
    address private immutable _engine1;
    address private immutable _engine2;
    address private immutable _engine3;

    /// @notice The engine list cannot hold more than four contracts.
    error TooManyEngines(uint256 count, uint256 max);

    modifier onlyEngine() {
        if (!isEngine(msg.sender)) revert NotEngine(msg.sender);
        _;
    }

    /// @param trail the audit trail
    /// @param members the member register
    /// @param engines engine contracts allowed to move value inside their own actions (≤ 4)
    constructor(IAuditTrail trail, IMembership members, address[] memory engines)
        ERC20("Digital RMB (liandai e-CNY)", "eCNY")
        AuditedEngine(trail)
    {
        if (engines.length > 4) revert TooManyEngines(engines.length, 4);
        address[4] memory e;
        for (uint256 i = 0; i < engines.length; ++i) {
            e[i] = engines[i];
        }
        membership = members;
        (_engine0, _engine1, _engine2, _engine3) = (e[0], e[1], e[2], e[3]);
    }

    /// @notice One unit is one fen.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /*//////////////////////////////////////////////////////////////
                               ISSUER
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDigitalRMB
    function mint(address to, uint256 amountFen) external {
        membership.requireRole(msg.sender, Roles.ECNY_ISSUER);
        membership.requireActive(to);
        if (amountFen == 0) revert ZeroAmount();
        _mint(to, amountFen);
        _audit(AuditKinds.ECNY_MINTED, _subject(to), keccak256(abi.encode(address(0), to, amountFen)));
    }

    /// @inheritdoc IDigitalRMB
    function burn(uint256 amountFen) external {
        membership.requireRole(msg.sender, Roles.ECNY_ISSUER);
        if (amountFen == 0) revert ZeroAmount();
        _burn(msg.sender, amountFen);
        _audit(
            AuditKinds.ECNY_BURNT,
            _subject(msg.sender),
            keccak256(abi.encode(msg.sender, address(0), amountFen))
        );
    }

    /*//////////////////////////////////////////////////////////////
                               MEMBERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Pay `value` fen to another active member.
    function transfer(address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        _memberTransfer(msg.sender, to, value);
        return true;
    }

    /// @notice Pay `value` fen from `from` to `to` under an allowance; the spender must be an
    /// active member too.
    function transferFrom(address from, address to, uint256 value)
        public
        override(ERC20, IERC20)
        returns (bool)
    {
        if (msg.sender != from) membership.requireActive(msg.sender);
        _spendAllowance(from, msg.sender, value);
        _memberTransfer(from, to, value);
        return true;
    }

    /// @notice Allow `spender` to move up to `value` of the caller's fen; the caller must be an
    /// active member.
    function approve(address spender, uint256 value) public override(ERC20, IERC20) returns (bool) {
        membership.requireActive(msg.sender);
        _approve(msg.sender, spender, value);
        _audit(
            AuditKinds.ECNY_APPROVED,
            _subject(spender),
            keccak256(abi.encode(msg.sender, spender, value))
        );
        return true;
    }

    /*//////////////////////////////////////////////////////////////
                               ENGINES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDigitalRMB
    function enginePull(address from, address to, uint256 amountFen) external onlyEngine {
        if (to == msg.sender) membership.requireActive(from);
        else membership.requireActivePair(from, to);
        _transfer(from, to, amountFen);
    }

    /// @inheritdoc IDigitalRMB
    function engineDistribute(address[] calldata payees, uint256[] calldata amountsFen)
        external
        onlyEngine
    {
        if (payees.length != amountsFen.length) {
            revert LengthMismatch(payees.length, amountsFen.length);
        }
        membership.requireAllActive(payees);
        for (uint256 i = 0; i < payees.length; ++i) {
            if (amountsFen[i] != 0) _transfer(msg.sender, payees[i], amountsFen[i]);
        }
    }

    /// @inheritdoc IDigitalRMB
    function isEngine(address account) public view returns (bool) {
        return account != address(0)
            && (account == _engine0 || account == _engine1 || account == _engine2
                || account == _engine3);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The one path of a member's payment. Sweep (routing a share of a payment into a
    /// borrower's wallet to its loan) attaches here when loans arrive.
    function _memberTransfer(address from, address to, uint256 value) private {
        membership.requireActivePair(from, to);
        _transfer(from, to, value);
        _audit(AuditKinds.ECNY_TRANSFERRED, _subject(to), keccak256(abi.encode(from, to, value)));
    }
}
