"""Shared helpers for the chain tests: keys, signing, and hand-assembled contracts.

No compiler here: the test contracts are a few dozen EVM opcodes, assembled below.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_typing import HexStr
from eth_utils import to_checksum_address

from ledger.chain.embedded import EmbeddedChain

CHAIN_ID = 19524
ALICE: LocalAccount = Account.from_key("0x" + "11" * 32)
BOB: LocalAccount = Account.from_key("0x" + "22" * 32)
CAROL_ADDRESS = "0x" + "33" * 20
ETHER = 10**18
ALLOC = {ALICE.address: 1_000_000 * ETHER, BOB.address: 1_000 * ETHER}

# Store contract events and errors.
STORED_TOPIC = keccak(b"Stored(address,uint256)")
BAD_SELECTOR = keccak(b"Bad(uint256)")[:4]
BAD_ARG = 42

_OPCODES = {
    "STOP": 0x00,
    "ADD": 0x01,
    "ISZERO": 0x15,
    "EQ": 0x14,
    "SHL": 0x1B,
    "CALLER": 0x33,
    "CALLDATALOAD": 0x35,
    "CALLDATASIZE": 0x36,
    "CODECOPY": 0x39,
    "MLOAD": 0x51,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "DUP1": 0x80,
    "LOG2": 0xA2,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
}


def assemble(source: str) -> bytes:
    """Tiny two-pass assembler: ``PUSHn 0x..``, opcodes, ``@label`` and ``PUSH1 :label``."""
    tokens = source.split()
    labels: dict[str, int] = {}
    for final in (False, True):
        out = bytearray()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.startswith("@"):
                labels[token[1:]] = len(out)
                out.append(_OPCODES["JUMPDEST"])
            elif token.startswith("PUSH"):
                size = int(token[4:])
                arg = tokens[i + 1]
                i += 1
                value = labels.get(arg[1:], 0) if arg.startswith(":") else int(arg, 0)
                if final and arg.startswith(":") and arg[1:] not in labels:
                    raise ValueError(f"unknown label {arg}")
                out.append(0x5F + size)
                out += value.to_bytes(size, "big")
            else:
                out.append(_OPCODES[token])
            i += 1
    return bytes(out)


def init_code(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime``."""
    size = len(runtime)
    prefix = assemble(f"PUSH2 {size} PUSH1 14 PUSH1 0 CODECOPY PUSH2 {size} PUSH1 0 RETURN")
    assert len(prefix) == 14
    return prefix + runtime


# Any non-empty calldata x: x == 0 reverts Bad(42); x == 1 reverts Error("nope");
# otherwise stores x in slot 0 and logs Stored(caller, x). Empty calldata returns slot 0.
STORE_RUNTIME = assemble(
    f"""
    CALLDATASIZE ISZERO PUSH1 :get JUMPI
    PUSH1 0 CALLDATALOAD
    DUP1 ISZERO PUSH1 :bad JUMPI
    DUP1 PUSH1 1 EQ PUSH1 :nope JUMPI
    DUP1 PUSH1 0 SSTORE
    PUSH1 0 MSTORE
    CALLER PUSH32 0x{STORED_TOPIC.hex()} PUSH1 32 PUSH1 0 LOG2
    STOP
    @get PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    @bad PUSH4 0x{BAD_SELECTOR.hex()} PUSH1 224 SHL PUSH1 0 MSTORE
         PUSH1 {BAD_ARG} PUSH1 4 MSTORE PUSH1 36 PUSH1 0 REVERT
    @nope PUSH4 0x08c379a0 PUSH1 224 SHL PUSH1 0 MSTORE
          PUSH1 32 PUSH1 4 MSTORE PUSH1 4 PUSH1 36 MSTORE
          PUSH4 0x{b"nope".hex()} PUSH1 224 SHL PUSH1 68 MSTORE
          PUSH1 100 PUSH1 0 REVERT
    """
)
STORE_INIT = init_code(STORE_RUNTIME)

# Creation code that asks for ~4 GiB of memory: out of gas, burning all gas given.
GAS_BURNER_INIT = assemble("PUSH4 0xffffffff MLOAD")


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def sign(
    account: LocalAccount,
    nonce: int,
    *,
    to: str | None = None,
    data: bytes = b"",
    value: int = 0,
    gas: int = 200_000,
    chain_id: int = CHAIN_ID,
    dynamic: bool = False,
) -> HexStr:
    tx: dict[str, Any] = {
        "nonce": nonce,
        "gas": gas,
        "value": value,
        "data": data,
        "chainId": chain_id,
    }
    if to is not None:
        tx["to"] = to_checksum_address(to)
    if dynamic:
        tx.update(maxFeePerGas=0, maxPriorityFeePerGas=0, type=2)
    else:
        tx["gasPrice"] = 0
    return HexStr("0x" + account.sign_transaction(tx).raw_transaction.hex())


def nonce_of(chain: EmbeddedChain, address: str) -> int:
    return int(chain.rpc("eth_getTransactionCount", [address, "latest"]), 16)


def send(chain: EmbeddedChain, account: LocalAccount, **kwargs: Any) -> dict[str, Any]:
    """Sign with the next nonce, send, and return the receipt (mined at once)."""
    kwargs.setdefault("chain_id", chain.chain_id)
    raw = sign(account, nonce_of(chain, account.address), **kwargs)
    tx_hash = chain.rpc("eth_sendRawTransaction", [raw])
    receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None
    return dict(receipt)


def deploy_store(chain: EmbeddedChain, account: LocalAccount = ALICE) -> str:
    receipt = send(chain, account, data=STORE_INIT, gas=300_000)
    assert receipt["status"] == "0x1"
    return str(receipt["contractAddress"])
