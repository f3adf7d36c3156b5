"""`liandai init`: create the home, the operator's key, deploy the suite, record it.

With `dev=True` it also creates the named dev accounts of `DEV_CONSORTIUM`, gives them gas
where gas is not free, and (with `consortium=True`, what `init --dev` does) admits them with
their roles and registered net assets, so every example of the README runs on a fresh home.
A failed `init` leaves the home as it found it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.chain.backend import GENESIS_OPERATOR_WEI, Chain, connect, remember_rpc
from ledger.engine import deploy
from ledger.engine.accounts import AccountInfo, Keyring
from ledger.engine.tx import Sender
from ledger.errors import BadInput, Refused
from ledger.home import Home
from ledger.roles import Role

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

OPERATOR = "operator"


@dataclass(frozen=True)
class DevMember:
    """One member of the dev consortium (`init --dev`, the demo, the tests).

    Attributes:
        name: the local account's name.
        roles: its role bit mask.
        net_assets_fen: registered net assets (lenders: the base of the exposure limit).
        licence: its licence (DESIGN §6.6; lenders must hold one that allows lending).
        region: its GB/T 2260 region code ("000000" is national).
        kind: a borrower's kind (SME, MICRO, LARGE, INDIVIDUAL; UNSPECIFIED otherwise).
    """

    name: str
    roles: int
    net_assets_fen: int = 0
    licence: str = "NONE"
    region: str = "000000"
    kind: str = "UNSPECIFIED"


# Licences of the dev lenders run to 2030-12-31 23:59:59 China Standard Time.
DEV_LICENCE_EXPIRY = 1_924_963_199
# The one table of who the dev consortium is; extend a row's fields here (and in
# `admit_dev_consortium`) when admission carries more. Regions: 440100 Guangzhou,
# 440300 Shenzhen, 000000 national.
DEV_CONSORTIUM: tuple[DevMember, ...] = (
    DevMember("issuer", Role.ECNY_ISSUER),
    DevMember("core", Role.CORE_ENTERPRISE, region="440100", kind="LARGE"),
    DevMember("supplier1", Role.SUPPLIER, region="440100", kind="SME"),
    DevMember("supplier2", Role.SUPPLIER, region="440300", kind="MICRO"),
    DevMember("bank", Role.LENDER, 5_000_000_000_00, licence="BANK", region="440100"),
    DevMember("microloan", Role.LENDER, 300_000_000_00, licence="MICROLOAN", region="440100"),
    DevMember("fund", Role.LENDER, 1_000_000_000_00, licence="BANK", region="440100"),
    DevMember("tech", Role.TECH_PARTNER, region="440300"),
    DevMember("auditor", Role.AUDITOR),
    DevMember("regulator", Role.REGULATOR),
    # Cover providers (DESIGN §6.2): a guarantee fund and a credit-guarantee insurer.
    # No licence: DESIGN §6.6 licenses lending, and a cover provider does not lend.
    DevMember("guarantor", Role.GUARANTOR, region="440100"),
    DevMember("insurer", Role.GUARANTOR, region="440300"),
    # Holds securitisation notes (DESIGN §6.5); does not lend.
    DevMember("investor", Role.INVESTOR),
)
DEV_ACCOUNTS = tuple(m.name for m in DEV_CONSORTIUM)
# Gas money per dev account where gas is not free; less when the operator holds less.
DEV_GAS_WEI = 10**21
# What a dev account must get at least: this many transactions at their largest gas limit.
DEV_MIN_TXS = 20
DEV_TX_GAS = 900_000


@dataclass(frozen=True)
class InitResult:
    """What `init` did.

    Attributes:
        deployment: the deployment record written.
        created: accounts created by this run.
        admitted: dev members admitted by this run.
        funded_wei: gas money sent to each dev account (0 on free-gas networks).
    """

    deployment: deploy.Deployment
    created: list[AccountInfo]
    admitted: list[DevMember]
    funded_wei: int = 0


def initialise(
    home: Home,
    *,
    rpc: str | None = None,
    dev: bool = False,
    consortium: bool = False,
    password: Callable[[str], str] | None = None,
    operator_kyc: bytes = b"\0" * 32,
) -> InitResult:
    """Deploy the suite for `home` on the embedded chain or the node at `rpc`.

    `dev` creates the dev accounts; `consortium` (with `dev`) also admits them. Anything
    this run created in the home is removed again if it fails.
    """
    if consortium and not dev:
        raise BadInput("the dev consortium needs dev accounts (dev=True)")
    fresh = not home.root.exists()
    had_chain = home.chain_file.exists()
    keyring = Keyring(home, password)
    created: list[AccountInfo] = []
    try:
        home.ensure()
        try:
            operator = keyring.get(OPERATOR)
        except BadInput:
            operator = keyring.create(OPERATOR, dev=dev)
            created.append(operator)
        genesis = {operator.address: GENESIS_OPERATOR_WEI}
        chain = connect(home, rpc, create=True, genesis_alloc=genesis, deployer=operator.address)
        try:
            return _deploy(home, chain, keyring, dev, consortium, operator_kyc, created)
        finally:
            chain.close()
    except BaseException:
        _undo(home, fresh, had_chain, created)
        raise


def _undo(home: Home, fresh: bool, had_chain: bool, created: list[AccountInfo]) -> None:
    """Leave the home as it was before a failed `init`."""
    if fresh:
        shutil.rmtree(home.root, ignore_errors=True)
        return
    if not had_chain:
        for path in home.chain_file.parent.glob(home.chain_file.name + "*"):
            with contextlib.suppress(OSError):
                path.unlink()
    if created:
        keyring = Keyring(home)
        keyring.forget([a.name for a in created])


def _deploy(
    home: Home,
    chain: Chain,
    keyring: Keyring,
    dev: bool,
    consortium: bool,
    operator_kyc: bytes,
    created: list[AccountInfo],
) -> InitResult:
    if home.deployment_file(chain.network).exists():
        raise Refused(
            f"{home.root} is already initialised on {chain.network} "
            f"({home.deployment_file(chain.network)})"
        )
    names = keyring.names_by_address()
    sender = Sender(chain, keyring.signer(OPERATOR), lambda a: names.get(a, a))
    share = _gas_share(sender, dev)
    record = deploy.deploy_suite(sender, chain.network, operator_kyc)
    if chain.embedded is not None:
        # DESIGN §6.8: from here on only active members send, only an OPERATOR creates.
        chain.embedded.seal_membership(record.address("Membership"))
    if dev:
        for name in DEV_ACCOUNTS:
            try:
                info = keyring.get(name)
            except BadInput:
                info = keyring.create(name, dev=True)
                created.append(info)
            if share:
                sender.transact(info.address, "0x", gas=21_000, value=share, simulate=False)
    admitted: list[DevMember] = []
    if consortium:
        from ledger.engine.client import Ledger

        ledger = Ledger(home, chain, record, keyring, OPERATOR)
        admitted = admit_dev_consortium(ledger)
    deploy.save(home, record)
    if chain.kind == "rpc" and chain.url:
        remember_rpc(home, chain.network, chain.url)
    return InitResult(record, created, admitted, share)


def _gas_share(sender: Sender, dev: bool) -> int:
    """Wei each dev account gets: up to DEV_GAS_WEI each from what the operator holds, the
    operator keeping a share; where gas is free, DEV_GAS_WEI when the operator is that rich
    (the embedded chain's genesis), else none; refuses when gas costs more than it holds."""
    from ledger.money import format_wei

    price = sender.gas_price()
    network = sender.chain.network
    balance = int(sender.chain.w3.eth.get_balance(sender.address))
    accounts = len(DEV_ACCOUNTS) if dev else 0
    if price == 0:
        return DEV_GAS_WEI if dev and balance >= DEV_GAS_WEI * (accounts + 1) else 0
    deploy_cost = deploy.DEPLOY_GAS * len(deploy.SUITE) * price
    least = DEV_MIN_TXS * DEV_TX_GAS * price  # per account, the operator included
    needed = deploy_cost + (accounts + 1) * least + accounts * 21_000 * price
    if balance < needed:
        raise Refused(
            f"the operator {sender.address} holds {format_wei(balance)} on {network} at a gas "
            f"price of {format_wei(price)}; init needs at least {format_wei(needed)} "
            f"(deployment {format_wei(deploy_cost)}"
            + (f", {DEV_MIN_TXS} transactions for each of {accounts} dev accounts" if dev else "")
            + f"): send it {format_wei(needed - balance)} more, or use a free-gas network "
            "(anvil --gas-price 0 --base-fee 0)"
        )
    if not dev:
        return 0
    spare = balance - deploy_cost - accounts * 21_000 * price
    return min(DEV_GAS_WEI, spare // (accounts + 1))


def admit_dev_consortium(
    ledger: Ledger, on_admit: Callable[[DevMember, str], None] | None = None
) -> list[DevMember]:
    """Admit every dev member not yet admitted, signing as `ledger`'s operator."""
    from ledger.models import Admission, Profile

    done = []
    for m in DEV_CONSORTIUM:
        address = ledger.resolve(m.name)
        if ledger.member(address).status != "NONE":
            continue
        expiry = 0 if m.licence == "NONE" else DEV_LICENCE_EXPIRY
        profile = Profile(licence=m.licence, licence_expiry_at=expiry, region=m.region, kind=m.kind)
        ledger.admit(
            Admission(
                address=address,
                roles=m.roles,
                net_assets_fen=m.net_assets_fen,
                profile=profile,
            )
        )
        done.append(m)
        if on_admit is not None:
            on_admit(m, address)
    return done
