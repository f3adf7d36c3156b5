"""`liandai init`: create the home, the operator's key, deploy the suite, record it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.chain.backend import GENESIS_OPERATOR_WEI, connect
from ledger.engine import deploy
from ledger.engine.accounts import AccountInfo, Keyring
from ledger.engine.tx import Sender
from ledger.errors import BadInput, Refused
from ledger.home import Home

OPERATOR = "operator"
# Named dev accounts for the demo and for trying things out; plaintext keys, dev only.
DEV_ACCOUNTS = (
    "issuer",
    "core",
    "supplier1",
    "supplier2",
    "bank",
    "microloan",
    "tech",
    "auditor",
    "regulator",
)
DEV_GAS_WEI = 10**21


@dataclass(frozen=True)
class InitResult:
    """What `init` did.

    Attributes:
        deployment: the deployment record written.
        created: accounts created by this run.
    """

    deployment: deploy.Deployment
    created: list[AccountInfo]


def initialise(
    home: Home,
    *,
    rpc: str | None = None,
    dev: bool = False,
    password: Callable[[str], str] | None = None,
    operator_kyc: bytes = b"\0" * 32,
) -> InitResult:
    home.ensure()
    keyring = Keyring(home, password)
    created: list[AccountInfo] = []
    try:
        operator = keyring.get(OPERATOR)
    except BadInput:
        operator = keyring.create(OPERATOR, dev=dev)
        created.append(operator)
    genesis = {operator.address: GENESIS_OPERATOR_WEI}
    chain = connect(home, rpc, create=True, genesis_alloc=genesis, deployer=operator.address)
    try:
        if home.deployment_file(chain.network).exists():
            raise Refused(
                f"{home.root} is already initialised on {chain.network} "
                f"({home.deployment_file(chain.network)})"
            )
        names = keyring.names_by_address()
        sender = Sender(chain, keyring.signer(OPERATOR), lambda a: names.get(a, a))
        if sender.gas_price() > 0 and chain.w3.eth.get_balance(operator.address) == 0:  # type: ignore[arg-type]
            raise Refused(
                f"the operator {operator.address} has no gas on {chain.network}; "
                "fund it or use a zero-gas-price network"
            )
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
                # Gas money, so dev accounts also work where gas is not free; a free-gas
                # network whose operator holds no ether (anvil --base-fee 0) needs none.
                if chain.w3.eth.get_balance(operator.address) >= DEV_GAS_WEI:  # type: ignore[arg-type]
                    sender.transact(
                        info.address, "0x", gas=21_000, value=DEV_GAS_WEI, simulate=False
                    )
        deploy.save(home, record)
        return InitResult(record, created)
    finally:
        chain.close()
