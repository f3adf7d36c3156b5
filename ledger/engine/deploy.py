"""Deploy the contract suite and keep its record.

The engines' addresses are fixed at deployment as immutables (the audit trail's writers,
the e-CNY token's engines), so the deployer predicts every address from its own nonce
before the first contract goes out and then sends the suite with consecutive nonces.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ledger.errors import NotInitialised, Refused
from ledger.home import Home, write_json_atomic
from ledger.solidity import artifacts

if TYPE_CHECKING:
    from ledger.engine.tx import Sender

# Deployment order; each entry's constructor arguments are built in `_constructor_args`.
SUITE = (
    "AuditTrail",
    "Membership",
    "DigitalRMB",
    "ReceivableToken",
    "Policy",
    "ProvisionPool",
    "Prudential",
    "LoanOrigination",
    "LoanLifecycle",
    "TrancheTransfer",
    "LoanBook",
    "CoverBook",
    "CreditConsent",
    "TrancheMarket",
    "Securitisation",
    # Last, so adding it moved no other contract's address (the book links it by prediction).
    "LoanStages",
)
# Engine contracts that append to the trail, busiest first: the trail compares a caller with
# each writer in this order (59 gas a test), so settlements and payments pay least.
AUDIT_WRITERS = (
    "LoanBook",
    "DigitalRMB",
    "ReceivableToken",
    "Membership",
    "ProvisionPool",
    "TrancheMarket",
    "Securitisation",
    "CoverBook",
    "CreditConsent",
    "Policy",
)
DEPLOY_GAS = 12_000_000


class Deployment(BaseModel):
    """Where the suite lives on one network (`<home>/deployments/<network>.json`).

    Attributes:
        network: the record's name (`embedded`, or `chain-<id>` for a node).
        chain_id: the chain's id.
        contracts: contract name → checksummed address.
        start_block: the block of the first deployment transaction (logs start here).
        block: the block of the last deployment transaction.
        deployer: the operator account that deployed.
        compiler: solc version the bytecode came from.
        artifacts: contract name → keccak-256 of the deployed creation code.
        deployed_at: block timestamp of the last deployment transaction.
    """

    network: str
    chain_id: int
    contracts: dict[str, str]
    start_block: int
    block: int
    deployer: str
    compiler: str
    artifacts: dict[str, str]
    deployed_at: int

    def address(self, name: str) -> str:
        return self.contracts[name]


def create_address(sender: str, nonce: int) -> str:
    """The address CREATE gives the `nonce`-th contract of `sender`."""
    import rlp
    from eth_utils import keccak, to_canonical_address, to_checksum_address

    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


def _constructor_args(
    name: str, at: dict[str, str], operator: str, operator_kyc: bytes
) -> list[Any]:
    if name == "AuditTrail":
        # The register tells the trail who may publish checkpoints (AUDITOR members).
        return [[at[w] for w in AUDIT_WRITERS], at["Membership"]]
    if name == "Membership":
        # Every contract of the suite is an engine, never a member.
        return [at["AuditTrail"], operator, operator_kyc, [at[n] for n in SUITE]]
    if name == "DigitalRMB":
        return [
            at["AuditTrail"],
            at["Membership"],
            at["ReceivableToken"],
            at["LoanBook"],
            at["ProvisionPool"],
            at["TrancheMarket"],
            at["Securitisation"],
            at["CoverBook"],
        ]
    if name == "ReceivableToken":
        return [at["AuditTrail"], at["Membership"], at["DigitalRMB"], at["LoanBook"]]
    if name == "Policy":
        return [at["AuditTrail"], at["Membership"]]
    if name == "ProvisionPool":
        return [at["AuditTrail"], at["DigitalRMB"]]
    if name == "CreditConsent":
        return [at["AuditTrail"], at["Membership"]]
    if name == "Prudential":
        return [at["Membership"], at["Policy"], at["LoanBook"]]
    if name in ("LoanOrigination", "LoanLifecycle", "LoanStages", "TrancheTransfer"):
        return []
    if name == "LoanBook":
        return [
            at["AuditTrail"],
            at["Membership"],
            at["DigitalRMB"],
            at["ReceivableToken"],
            at["Policy"],
            at["ProvisionPool"],
            at["TrancheMarket"],
            at["CoverBook"],
            at["Prudential"],
        ]
    if name == "TrancheMarket":
        return [
            at["AuditTrail"],
            at["Membership"],
            at["DigitalRMB"],
            at["LoanBook"],
            at["Policy"],
            at["Securitisation"],
        ]
    if name == "Securitisation":
        return [
            at["AuditTrail"],
            at["Membership"],
            at["DigitalRMB"],
            at["LoanBook"],
            at["TrancheMarket"],
            at["Policy"],
        ]
    if name == "CoverBook":
        return [
            at["AuditTrail"],
            at["Membership"],
            at["DigitalRMB"],
            at["ReceivableToken"],
            at["Policy"],
            at["LoanBook"],
            at["ProvisionPool"],
        ]
    raise ValueError(name)


def deploy_suite(sender: Sender, network: str, operator_kyc: bytes = b"\0" * 32) -> Deployment:
    """Deploy every contract of the suite from `sender` (who becomes the first OPERATOR)."""
    w3 = sender.chain.w3
    first = int(w3.eth.get_transaction_count(sender.address, "pending"))
    at = {name: create_address(sender.address, first + i) for i, name in enumerate(SUITE)}
    hashes: list[str] = []
    for name in SUITE:
        art = artifacts.load(name)
        factory = w3.eth.contract(abi=art.abi, bytecode=art.linked(at))
        data = factory.constructor(
            *_constructor_args(name, at, sender.address, operator_kyc)
        ).data_in_transaction
        hashes.append(sender.send_raw(sender.build(None, data, gas=DEPLOY_GAS)))
    sent = []
    for name, tx_hash in zip(SUITE, hashes, strict=True):
        last = sender.wait(tx_hash)
        sent.append(last)
        created = last.receipt["contractAddress"]
        if created != at[name]:
            raise Refused(f"{name} was deployed at {created}, not at the predicted {at[name]}")
    block = w3.eth.get_block(last.block)
    return Deployment(
        network=network,
        chain_id=sender.chain.chain_id,
        contracts=at,
        start_block=sent[0].block,
        block=last.block,
        deployer=sender.address,
        compiler=str(artifacts.manifest()["compiler"]["version"]),
        artifacts={name: artifacts.bytecode_hash(name) for name in SUITE},
        deployed_at=int(block["timestamp"]),
    )


def save(home: Home, deployment: Deployment) -> None:
    write_json_atomic(home.deployment_file(deployment.network), deployment.model_dump(), mode=0o644)


def load(home: Home, network: str, chain_id: int) -> Deployment:
    path = home.deployment_file(network)
    if not path.exists():
        raise NotInitialised(
            f"liandai is not deployed on {network} for {home.root}: run `liandai init`"
        )
    try:
        record = Deployment.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise Refused(f"deployment record {path} is unreadable ({exc})") from None
    if record.chain_id != chain_id:
        raise Refused(f"deployment record {path} is for chain {record.chain_id}, not {chain_id}")
    stale = [n for n in SUITE if record.artifacts.get(n) != artifacts.bytecode_hash(n)]
    if stale:
        raise Refused(
            f"the deployment on {network} runs older contracts ({', '.join(stale)}); "
            "deploy them with `liandai init` into a new home (--home DIR)"
        )
    return record
