// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanReceipts} from "./interfaces/ILoanReceipts.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title DigitalRMB — the e-CNY stand-in (数字人民币)
/// @notice An ERC-20 with 2 decimals whose unit is the fen. Only an active ECNY_ISSUER mints
/// and burns; a member's transfer needs both parties active and appends one audit entry
/// bound to the ERC-20 `Transfer` event it emits. The engine contracts (receivable token,
/// loan book, provision pool) move value inside their own audited actions, which append
/// nothing here: the engine's entry covers them. What an engine pays a member who is not
/// active is credited to that member's held balance (DESIGN §6.1): the fen move to this
/// contract, which holds them until the member, reinstated, claims them. Σ balances of
/// everyone but this contract + Σ held = total supply; this contract's balance = Σ held.
/// @dev Entry points check membership explicitly instead of hooking `_update`, so each path
/// states its own rule: members pay members, engines pay members, nobody pays an engine by
/// plain transfer (value sent that way would sit outside the engine's books).
contract DigitalRMB is ERC20, IDigitalRMB, AuditedEngine {
    uint256 private constant BPS = 10_000;
    /// @dev Deal ids a deal account can carry (the low 32 bits of its address).
    uint256 private constant MAX_DEALS = type(uint32).max;

    /// @dev `carry` is the sub-fen part of the shares swept so far, in 1/10000 fen: each
    /// payment's share is floor((value × bps + carry) / 10000), so small payments add up.
    struct Sweep {
        uint48 loanId;
        uint16 bps;
        uint16 carry;
    }

    /// @notice The member register every transfer is checked against.
    IMembership public immutable membership;
    /// @notice Engine: receivable token (pays receivables to holders).
    address public immutable receivables;
    /// @notice Engine: loan book (funding, disbursement, settlement, sweep).
    address public immutable loanBook;
    /// @notice Engine: provision pool (contributions, default cover).
    address public immutable provisionPool;
    /// @notice Engine: tranche market (a tranche sale's payment, delivery versus payment).
    address public immutable trancheMarket;
    /// @notice Engine: securitisation; each deal keeps its money in its own account,
    /// `dealAccount(dealId)`, which it moves as an engine.
    address public immutable securitisation;
    /// @notice Engine: cover book (margins, cover at default, reimbursement of cover).
    address public immutable coverBook;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(address borrower => Sweep) private _sweeps;
    mapping(address member => uint256) private _held;

    modifier onlyEngine() {
        if (!isEngine(msg.sender)) revert NotEngine(msg.sender);
        _;
    }

    /// @param trail the audit trail
    /// @param members the member register
    /// @param receivables_ the receivable token
    /// @param loanBook_ the loan book
    /// @param provisionPool_ the provision pool
    /// @param trancheMarket_ the tranche market
    /// @param securitisation_ the securitisation contract
    /// @param coverBook_ the cover book
    constructor(
        IAuditTrail trail,
        IMembership members,
        address receivables_,
        address loanBook_,
        address provisionPool_,
        address trancheMarket_,
        address securitisation_,
        address coverBook_
    ) ERC20("Digital RMB (liandai e-CNY)", "eCNY") AuditedEngine(trail) {
        membership = members;
        receivables = receivables_;
        loanBook = loanBook_;
        provisionPool = provisionPool_;
        trancheMarket = trancheMarket_;
        securitisation = securitisation_;
        coverBook = coverBook_;
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
    function engineTransfer(address from, address to, uint256 amountFen) external onlyEngine {
        if (!isEngine(from)) membership.requireActive(from);
        if (isEngine(to)) _transfer(from, to, amountFen);
        else if (membership.hasRoles(to, 0)) _credit(from, to, amountFen);
        else _hold(from, to, amountFen);
    }

    /// @inheritdoc IDigitalRMB
    function engineSplit(address from, address[] calldata payees, uint256[] calldata amountsFen)
        external
        onlyEngine
    {
        uint256 n = payees.length;
        if (n != amountsFen.length) revert LengthMismatch(n, amountsFen.length);
        // Fast path: one membership call for every member involved (engines are not members).
        address[] memory members = new address[](n + 1);
        uint256 m;
        if (!isEngine(from)) members[m++] = from;
        for (uint256 i = 0; i < n; ++i) {
            if (amountsFen[i] != 0 && !isEngine(payees[i])) members[m++] = payees[i];
        }
        // Shrink the array to the members collected; m <= n + 1 by construction.
        assembly ("memory-safe") {
            mstore(members, m)
        }
        bool allActive = true;
        if (m != 0) {
            try membership.requireAllActive(members) {}
            catch {
                allActive = false;
            }
        }
        if (allActive) {
            for (uint256 i = 0; i < n; ++i) {
                if (amountsFen[i] != 0) _transfer(from, payees[i], amountsFen[i]);
            }
            return;
        }
        // Someone is not active: the payer must be (its refusal names it); a payee that is
        // not is paid into its held balance (DESIGN §6.1).
        if (!isEngine(from)) membership.requireActive(from);
        for (uint256 i = 0; i < n; ++i) {
            uint256 amount = amountsFen[i];
            if (amount == 0) continue;
            address to = payees[i];
            if (isEngine(to) || membership.hasRoles(to, 0)) _transfer(from, to, amount);
            else _hold(from, to, amount);
        }
    }

    /// @inheritdoc IDigitalRMB
    function claimHeld() external returns (uint256 amountFen) {
        membership.requireActive(msg.sender);
        amountFen = _held[msg.sender];
        if (amountFen == 0) revert NothingHeld(msg.sender);
        _held[msg.sender] = 0;
        _transfer(address(this), msg.sender, amountFen);
        emit HeldClaimed(msg.sender, amountFen);
        _audit(
            AuditKinds.ECNY_HELD_CLAIMED,
            _subject(msg.sender),
            keccak256(abi.encode(msg.sender, amountFen))
        );
    }

    /// @inheritdoc IDigitalRMB
    function heldOf(address member) external view returns (uint256) {
        return _held[member];
    }

    /// @inheritdoc IDigitalRMB
    function totalHeld() external view returns (uint256) {
        return balanceOf(address(this));
    }

    /// @inheritdoc IDigitalRMB
    function setSweep(address borrower, uint256 loanId, uint16 sweepBps) external {
        if (msg.sender != loanBook) revert NotEngine(msg.sender);
        if (sweepBps > BPS) revert SweepTooLarge(sweepBps);
        // The borrower's sub-fen carry stays with it: it is a fraction of its own payments.
        _sweeps[borrower] = Sweep(uint48(loanId), sweepBps, _sweeps[borrower].carry);
        emit SweepSet(borrower, loanId, sweepBps);
    }

    /// @inheritdoc IDigitalRMB
    function sweepShare(address borrower, uint256 loanId, uint256 amountFen)
        external
        returns (uint256 shareFen)
    {
        if (msg.sender != loanBook) revert NotEngine(msg.sender);
        Sweep memory s = _sweeps[borrower];
        if (s.loanId != loanId || s.bps == 0) return 0;
        shareFen = _share(borrower, s, amountFen);
    }

    /// @inheritdoc IDigitalRMB
    function sweepOf(address borrower) external view returns (uint256 loanId, uint16 sweepBps) {
        Sweep memory s = _sweeps[borrower];
        return (s.loanId, s.bps);
    }

    /// @inheritdoc IDigitalRMB
    function isEngine(address account) public view returns (bool) {
        return account != address(0)
            && (
                account == receivables || account == loanBook || account == provisionPool
                    || account == trancheMarket || account == coverBook
                    || _isDealAccount(account)
            );
    }

    /// @inheritdoc IDigitalRMB
    function dealAccount(uint256 dealId) public view returns (address) {
        if (dealId == 0 || dealId > MAX_DEALS) revert NotADeal(dealId);
        return address(uint160(securitisation) ^ uint160(dealId));
    }

    /// @dev The securitisation contract and its deals' accounts: its address with the low
    /// 32 bits xor-ed with the deal id. Nobody holds a key to such an address (finding one
    /// is a 128-bit search), so only the securitisation engine can move what it holds.
    function _isDealAccount(address account) private view returns (bool) {
        return securitisation != address(0)
            && uint160(account) ^ uint160(securitisation) <= MAX_DEALS;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The one path of a member's payment: checked, moved (sweep applied), audited.
    function _memberTransfer(address from, address to, uint256 value) private {
        membership.requireActivePair(from, to);
        _credit(from, to, value);
    }

    /// @dev Pay the active member `to`; when `to` is a borrower whose loan sweeps, route the
    /// share floor((value × bps + carry) / 10000) from `from` to that loan's waterfall in
    /// this transaction. The member-transfer entry is appended before the settlement's, each
    /// right after its own business event, so the trail binds both. A settlement that fails
    /// never takes the payment down with it: the share then reaches `to` as well, and
    /// `SweepSkipped` says why.
    function _credit(address from, address to, uint256 value) private {
        Sweep memory s = _sweeps[to];
        uint256 share = s.bps == 0 ? 0 : _share(to, s, value);
        _transfer(from, to, value - share);
        if (!isEngine(msg.sender)) {
            _audit(
                AuditKinds.ECNY_TRANSFERRED,
                _subject(to),
                keccak256(abi.encode(from, to, value - share))
            );
        }
        if (share == 0) return;
        try ILoanReceipts(loanBook).settleSweep(s.loanId, from, share) {}
        catch (bytes memory reason) {
            // An empty reason is what running out of gas leaves: refuse, so a payer cannot
            // dodge the sweep by starving it of gas (with more gas the sweep would settle).
            if (reason.length == 0) revert SweepFailed(s.loanId, share);
            _transfer(from, to, share);
            if (!isEngine(msg.sender)) {
                _audit(AuditKinds.ECNY_TRANSFERRED, _subject(to), keccak256(abi.encode(from, to, share)));
            }
            emit SweepSkipped(to, s.loanId, share, reason);
        }
    }

    /// @dev floor((value × bps + carry) / 10000); the new sub-fen carry is stored.
    function _share(address borrower, Sweep memory s, uint256 value) private returns (uint256) {
        // value × bps + carry cannot overflow: bps ≤ 10000, carry < 10000, value ≤ supply.
        uint256 scaled = value * s.bps + s.carry;
        uint16 carry = uint16(scaled % BPS);
        if (carry != s.carry) _sweeps[borrower].carry = carry;
        return scaled / BPS;
    }

    /// @dev Credit `to`, not active, in its held balance: the fen wait in this contract.
    function _hold(address from, address to, uint256 value) private {
        _transfer(from, address(this), value);
        uint256 held = _held[to] + value;
        _held[to] = held;
        emit HeldCredited(to, from, value, held);
    }
}
