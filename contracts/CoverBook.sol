// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAuditTrail} from "./interfaces/IAuditTrail.sol";
import {ICoverBook} from "./interfaces/ICoverBook.sol";
import {IDigitalRMB} from "./interfaces/IDigitalRMB.sol";
import {ILoanBook} from "./interfaces/ILoanBook.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IPolicy} from "./interfaces/IPolicy.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {AuditedEngine} from "./AuditedEngine.sol";
import {AuditKinds} from "./libraries/AuditKinds.sol";
import {Roles} from "./libraries/Roles.sol";
import {Waterfall} from "./libraries/Waterfall.sol";

/// @title CoverBook — cover layers of loans and the reimbursement of cover (DESIGN §6.2)
/// @notice See ICoverBook. Holds the margins providers deposit until the loan is repaid,
/// cancelled or defaulted; its e-CNY balance always equals the margins it holds (at a
/// default the pool's cover passes through it inside the one transaction). The loan book
/// calls in at proposal, funding, default, close and in every receipt after a default;
/// providers and members call `accept`, `honour` and `breach`.
contract CoverBook is ICoverBook, AuditedEngine, ReentrancyGuardTransient {
    uint256 public constant MAX_LAYERS = 4;
    uint256 private constant BPS = 10_000;
    uint256 private constant DAY = 86_400;

    /// @dev One layer: word 0 who and what; word 1 its terms; words 2–3 what happened.
    struct Layer {
        address provider;
        Kind kind;
        uint16 shareBps;
        bool accepted;
        bool breached;
        uint128 capFen;
        uint128 marginFen;
        uint128 owedFen;
        uint128 paidFen;
        uint128 reimbursedFen;
    }

    /// @dev One loan: word 0 is all a loan without layers ever writes (at its default).
    struct Cover {
        uint8 count;
        uint8 acceptedMask;
        bool closed;
        uint40 defaultedAt;
        uint40 dueAt;
        uint128 poolPaidFen;
        uint128 principalAtDefaultFen;
        uint128 poolReimbursedFen;
        bytes32 termsHash;
    }

    /// @dev A default's working set, in memory.
    struct Call {
        uint256[] owed;
        uint256[] marginPaid;
        uint256[] marginBack;
        address[] providers;
        uint256 owedSum;
        uint256 marginSum;
        uint256 backSum;
    }

    IMembership public immutable membership;
    IDigitalRMB public immutable ecny;
    IReceivableToken public immutable receivables;
    IPolicy public immutable policy;
    ILoanBook public immutable loanBook;
    /// @notice The provision pool (an e-CNY holder).
    address public immutable pool;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(uint256 loanId => Cover) private _covers;
    mapping(uint256 loanId => mapping(uint256 index => Layer)) private _layers;

    modifier onlyLoanBook() {
        if (msg.sender != address(loanBook)) revert NotLoanBook(msg.sender);
        _;
    }

    constructor(
        IAuditTrail trail,
        IMembership members,
        IDigitalRMB ecny_,
        IReceivableToken receivables_,
        IPolicy policy_,
        ILoanBook loanBook_,
        address pool_
    ) AuditedEngine(trail) {
        membership = members;
        ecny = ecny_;
        receivables = receivables_;
        policy = policy_;
        loanBook = loanBook_;
        pool = pool_;
    }

    /*//////////////////////////////////////////////////////////////
                              ORIGINATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICoverBook
    function register(
        uint256 loanId,
        bytes32 termsHash,
        uint256[] calldata receivableIds,
        CoverSpec[] calldata layers
    ) external onlyLoanBook {
        uint256 n = layers.length;
        if (n == 0) return;
        if (n > MAX_LAYERS) revert TooManyCoverLayers(n, MAX_LAYERS);
        IPolicy.Params memory p = policy.params();
        uint256 total;
        uint256 covered;
        for (uint256 i = 0; i < n; ++i) {
            CoverSpec calldata s = layers[i];
            _checkLayer(i, s, layers, receivableIds, p);
            total += s.shareBps;
            if (s.kind != Kind.REPURCHASE) covered += s.shareBps;
            _layers[loanId][i] = Layer({
                provider: s.provider,
                kind: s.kind,
                shareBps: s.shareBps,
                accepted: false,
                breached: false,
                capFen: uint128(s.capFen),
                marginFen: uint128(s.marginFen),
                owedFen: 0,
                paidFen: 0,
                reimbursedFen: 0
            });
        }
        if (covered + p.minLenderRetentionBps > BPS) {
            revert LenderRetentionTooLow(covered, BPS - covered, p.minLenderRetentionBps);
        }
        if (total > BPS) revert CoverSharesAboveWhole(total);
        Cover storage c = _covers[loanId];
        c.count = uint8(n);
        c.termsHash = termsHash;
    }

    /// @inheritdoc ICoverBook
    function accept(uint256 loanId, bytes32 termsHash) external nonReentrant {
        Cover storage c = _covers[loanId];
        uint256 n = c.count;
        if (n == 0) revert NoCover(loanId);
        if (c.closed) revert CoverClosed(loanId);
        if (termsHash != c.termsHash) revert CoverTermsMismatch(loanId, c.termsHash, termsHash);
        uint256[] memory accepted = new uint256[](n);
        uint256 m;
        uint256 margin;
        uint8 mask = c.acceptedMask;
        for (uint256 i = 0; i < n; ++i) {
            Layer storage l = _layers[loanId][i];
            if (l.provider != msg.sender || l.accepted) continue;
            _requireProviderRole(i, l.kind, msg.sender);
            l.accepted = true;
            mask |= uint8(1 << i);
            margin += l.marginFen;
            accepted[m++] = i;
        }
        if (m == 0) revert NoLayerToAccept(loanId, msg.sender);
        // Shrink to the layers accepted; m ≤ n by construction.
        assembly ("memory-safe") {
            mstore(accepted, m)
        }
        c.acceptedMask = mask;
        if (margin != 0) ecny.engineTransfer(msg.sender, address(this), margin);
        emit CoverAccepted(loanId, msg.sender, accepted, margin);
        _audit(
            AuditKinds.COVER_ACCEPTED,
            loanId,
            keccak256(abi.encode(loanId, msg.sender, accepted, margin))
        );
    }

    /// @inheritdoc ICoverBook
    function requireAccepted(uint256 loanId) external view {
        Cover storage c = _covers[loanId];
        uint256 n = c.count;
        uint256 mask = c.acceptedMask;
        if (mask == (1 << n) - 1) return;
        for (uint256 i = 0; i < n; ++i) {
            if (mask & (1 << i) == 0) revert CoverNotAccepted(loanId, i, _layers[loanId][i].provider);
        }
    }

    /// @inheritdoc ICoverBook
    function release(uint256 loanId, address actor) external onlyLoanBook {
        Cover storage c = _covers[loanId];
        uint256 n = c.count;
        if (n == 0 || c.closed) return;
        c.closed = true;
        address[] memory providers = new address[](n);
        uint256[] memory margins = new uint256[](n);
        // After a default the margins were settled there: nothing is held any more.
        if (c.defaultedAt == 0) {
            for (uint256 i = 0; i < n; ++i) {
                Layer storage l = _layers[loanId][i];
                providers[i] = l.provider;
                if (l.accepted) margins[i] = l.marginFen;
            }
            ecny.engineSplit(address(this), providers, margins);
        }
        emit CoverReleased(loanId, margins);
        _auditAs(actor, AuditKinds.COVER_RELEASED, loanId, keccak256(abi.encode(loanId, margins)));
    }

    /*//////////////////////////////////////////////////////////////
                                DEFAULT
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICoverBook
    function onDefault(uint256 loanId, uint256 principalFen, address by)
        external
        onlyLoanBook
        returns (uint256 coverFen, address payer)
    {
        Cover storage c = _covers[loanId];
        uint256 n = c.count;
        Call memory k = _call(loanId, n, principalFen);
        // Σ owed ≤ Σ floor(D × share / 10000) ≤ D, since Σ share ≤ 10000.
        uint256 poolFen = principalFen - k.owedSum;
        uint256 poolBalance = ecny.balanceOf(pool);
        if (poolBalance < poolFen) poolFen = poolBalance;
        coverFen = k.marginSum + poolFen;
        uint64 dueAt = uint64(block.timestamp + uint256(policy.params().claimDays) * DAY);
        c.defaultedAt = uint40(block.timestamp);
        c.dueAt = uint40(dueAt);
        // poolFen ≤ D < 2^64.
        c.poolPaidFen = uint128(poolFen);
        // Every write before the e-CNY moves (checks-effects-interactions).
        if (n != 0) c.principalAtDefaultFen = uint128(principalFen);
        if (k.backSum != 0) ecny.engineSplit(address(this), k.providers, k.marginBack);
        if (k.marginSum == 0) {
            payer = pool;
        } else {
            payer = address(this);
            if (poolFen != 0) ecny.engineTransfer(pool, address(this), poolFen);
        }
        if (n == 0) return (coverFen, payer);
        emit CoverCalled(
            loanId, by, principalFen, k.owed, k.marginPaid, k.marginBack, poolFen, dueAt
        );
        _auditAs(
            by,
            AuditKinds.COVER_CALLED,
            loanId,
            keccak256(
                abi.encode(
                    loanId, by, principalFen, k.owed, k.marginPaid, k.marginBack, poolFen, dueAt
                )
            )
        );
    }

    /// @dev DESIGN §6.2 steps 1–2 for every layer: what it owes on D, what its margin pays
    /// at once and what of the margin goes back; recorded on each layer.
    function _call(uint256 loanId, uint256 n, uint256 principalFen)
        private
        returns (Call memory k)
    {
        k.owed = new uint256[](n);
        k.marginPaid = new uint256[](n);
        k.marginBack = new uint256[](n);
        k.providers = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            Layer storage l = _layers[loanId][i];
            // D < 2^64 and share ≤ 10000: no overflow; owed ≤ cap < 2^128.
            uint256 o = principalFen * l.shareBps / BPS;
            if (o > l.capFen) o = l.capFen;
            uint256 margin = l.marginFen;
            uint256 pay = margin < o ? margin : o;
            l.owedFen = uint128(o);
            l.paidFen = uint128(pay);
            k.owed[i] = o;
            k.marginPaid[i] = pay;
            k.marginBack[i] = margin - pay;
            k.providers[i] = l.provider;
            k.owedSum += o;
            k.marginSum += pay;
            k.backSum += margin - pay;
        }
    }

    /// @inheritdoc ICoverBook
    function honour(uint256 loanId, uint256 layer, uint256 amountFen)
        external
        nonReentrant
        returns (uint256 paidFen)
    {
        Layer storage l = _claim(loanId, layer);
        if (msg.sender != l.provider) revert NotProvider(loanId, layer, msg.sender, l.provider);
        membership.requireActive(msg.sender);
        if (amountFen == 0) revert ZeroHonour(loanId, layer);
        uint256 unpaid = uint256(l.owedFen) - l.paidFen;
        if (unpaid == 0) revert NothingClaimed(loanId, layer);
        if (amountFen > unpaid) revert HonourAboveClaim(loanId, layer, amountFen, unpaid);
        uint256 outstanding = loanBook.loanOf(loanId).outstandingFen;
        if (outstanding == 0) revert ClaimLapsed(loanId, layer);
        paidFen = amountFen < outstanding ? amountFen : outstanding;
        uint256 total = uint256(l.paidFen) + paidFen;
        l.paidFen = uint128(total);
        emit CoverHonoured(loanId, layer, msg.sender, paidFen, total, l.owedFen);
        _audit(
            AuditKinds.COVER_HONOURED,
            loanId,
            keccak256(abi.encode(loanId, layer, msg.sender, paidFen, total, uint256(l.owedFen)))
        );
        loanBook.settleCover(loanId, msg.sender, paidFen);
    }

    /// @inheritdoc ICoverBook
    function breach(uint256 loanId, uint256 layer) external {
        membership.requireActive(msg.sender);
        Layer storage l = _claim(loanId, layer);
        uint64 dueAt = _covers[loanId].dueAt;
        if (block.timestamp <= dueAt) {
            revert ClaimNotDue(loanId, layer, uint64(block.timestamp), dueAt);
        }
        uint256 unpaid = uint256(l.owedFen) - l.paidFen;
        if (unpaid == 0) revert NothingClaimed(loanId, layer);
        if (l.breached) revert AlreadyBreached(loanId, layer);
        if (loanBook.loanOf(loanId).outstandingFen == 0) revert ClaimLapsed(loanId, layer);
        l.breached = true;
        address provider = l.provider;
        emit CoverBreached(loanId, layer, provider, msg.sender, unpaid, dueAt);
        _audit(
            AuditKinds.COVER_BREACHED,
            loanId,
            keccak256(abi.encode(loanId, layer, provider, msg.sender, unpaid, dueAt))
        );
    }

    /*//////////////////////////////////////////////////////////////
                               RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICoverBook
    function reimburse(uint256 loanId, address payer, uint256 residualFen)
        external
        onlyLoanBook
        returns (uint256 takenFen)
    {
        Cover storage c = _covers[loanId];
        uint256 n = c.count;
        uint256[] memory weights = new uint256[](n + 1);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            Layer storage l = _layers[loanId][i];
            weights[i] = uint256(l.paidFen) - l.reimbursedFen;
            total += weights[i];
        }
        weights[n] = uint256(c.poolPaidFen) - c.poolReimbursedFen;
        total += weights[n];
        if (total == 0) return 0;
        takenFen = residualFen < total ? residualFen : total;
        // Pro rata by what each paid and has not had back, ties in layer order, the pool last.
        uint256[] memory parts = new uint256[](n + 1);
        Waterfall.addProRata(takenFen, weights, parts);
        address[] memory payees = new address[](n + 1);
        uint256[] memory layersFen = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            Layer storage l = _layers[loanId][i];
            payees[i] = l.provider;
            layersFen[i] = parts[i];
            // parts[i] ≤ weights[i]: reimbursed never exceeds paid.
            if (parts[i] != 0) l.reimbursedFen += uint128(parts[i]);
        }
        payees[n] = pool;
        if (parts[n] != 0) c.poolReimbursedFen += uint128(parts[n]);
        ecny.engineSplit(payer, payees, parts);
        emit CoverReimbursed(loanId, payer, layersFen, parts[n]);
        _auditAs(
            payer,
            AuditKinds.COVER_REIMBURSED,
            loanId,
            keccak256(abi.encode(loanId, payer, layersFen, parts[n]))
        );
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICoverBook
    function coverOf(uint256 loanId) external view returns (CoverInfo memory) {
        Cover storage c = _covers[loanId];
        return CoverInfo({
            layerCount: c.count,
            closed: c.closed,
            defaultedAt: c.defaultedAt,
            dueAt: c.dueAt,
            principalAtDefaultFen: c.principalAtDefaultFen,
            poolPaidFen: c.poolPaidFen,
            poolReimbursedFen: c.poolReimbursedFen
        });
    }

    /// @inheritdoc ICoverBook
    function layerOf(uint256 loanId, uint256 layer) external view returns (LayerInfo memory) {
        if (layer >= _covers[loanId].count) revert UnknownLayer(loanId, layer);
        Layer storage l = _layers[loanId][layer];
        return LayerInfo({
            provider: l.provider,
            kind: l.kind,
            shareBps: l.shareBps,
            capFen: l.capFen,
            marginFen: l.marginFen,
            accepted: l.accepted,
            breached: l.breached,
            owedFen: l.owedFen,
            paidFen: l.paidFen,
            reimbursedFen: l.reimbursedFen
        });
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The rules of one layer at proposal (DESIGN §6.2).
    function _checkLayer(
        uint256 i,
        CoverSpec calldata s,
        CoverSpec[] calldata layers,
        uint256[] calldata receivableIds,
        IPolicy.Params memory p
    ) private view {
        if (s.shareBps == 0) revert ZeroCoverShare(i);
        if (s.capFen == 0 || s.capFen > type(uint128).max) revert InvalidCoverCap(i, s.capFen);
        if (s.marginFen > s.capFen) revert MarginAboveCap(i, s.marginFen, s.capFen);
        _requireProviderRole(i, s.kind, s.provider);
        if (membership.hasRoles(s.provider, Roles.TECH_PARTNER)) {
            // The tech partner's whole share of this loan counts: its layers so far, this one too.
            uint256 share;
            for (uint256 j = 0; j <= i; ++j) {
                if (layers[j].provider == s.provider) share += layers[j].shareBps;
            }
            if (share > p.maxTechCoverBps) {
                revert TechCoverAboveCap(s.provider, share, p.maxTechCoverBps);
            }
        }
        if (s.kind == Kind.REPURCHASE) {
            for (uint256 j = 0; j < receivableIds.length; ++j) {
                if (receivables.receivableOf(receivableIds[j]).debtor == s.provider) return;
            }
            revert RepurchaseNotByDebtor(i, s.provider);
        }
    }

    /// @dev An active provider with a role that may give the kind: a tech partner a
    /// GUARANTEE only; REPURCHASE a core enterprise; otherwise a guarantor.
    function _requireProviderRole(uint256 i, Kind kind, address provider) private view {
        if (membership.hasRoles(provider, Roles.TECH_PARTNER)) {
            if (kind != Kind.GUARANTEE) revert TechPartnerCoverKind(i, kind);
            membership.requireActive(provider);
        } else if (kind == Kind.REPURCHASE) {
            membership.requireRole(provider, Roles.CORE_ENTERPRISE);
        } else {
            membership.requireRole(provider, Roles.GUARANTOR);
        }
    }

    /// @dev A layer of a defaulted loan.
    function _claim(uint256 loanId, uint256 layer) private view returns (Layer storage l) {
        Cover storage c = _covers[loanId];
        if (layer >= c.count) revert UnknownLayer(loanId, layer);
        if (c.defaultedAt == 0) revert NotDefaulted(loanId);
        l = _layers[loanId][layer];
    }
}
