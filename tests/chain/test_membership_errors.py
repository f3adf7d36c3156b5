"""The membership check's custom errors decode from each engine's ABI alone.

A refusal raised inside Membership (`requireActive`, `requireRole`) bubbles up through the
engine a client called; with only that engine's ABI (as ethers or viem would hold it) the
error must still be known by name.
"""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractCustomError

from ledger.engine.client import Ledger
from ledger.solidity import artifacts

ENGINES = (
    "DigitalRMB",
    "ReceivableToken",
    "LoanBook",
    "Policy",
    "ProvisionPool",
    "AuditTrail",
    "CoverBook",
)
STRANGER = to_checksum_address("0x" + "5a" * 20)


def _errors(name: str) -> dict[bytes, dict[str, object]]:
    out = {}
    for item in artifacts.load(name).abi:
        if item["type"] == "error":
            types = ",".join(i["type"] for i in item["inputs"])
            out[keccak(text=f"{item['name']}({types})")[:4]] = item
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_abi_declares_the_membership_errors(engine: str) -> None:
    names = {e["name"] for e in _errors(engine).values()}
    assert {"NotAMember", "MemberNotActive", "MissingRole"} <= names
    membership = _errors("Membership")
    for selector, item in _errors(engine).items():
        if item["name"] in ("NotAMember", "MemberNotActive", "MissingRole"):
            assert selector in membership  # the very selectors Membership reverts with


def test_a_strangers_refusal_decodes_from_digital_rmb_abi_alone(ledger: Ledger) -> None:
    token = ledger.contract("DigitalRMB")
    with pytest.raises(ContractCustomError) as refused:
        token.functions.transfer(ledger.resolve("bank"), 1).call({"from": STRANGER})
    raw = bytes.fromhex(str(refused.value.data)[2:])
    item = _errors("DigitalRMB")[raw[:4]]
    assert item["name"] == "NotAMember"
    (account,) = decode(["address"], raw[4:])
    assert to_checksum_address(account) == STRANGER
