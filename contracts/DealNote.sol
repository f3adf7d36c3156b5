// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ISecuritisation} from "./interfaces/ISecuritisation.sol";

/// @title DealNote — the notes of one class of one securitisation deal (ERC-20)
/// @notice One unit is one fen of the class's initial balance (2 decimals). Minted at
/// subscription and burnt at a cancellation by the securitisation contract only; every
/// transfer between holders is first checked and booked by it (active INVESTOR or LENDER
/// members, a closed deal, the originator's retention, the claims' corrections).
/// @dev Deployed once as an implementation; each class is a minimal clone (EIP-1167) of it,
/// initialised with its deal and class. The securitisation contract is the implementation's
/// deployer, an immutable the clones share.
contract DealNote is ERC20 {
    /// @notice The securitisation contract that issues these notes.
    address public immutable securitisation;

    uint256 public dealId;
    uint256 public classIndex;
    string private _noteName;
    string private _noteSymbol;

    error NotIssuer(address caller);
    error AlreadyInitialised();

    constructor() ERC20("", "") {
        securitisation = msg.sender;
    }

    modifier onlyIssuer() {
        if (msg.sender != securitisation) revert NotIssuer(msg.sender);
        _;
    }

    /// @notice Bind this clone to its class. Once, by the securitisation contract.
    function initialise(uint256 dealId_, uint256 classIndex_, string calldata name_, string calldata symbol_)
        external
        onlyIssuer
    {
        if (dealId != 0) revert AlreadyInitialised();
        dealId = dealId_;
        classIndex = classIndex_;
        _noteName = name_;
        _noteSymbol = symbol_;
    }

    function mint(address to, uint256 units) external onlyIssuer {
        _mint(to, units);
    }

    function burn(address from, uint256 units) external onlyIssuer {
        _burn(from, units);
    }

    function name() public view override returns (string memory) {
        return _noteName;
    }

    function symbol() public view override returns (string memory) {
        return _noteSymbol;
    }

    /// @notice One unit is one fen.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            ISecuritisation(securitisation).noteTransfer(dealId, classIndex, from, to, value);
        }
        super._update(from, to, value);
    }
}
