"""Connect to the chain a command runs on: embedded, the home's running node, or --rpc.

Every backend is driven the same way — a web3 instance speaking JSON-RPC, transactions
signed locally and sent raw — so no code path differs between them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ledger.errors import ChainUnavailable, NotInitialised, Refused
from ledger.home import Home

if TYPE_CHECKING:
    from web3 import Web3

    from ledger.chain.embedded import EmbeddedChain

EMBEDDED_CHAIN_ID = 19524
EMBEDDED_NETWORK = "embedded"
# Gas for the operator at genesis; members need none while the base fee is zero.
GENESIS_OPERATOR_WEI = 10**30

BackendKind = Literal["embedded", "node", "rpc"]


@dataclass
class Chain:
    """An open connection to a chain.

    Attributes:
        w3: the web3 instance (raw objects stay inside `ledger`).
        kind: embedded (in-process), node (this home's `liandai node`) or rpc (any node).
        network: the name deployment records are kept under.
        url: the JSON-RPC URL, when there is one.
    """

    w3: Web3
    kind: BackendKind
    network: str
    url: str | None = None
    embedded: EmbeddedChain | None = None
    _chain_id: int | None = field(default=None, repr=False)
    _client: str | None = field(default=None, repr=False)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def client_version(self) -> str:
        if self._client is None:
            self._client = str(self.w3.client_version)
        return self._client

    @property
    def can_travel_in_time(self) -> bool:
        """Only dev chains may move their clock: the embedded chain, its node, anvil."""
        return self.kind in ("embedded", "node") or self.client_version.lower().startswith("anvil")

    def advance_time(self, seconds: int) -> None:
        if not self.can_travel_in_time:
            raise Refused(f"`chain advance` works only on dev chains, not on {self.client_version}")
        if self.embedded is not None:
            # Blocks run ahead of wall time (each at least 1 s after its parent), so move the
            # clock far enough that the next block is `seconds` past the head, not past now.
            import time

            head = int(
                self.embedded.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16
            )
            lag = head - (int(time.time()) + self.embedded.time_offset)
            self.embedded.advance_time(seconds + max(0, lag))
            self.embedded.rpc("evm_mine", [])
            return
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.close()
            self.embedded = None


def lean(w3: Web3) -> Web3:
    """Drop web3's default middlewares: the client signs locally with explicit gas and gas
    price, passes checksummed addresses, and reads plain dicts, so gas-price strategies, ENS
    resolution, request validation (an extra eth_chainId per call), gas estimation and
    attribute-dict conversion only cost round trips and CPU."""
    for name in (
        "gas_price_strategy",
        "ens_name_to_address",
        "validation",
        "gas_estimate",
        "attrdict",
    ):
        if name in w3.middleware_onion:
            w3.middleware_onion.remove(name)
    return w3


def _http_web3(url: str) -> Web3:
    from web3 import Web3
    from web3.middleware import ExtraDataToPOAMiddleware

    from ledger.chain.httprpc import KeepAliveHTTPProvider

    try:
        provider = KeepAliveHTTPProvider(url)
    except ValueError as exc:
        raise ChainUnavailable(str(exc)) from None
    w3 = lean(Web3(provider))
    try:
        block = w3.eth.get_block("latest")
    except Exception as exc:
        raise ChainUnavailable(
            f"cannot reach an Ethereum JSON-RPC node at {url} ({_short(exc)})"
        ) from None
    # QBFT/Clique blocks carry validator data in extraData; web3 needs the PoA middleware.
    if len(block.get("extraData", b"")) > 32:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def running_node(home: Home) -> dict[str, Any] | None:
    """The node serving this home's chain, if one is running."""
    try:
        info = json.loads(home.node_file.read_text(encoding="utf-8"))
        pid = int(info["pid"])
        os.kill(pid, 0)
        return dict(info)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def default_lock_timeout() -> float:
    """Seconds to wait for another process holding the chain (LIANDAI_LOCK_TIMEOUT, 10)."""
    try:
        return max(0.0, float(os.environ.get("LIANDAI_LOCK_TIMEOUT", "10")))
    except ValueError:
        return 10.0


def open_embedded(
    home: Home,
    *,
    create: bool = False,
    genesis_alloc: dict[str, int] | None = None,
    lock_timeout: float | None = None,
    deployer: str | None = None,
) -> Chain:
    from web3 import Web3

    from ledger.chain.embedded import ChainBusyError, EmbeddedChain
    from ledger.chain.provider import EmbeddedProvider

    path = home.chain_file
    if not create and not path.exists():
        raise NotInitialised(f"no chain in {home.root}: run `liandai init` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        chain = EmbeddedChain.open(
            path,
            chain_id=EMBEDDED_CHAIN_ID,
            genesis_alloc=genesis_alloc,
            lock_timeout=default_lock_timeout() if lock_timeout is None else lock_timeout,
            deployer=deployer,
        )
    except ChainBusyError as exc:
        raise ChainUnavailable(str(exc)) from None
    adopt_permissioning(home, chain)
    w3 = lean(Web3(EmbeddedProvider(chain)))
    return Chain(
        w3=w3,
        kind="embedded",
        network=EMBEDDED_NETWORK,
        embedded=chain,
        _chain_id=EMBEDDED_CHAIN_ID,
        _client="liandai-embedded",
    )


def remember_rpc(home: Home, network: str, url: str) -> None:
    """Record the node `init --rpc URL` deployed on: later commands use it without --rpc."""
    from ledger.home import write_json_atomic

    write_json_atomic(home.rpc_file, {"url": url, "network": network}, mode=0o644)


def remembered_rpc(home: Home) -> str | None:
    """The URL a home initialised with --rpc was deployed through (none when the home
    has an embedded chain of its own, which stays the default)."""
    if home.chain_file.exists():
        return None
    try:
        return str(json.loads(home.rpc_file.read_text(encoding="utf-8"))["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_home_chain(home: Home, w3: Web3) -> bool:
    """Whether the node behind `w3` serves this home's embedded chain (its `liandai node`,
    reached by URL): the same chain id and this home's audit trail deployed on it."""
    try:
        record = json.loads(home.deployment_file(EMBEDDED_NETWORK).read_text(encoding="utf-8"))
        trail = str(record["contracts"]["AuditTrail"])
        return int(record["chain_id"]) == EMBEDDED_CHAIN_ID and len(w3.eth.get_code(trail)) > 0  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def adopt_permissioning(home: Home, chain: EmbeddedChain) -> None:
    """Permission a home's chain created before DESIGN §6.8 (open, but deployed): from its
    deployment record, transactions come only from active members from now on."""
    if chain.permissioning["mode"] != "open":
        return
    path = home.deployment_file(EMBEDDED_NETWORK)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        membership, deployer = str(record["contracts"]["Membership"]), str(record["deployer"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # not deployed yet (or unreadable: the command that needs it says so)
    try:
        chain.seal_membership(membership, deployer=deployer)
    except ValueError:
        return  # a record that does not match this chain: left open, `load` will refuse


def connect(
    home: Home,
    rpc_url: str | None = None,
    *,
    create: bool = False,
    genesis_alloc: dict[str, int] | None = None,
    deployer: str | None = None,
) -> Chain:
    """The chain for a command: `rpc_url` if given, else the home's node, else the node the
    home was initialised on, else embedded."""
    node = running_node(home)
    if not rpc_url and node is None:
        rpc_url = remembered_rpc(home)
    if rpc_url:
        w3 = _http_web3(rpc_url)
        chain = Chain(w3=w3, kind="rpc", network="", url=rpc_url)
        try:
            chain.network = f"chain-{chain.chain_id}"
        except Exception as exc:
            raise ChainUnavailable(f"{rpc_url} is not an Ethereum node ({_short(exc)})") from None
        if chain.chain_id == EMBEDDED_CHAIN_ID and _is_home_chain(home, w3):
            chain.kind, chain.network, chain._client = "node", EMBEDDED_NETWORK, None
        return chain
    if node is not None:
        url = str(node["url"])
        return Chain(
            w3=_http_web3(url),
            kind="node",
            network=EMBEDDED_NETWORK,
            url=url,
            _chain_id=EMBEDDED_CHAIN_ID,
        )
    return open_embedded(home, create=create, genesis_alloc=genesis_alloc, deployer=deployer)
