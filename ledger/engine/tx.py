"""Sign locally, send raw, wait briefly, decode refusals.

Every transaction carries an explicit gas limit (so no node runs gas estimation, a binary
search of ~13 executions) and a nonce counted here (one `eth_getTransactionCount` per
process). Before sending, a transaction is simulated with `eth_call`: a refusal is decoded
from its custom error and nothing is sent, so a refused command leaves the chain untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.engine.refusals import explain
from ledger.engine.signing import LegacySigner
from ledger.errors import ChainUnavailable, ContractRefusal, Refused
from ledger.solidity.artifacts import decode_error

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from eth_typing import ChecksumAddress

    from ledger.chain.backend import Chain
    from ledger.engine.client import Ledger

DEFAULT_GAS = 1_500_000
RECEIPT_POLL_SECONDS = 0.005
RECEIPT_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Sent:
    """A mined transaction.

    Attributes:
        tx: transaction hash, 0x-hex.
        block: block number.
        gas_used: gas the transaction used.
        receipt: the raw receipt (kept inside `ledger`).
    """

    tx: str
    block: int
    gas_used: int
    receipt: Any


def revert_data(exc: BaseException) -> bytes | None:
    """Revert data carried by a web3 exception (custom error selector + args)."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    if isinstance(data, bytes):
        return data
    return None


def refusal_from(exc: BaseException, name_of: Callable[[str], str]) -> Refused:
    """A web3 exception → the decoded refusal (custom error in words) or a plain one."""
    data = revert_data(exc)
    decoded = decode_error(data) if data else None
    if decoded is None:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Refused(f"refused by the chain: {reason}")
    name, args = decoded
    return ContractRefusal(name, args, f"refused by the chain: {explain(name, args, name_of)}")


class Sender:
    """Sends transactions signed by one local account."""

    def __init__(self, chain: Chain, account: LocalAccount, name_of: Callable[[str], str]) -> None:
        self.chain = chain
        self.account = account
        self.name_of = name_of
        self._nonce: int | None = None
        self._gas_price: int | None = None
        self._signer: LegacySigner | None = None

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(self.chain.w3.eth.get_transaction_count(self.address, "pending"))
        return self._nonce

    def gas_price(self) -> int:
        """Zero on free-gas networks (base fee 0: embedded, Besu QBFT, anvil --base-fee 0)."""
        if self._gas_price is None:
            base_fee = self.chain.w3.eth.get_block("latest").get("baseFeePerGas", None)
            self._gas_price = 0 if base_fee == 0 else int(self.chain.w3.eth.gas_price)
        return self._gas_price

    def refusal(self, exc: BaseException) -> Refused:
        data = revert_data(exc)
        decoded = decode_error(data) if data else None
        if decoded is None:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return Refused(f"refused by the chain: {reason}")
        name, args = decoded
        return ContractRefusal(
            name, args, f"refused by the chain: {explain(name, args, self.name_of)}"
        )

    def build(
        self, to: str | None, data: str, *, gas: int = DEFAULT_GAS, value: int = 0
    ) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "from": self.address,
            "data": data,
            "gas": gas,
            "gasPrice": self.gas_price(),
            "value": value,
            "chainId": self.chain.chain_id,
        }
        if to is not None:
            tx["to"] = to
        return tx

    def simulate(self, tx: dict[str, Any]) -> bytes:
        """Run `tx` with eth_call; raise the decoded refusal if it would revert."""
        call = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
        try:
            return bytes(self.chain.w3.eth.call(call, "latest"))  # type: ignore[arg-type]
        except Exception as exc:
            raise self.refusal(exc) from None

    def send_raw(self, tx: dict[str, Any]) -> str:
        """Sign and send without waiting; return the hash (for pipelining)."""
        tx = dict(tx, nonce=self._next_nonce())
        tx.pop("from", None)
        if self._signer is None:
            self._signer = LegacySigner(self.account.key, self.chain.chain_id)
        raw, tx_hash = self._signer.sign(tx)
        from web3.types import RPCEndpoint

        # Straight to the provider: web3's request and result formatters cost more than the
        # call itself, and the answer is just the hash, known already.
        try:
            response = self.chain.w3.provider.make_request(
                RPCEndpoint("eth_sendRawTransaction"), ["0x" + raw.hex()]
            )
        except Exception as exc:
            self._nonce = None  # resynchronise from the node next time
            raise ChainUnavailable(f"the node did not accept the transaction: {exc}") from None
        if "error" in response:
            self._nonce = None
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ChainUnavailable(f"the node did not accept the transaction: {message}")
        self._nonce = int(tx["nonce"]) + 1
        return "0x" + tx_hash.hex()

    def _poll_receipt(self, tx_hash: str) -> Any:
        """The receipt, polled from at once with a doubling pause (0.25 ms up to
        RECEIPT_POLL_SECONDS): an auto-mining node has it within a millisecond or two, and
        web3's fixed pause made every sequential transaction wait a whole interval."""
        import time

        from web3.exceptions import TransactionNotFound

        deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
        pause = 0.00025
        while True:
            try:
                return self.chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                pass
            if time.monotonic() > deadline:
                raise ChainUnavailable(
                    f"transaction {tx_hash} was not mined within {RECEIPT_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(pause)
            pause = min(2 * pause, RECEIPT_POLL_SECONDS)

    def wait(self, tx_hash: str, tx: dict[str, Any] | None = None) -> Sent:
        receipt = self._poll_receipt(tx_hash)
        if receipt["status"] != 1:
            # Mined but reverted (state changed between simulation and mining): replay to
            # decode why against the parent block.
            if tx is not None:
                call = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
                try:
                    self.chain.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
                except Exception as exc:
                    raise self.refusal(exc) from None
            if tx is not None and int(receipt["gasUsed"]) >= int(tx["gas"]):
                raise Refused(f"transaction {tx_hash} ran out of gas (limit {tx['gas']:,})")
            raise Refused(f"transaction {tx_hash} reverted")
        return Sent(
            tx=tx_hash,
            block=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            receipt=receipt,
        )

    def transact(
        self,
        to: str | None,
        data: str,
        *,
        gas: int = DEFAULT_GAS,
        value: int = 0,
        simulate: bool = True,
    ) -> Sent:
        """Simulate (unless told not to), send, and wait for the receipt."""
        tx = self.build(to, data, gas=gas, value=value)
        if simulate:
            self.simulate(tx)
        return self.wait(self.send_raw(tx), tx)


class EngineClient:
    """The typed client of one engine contract (`CONTRACT`): views whose revert becomes the
    refusal it carries, and sends through the ledger (simulated first)."""

    CONTRACT: str

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @property
    def _c(self) -> Any:
        return self.ledger.contract(self.CONTRACT)

    def _call(self, fn: str, *args: Any) -> Any:
        try:
            return getattr(self._c.functions, fn)(*args).call()
        except Exception as exc:
            raise self.ledger.refusal(exc) from None

    def _send(self, fn: str, *args: Any, gas: int) -> Sent:
        return self.ledger._send(self.CONTRACT, fn, *args, gas=gas)
