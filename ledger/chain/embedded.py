"""A persistent Ethereum chain run in-process by py-evm, stored in one SQLite file.

Why not eth-tester: it always builds a fresh in-memory genesis, and it finds receipts
and logs by scanning blocks backwards from the head (quadratic in chain length). Here
py-evm runs directly on a key/value store kept in SQLite; every look-up by transaction
hash goes through py-evm's transaction index, and log queries skip blocks by bloom.

Durability: WAL journal, ``synchronous=FULL`` by default. All of a block's writes (state trie,
header, canonical pointers, transaction index, receipts) are buffered in memory and
written in one SQLite transaction once the block is mined, so the file only ever holds
whole blocks: a crash (even ``kill -9`` or power loss) can lose only a transaction that
had not been mined yet, i.e. one whose hash was never returned to a client.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NoReturn, Self, cast

import filelock
import rlp
from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.chains.base import Chain
from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.exceptions import (
    CanonicalHeadNotFound,
    HeaderNotFound,
    OutOfGas,
    Revert,
    TransactionNotFound,
)
from eth.vm.forks.berlin.transactions import TypedTransaction
from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_bloom import BloomFilter
from eth_hash.auto import keccak
from eth_typing import Address, BlockNumber, ChecksumAddress, Hash32
from eth_utils import ValidationError

__all__ = [
    "BLOCK_GAS_LIMIT",
    "DEFAULT_CHAIN_ID",
    "ChainBusyError",
    "ChainConfigError",
    "EmbeddedChain",
    "GenesisAlloc",
    "RPCError",
]

DEFAULT_CHAIN_ID: Final = 19524
MAX_FILTERS: Final = 1024
PERMISSION_CACHE_SIZE: Final = 4096
FILTER_TIMEOUT: Final = 300.0
BLOCK_GAS_LIMIT: Final = 60_000_000
SCHEMA_VERSION: Final = 1
CLIENT_VERSION: Final = "liandai-embedded/v1/py-evm"

ZERO_ADDRESS: Final = b"\x00" * 20
ZERO_HASH: Final = b"\x00" * 32
BLANK_ROOT: Final = keccak(rlp.encode(b""))
BLOB_TX_TYPE: Final = 3
SET_CODE_TX_TYPE: Final = 4
EXECUTION_REVERTED: Final = "execution reverted"
ERROR_STRING_SELECTOR: Final = bytes.fromhex("08c379a0")

# JSON-RPC error codes (as geth uses them).
INVALID_PARAMS: Final = -32602
METHOD_NOT_FOUND: Final = -32601
INTERNAL_ERROR: Final = -32603
SERVER_ERROR: Final = -32000
REVERT_ERROR: Final = 3
# Besu's code for a sender its permissioning refuses (TX_SENDER_NOT_AUTHORIZED).
NOT_PERMITTED: Final = -32007

# Chain-level permissioning (DESIGN §6.8): the Membership contract's view, its role bit.
MEMBER_OF_SELECTOR: Final = keccak(b"memberOf(address)")[:4]
HAS_ROLES_SELECTOR: Final = keccak(b"hasRoles(address,uint16)")[:4]
NOT_A_MEMBER_SELECTOR: Final = keccak(b"NotAMember(address)")[:4]
MEMBER_NOT_ACTIVE_SELECTOR: Final = keccak(b"MemberNotActive(address,uint8)")[:4]
MISSING_ROLE_SELECTOR: Final = keccak(b"MissingRole(address,uint16,uint16)")[:4]
OPERATOR_ROLE: Final = 1
STATUS_ACTIVE: Final = 1
_STATUS_NAMES: Final = {0: "NONE", 1: "ACTIVE", 2: "SUSPENDED"}

_log = logging.getLogger(__name__)


class RPCError(Exception):
    """A JSON-RPC error as a node would return it (``code``, ``message``, ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"RPCError({self.code}, {self.message!r}, data={self.data!r})"


class ChainBusyError(RuntimeError):
    """Another process (or another open in this one) holds the chain's write lock."""

    def __init__(self, path: Path, holder_info: str | None) -> None:
        who = holder_info or "an unknown process"
        super().__init__(
            f"the chain at {path} is in use by another liandai process ({who}); wait or stop it"
        )
        self.path = path
        self.holder_info = holder_info


class ChainConfigError(ValueError):
    """The stored chain does not match what the caller asked for (or is not a chain)."""


# --------------------------------------------------------------------------------------
# Storage: py-evm key/value database on SQLite, written one whole block at a time.
# --------------------------------------------------------------------------------------

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_DELETED: Final = None


class _SQLiteKV(BaseDB):
    """py-evm's raw key/value store. Writes go to an in-memory buffer until ``commit``.

    Buffering makes each mined block one SQLite transaction (atomic on crash) and keeps
    SQLite out of the per-write hot path; reads check the buffer first.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pending: dict[bytes, bytes | None] = {}
        # Rows read from SQLite: the "work done" measure the tests use.
        self.reads = 0

    def __getitem__(self, key: bytes) -> bytes:
        pending = self._pending
        if key in pending:
            value = pending[key]
            if value is None:
                raise KeyError(key)
            return value
        self.reads += 1
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return cast(bytes, row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[bytes(key)] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[bytes(key)] = _DELETED

    def _exists(self, key: bytes) -> bool:
        pending = self._pending
        if key in pending:
            return pending[key] is not None
        self.reads += 1
        row = self._conn.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone()
        return row is not None

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def commit(self, meta: Mapping[str, str | int] | None = None) -> None:
        """Write the buffer (and meta rows) in one SQLite transaction."""
        puts = [(k, v) for k, v in self._pending.items() if v is not None]
        dels = [(k,) for k, v in self._pending.items() if v is None]
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if puts:
                conn.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", puts)
            if dels:
                conn.executemany("DELETE FROM kv WHERE key = ?", dels)
            for k, v in (meta or {}).items():
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (k, str(v)))
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()


def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}


# --------------------------------------------------------------------------------------
# VM and chain: Prague with a base fee pinned at zero (a free-gas network).
# --------------------------------------------------------------------------------------


def _zero_fee_header_from_parent(
    parent_header: BlockHeaderAPI | None, **header_params: Any
) -> BlockHeaderAPI:
    # London's rule raises the base fee by at least 1 wei after any block that uses more
    # than half its gas limit, and from 1 it never decays back to 0 (integer rounding):
    # one big deployment would end gas-price-0 transactions for good. Like Besu's
    # zeroBaseFee, pin it at 0 and keep the gas limit constant.
    header_params.pop("base_fee_per_gas", None)
    if parent_header is not None:
        header_params.setdefault("gas_limit", parent_header.gas_limit)
    header = PragueVM.create_header_from_parent(parent_header, **header_params)
    return cast(BlockHeaderAPI, header.copy(base_fee_per_gas=0))


class ZeroFeePragueVM(PragueVM):
    """Prague, with the base fee pinned at zero and a constant gas limit."""

    fork = "prague-zero-fee"
    create_header_from_parent = staticmethod(_zero_fee_header_from_parent)

    @classmethod
    def validate_gas(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if header.gas_limit != parent_header.gas_limit:
            raise ValidationError("the block gas limit is constant on this chain")
        if header.base_fee_per_gas != 0:
            raise ValidationError("the base fee is always 0 on this chain")


def _chain_class(chain_id: int) -> type[Chain]:
    return cast(
        type[Chain],
        type(
            "LiandaiChain",
            (Chain,),
            {"chain_id": chain_id, "vm_configuration": ((0, ZeroFeePragueVM),)},
        ),
    )


# --------------------------------------------------------------------------------------
# JSON encoding (as geth does: hex quantities, 0x data, lowercase addresses).
# --------------------------------------------------------------------------------------


def _q(value: int) -> str:
    return hex(value)


def _d(value: bytes) -> str:
    return "0x" + value.hex()


def _h32(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _addr_or_none(value: bytes) -> str | None:
    return _d(value) if value else None


# --------------------------------------------------------------------------------------
# JSON-RPC parameter parsing. Bad input is error -32602, like a node.
# --------------------------------------------------------------------------------------


def _bad(message: str) -> NoReturn:
    raise RPCError(INVALID_PARAMS, message)


def _param(params: Sequence[Any], index: int, name: str, *, required: bool = True) -> Any:
    if index < len(params):
        return params[index]
    if required:
        _bad(f"missing value for required argument {index} ({name})")
    return None


def _quantity(value: Any, name: str) -> int:
    if isinstance(value, str):
        if value[:2] in ("0x", "0X") and len(value) > 2:
            try:
                return int(value, 16)
            except ValueError:
                pass
        _bad(f"invalid argument {name}: hex string without 0x prefix or not a number")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value  # lenient: some clients send plain JSON numbers
    _bad(f"invalid argument {name}: expected a hex quantity")


def _data(value: Any, name: str) -> bytes:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    _bad(f"invalid argument {name}: expected 0x-prefixed hex data")


def _quantity_or_earliest(value: Any, name: str) -> int:
    return 0 if value == "earliest" else _quantity(value, name)


def _fixed(value: Any, size: int, name: str) -> bytes:
    raw = _data(value, name)
    if len(raw) != size:
        _bad(f"invalid argument {name}: expected {size} bytes, got {len(raw)}")
    return raw


def _address(value: Any, name: str) -> Address:
    return Address(_fixed(value, 20, name))


def _hash(value: Any, name: str) -> Hash32:
    return Hash32(_fixed(value, 32, name))


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    _bad(f"invalid argument {name}: expected a boolean")


# --------------------------------------------------------------------------------------
# The lock: one writer per chain file.
# --------------------------------------------------------------------------------------


def _owner_file(path: Path) -> Path:
    return path.with_name(path.name + ".pid")


def _acquire_lock(path: Path, timeout: float) -> filelock.FileLock:
    lock = filelock.FileLock(str(path) + ".lock", thread_local=False)
    try:
        lock.acquire(timeout=max(timeout, 0.0))
    except (filelock.Timeout, RuntimeError) as exc:
        raise ChainBusyError(path, _holder_info(path)) from exc
    with suppress(OSError):  # informative only
        _owner_file(path).write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        )
    return lock


def _holder_info(path: Path) -> str | None:
    try:
        info = json.loads(_owner_file(path).read_text())
        return f"pid {int(info['pid'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------------------
# The chain.
# --------------------------------------------------------------------------------------

_RPCHandler = Callable[[list[Any]], Any]
# Address (hex, any case) -> wei. Accepts web3's ChecksumAddress keys as they are.
GenesisAlloc = Mapping[str, int] | Mapping[ChecksumAddress, int]


class EmbeddedChain:
    """A single-node, auto-mining, zero-base-fee chain persisted in SQLite.

    Use :meth:`open`. All public methods are thread-safe (one internal lock); ``rpc`` is
    the interface everything else uses and answers like an Ethereum JSON-RPC node.
    """

    def __init__(
        self,
        *,
        path: Path | None,
        conn: sqlite3.Connection,
        kv: _SQLiteKV,
        chain: Chain,
        meta: dict[str, str],
        lock: filelock.FileLock | None,
    ) -> None:
        self._path = path
        self._conn = conn
        self._kv = kv
        self._chain = chain
        self._chaindb = chain.chaindb
        self._chain_id = int(meta["chain_id"])
        self._time_offset = int(meta["time_offset"])
        self._deployer = _meta_address(meta.get("deployer"))
        self._membership = _meta_address(meta.get("membership"))
        self._file_lock = lock
        self._lock = threading.RLock()
        self._closed = False
        self._head = self._chaindb.get_canonical_head()
        self._genesis_hash = self._chaindb.get_canonical_block_hash(BlockNumber(0))
        self._tx_builder = ZeroFeePragueVM.get_transaction_builder()
        self._receipt_builder = ZeroFeePragueVM.get_receipt_builder()
        self._handlers: dict[str, _RPCHandler] = self._make_handlers()
        self._filters: dict[str, _Filter] = {}
        self._permission_cache: dict[tuple[bytes, bytes, int], bool] = {}
        self._on_block: list[Callable[[BlockHeaderAPI], None]] = []

    # ---------------------------------------------------------------- open / close

    @classmethod
    def open(
        cls,
        path: Path | str | None,
        *,
        chain_id: int | None = None,
        genesis_alloc: GenesisAlloc | None = None,
        lock_timeout: float = 10.0,
        durable: bool = True,
        deployer: str | None = None,
    ) -> EmbeddedChain:
        """Open the chain stored at ``path`` (created on first use); ``None``: in memory.

        ``chain_id`` and ``genesis_alloc`` apply when the chain is created; a later open
        resumes the stored chain (its chain id must match ``chain_id`` if one is given).
        Raises :class:`ChainBusyError` if another process holds the chain.

        ``durable=False`` (SQLite ``synchronous=NORMAL``) skips the fsync per block:
        every mined block still survives a process crash or ``kill -9`` (it reached the
        OS), but an OS crash or power loss may roll back the last few blocks.

        ``deployer`` (applies when the chain is created) makes it permissioned (DESIGN
        §6.8): only that account may send transactions until :meth:`seal_membership`
        names the Membership contract; from then on only active members may send, and
        only an OPERATOR may create contracts. A chain created without one is open.
        """
        if chain_id is not None and (
            isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0
        ):
            raise ChainConfigError(f"chain id must be a positive integer, got {chain_id!r}")
        file_path = Path(path) if path is not None else None
        lock = None
        conn: sqlite3.Connection | None = None
        try:
            if file_path is not None:
                file_path.parent.mkdir(parents=True, exist_ok=True)
                lock = _acquire_lock(file_path, lock_timeout)
            conn = _connect(file_path, durable=durable)
            kv = _SQLiteKV(conn)
            meta = _read_meta(conn)
            if meta.get("initialised") == "1":
                chain = _resume(kv, meta, chain_id, file_path)
            else:
                chain, meta = _create(
                    kv, chain_id or DEFAULT_CHAIN_ID, genesis_alloc or {}, deployer
                )
            return cls(path=file_path, conn=conn, kv=kv, chain=chain, meta=meta, lock=lock)
        except BaseException:
            if conn is not None:
                conn.close()
            if lock is not None:
                _release_lock(file_path, lock)
            raise

    def close(self) -> None:
        """Close the database and release the lock (every mined block is already committed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._kv.dirty:
                    # Only a failed (rolled back) operation can leave writes behind, and
                    # they belong to no block: drop them rather than commit a half block.
                    self._kv.rollback()
                self._conn.close()
            finally:
                if self._file_lock is not None and self._path is not None:
                    _release_lock(self._path, self._file_lock)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------- properties

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def block_number(self) -> int:
        with self._lock:
            return int(self._head.block_number)

    @property
    def head_hash(self) -> bytes:
        with self._lock:
            return bytes(self._head.hash)

    @property
    def genesis_hash(self) -> bytes:
        return bytes(self._genesis_hash)

    @property
    def time_offset(self) -> int:
        """Seconds added to wall-clock time for new blocks (moved by :meth:`advance_time`)."""
        return self._time_offset

    @property
    def db_reads(self) -> int:
        """Rows read from SQLite so far: a measure of work done by look-ups."""
        return self._kv.reads

    # ---------------------------------------------------------------- permissioning

    @property
    def permissioning(self) -> dict[str, str | None]:
        """``mode`` (open, deploying, members) and the addresses it rests on."""
        with self._lock:
            if self._deployer is None:
                mode = "open"
            elif self._membership is None:
                mode = "deploying"
            else:
                mode = "members"
            return {
                "mode": mode,
                "deployer": _d(self._deployer) if self._deployer else None,
                "membership": _d(self._membership) if self._membership else None,
            }

    def seal_membership(self, membership: str, *, deployer: str | None = None) -> None:
        """From now on, read who may send from the Membership contract at ``membership``.

        Called once the suite is deployed. ``deployer`` makes an open chain (one created
        before permissioning existed) permissioned too. The Membership contract must
        answer ``memberOf`` with the deployer as an active OPERATOR, else nobody could
        ever send again. Persisted at once; sealing twice with another address fails.
        """
        address = _parse_alloc_address(membership)
        with self._lock:
            self._check_open()
            owner = self._deployer
            if owner is None:
                if deployer is None:
                    raise ValueError("this chain has no deployer: give one to permission it")
                owner = _parse_alloc_address(deployer)
            if self._membership is not None:
                if self._membership == address:
                    return
                raise ValueError(
                    f"permissioning already reads Membership at {_d(self._membership)}"
                )
            roles, status = self._member_of(self._head, owner, address)
            if status != STATUS_ACTIVE or not roles & OPERATOR_ROLE:
                raise ValueError(
                    f"{membership} does not hold the deployer {_d(owner)} as an active OPERATOR"
                )
            self._kv.commit({"deployer": _d(owner), "membership": _d(address)})
            self._deployer = owner
            self._membership = address

    def _member_of(
        self, header: BlockHeaderAPI, account: bytes, membership: bytes
    ) -> tuple[int, int]:
        """(roles, status) of ``account`` in the Membership contract, at ``header``'s state."""
        data = MEMBER_OF_SELECTOR + bytes(12) + account
        output = self._view(header, membership, data, "memberOf(address)")
        if len(output) < 64:
            raise ValueError(f"{_d(membership)} does not answer memberOf(address)")
        return int.from_bytes(output[:32], "big"), int.from_bytes(output[32:64], "big")

    def _has_roles(
        self, header: BlockHeaderAPI, account: bytes, roles: int, membership: bytes
    ) -> bool:
        """Membership's ``hasRoles(account, roles)``: ACTIVE and holding every bit of
        ``roles`` (0: just ACTIVE). A third of ``memberOf``'s work: the common case."""
        data = HAS_ROLES_SELECTOR + bytes(12) + account + roles.to_bytes(32, "big")
        output = self._view(header, membership, data, "hasRoles(address,uint16)")
        return len(output) >= 32 and int.from_bytes(output[:32], "big") == 1

    def _allowed(
        self, header: BlockHeaderAPI, account: bytes, roles: int, membership: bytes
    ) -> bool:
        """:meth:`_has_roles`, remembered per Membership storage root: its views read
        nothing but its own storage, so while that root is unchanged (most blocks touch
        no membership) the answer is too, and a transaction skips the EVM call."""
        key = (self._storage_root(header, membership), account, roles)
        cached = self._permission_cache.get(key)
        if cached is None:
            cached = self._has_roles(header, account, roles, membership)
            if len(self._permission_cache) >= PERMISSION_CACHE_SIZE:
                self._permission_cache.clear()
            self._permission_cache[key] = cached
        return cached

    def _storage_root(self, header: BlockHeaderAPI, contract: bytes) -> bytes:
        from trie import HexaryTrie

        raw = HexaryTrie(self._chaindb.db, header.state_root).get(keccak(contract))
        return bytes(rlp.decode(raw)[2]) if raw else BLANK_ROOT

    def _view(self, header: BlockHeaderAPI, contract: bytes, data: bytes, what: str) -> bytes:
        """Output of a view call to ``contract`` at ``header``'s state; ValueError if it
        has no code or the call fails."""
        vm = self._chain.get_vm(header)
        state = vm.state
        if not state.get_code(Address(contract)):
            raise ValueError(f"no contract at {_d(contract)}")
        unsigned = vm.create_unsigned_transaction(
            nonce=state.get_nonce(Address(ZERO_ADDRESS)),
            gas_price=0,
            gas=1_000_000,
            to=Address(contract),
            value=0,
            data=data,
        )
        spoof = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=Address(ZERO_ADDRESS)))
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(spoof)
        finally:
            state.revert(snapshot)
        if computation.is_error:
            raise ValueError(f"{_d(contract)} does not answer {what}")
        return bytes(computation.output)

    def _check_permitted(self, tx: SignedTransactionAPI, sender: Address) -> None:
        """Refuse (nothing mined) a sender DESIGN §6.8 does not let in; see :meth:`open`."""
        deployer, membership = self._deployer, self._membership
        if deployer is None:
            return
        who = _d(sender)
        if membership is None:
            if sender != deployer:
                raise RPCError(
                    NOT_PERMITTED,
                    f"permissioning: {who} may not send transactions; while the suite is "
                    f"deployed only the deployer {_d(deployer)} may",
                    _d(NOT_A_MEMBER_SELECTOR + bytes(12) + sender),
                )
            return
        head = self._head
        if self._allowed(head, sender, 0 if tx.to else OPERATOR_ROLE, membership):
            return  # the common case
        roles, status = self._member_of(head, sender, membership)
        if status == 0:
            raise RPCError(
                NOT_PERMITTED,
                f"permissioning: {who} is not a member of the consortium; only an active "
                "member may send transactions",
                _d(NOT_A_MEMBER_SELECTOR + bytes(12) + sender),
            )
        if status != STATUS_ACTIVE:
            raise RPCError(
                NOT_PERMITTED,
                f"permissioning: {who} is {_STATUS_NAMES.get(status, str(status))}; only an "
                "active member may send transactions",
                _d(MEMBER_NOT_ACTIVE_SELECTOR + bytes(12) + sender + status.to_bytes(32, "big")),
            )
        if not tx.to and not roles & OPERATOR_ROLE:
            from ledger.roles import role_names

            raise RPCError(
                NOT_PERMITTED,
                f"permissioning: {who} may not create contracts (it holds "
                f"{', '.join(role_names(roles)) or 'no role'}); only an OPERATOR may",
                _d(
                    MISSING_ROLE_SELECTOR
                    + bytes(12)
                    + sender
                    + OPERATOR_ROLE.to_bytes(32, "big")
                    + roles.to_bytes(32, "big")
                ),
            )

    # ---------------------------------------------------------------- subscriptions

    def add_block_listener(self, listener: Callable[[BlockHeaderAPI], None]) -> None:
        """Call ``listener(header)`` after each block is mined and committed (under the
        chain's lock: it should only hand the header on, e.g. to a queue)."""
        with self._lock:
            self._on_block.append(listener)

    def remove_block_listener(self, listener: Callable[[BlockHeaderAPI], None]) -> None:
        with self._lock, suppress(ValueError):
            self._on_block.remove(listener)

    def head_json(self, header: BlockHeaderAPI) -> dict[str, Any]:
        """A block header as ``eth_subscribe("newHeads")`` sends it (no transactions)."""
        with self._lock:
            self._check_open()
            out = self._block_json(header, False)
        for key in ("transactions", "uncles", "size"):
            out.pop(key, None)
        return out

    # ---------------------------------------------------------------- dev controls

    def advance_time(self, seconds: int) -> int:
        """Move the chain clock forward; persists at once. Returns the total offset.

        The jump shows in the next mined block (mine one with :meth:`mine` to see it
        in ``latest`` at once).
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise ValueError(f"seconds must be a non-negative integer, got {seconds!r}")
        with self._lock:
            self._check_open()
            offset = self._time_offset + seconds
            self._kv.commit({"time_offset": offset})
            self._time_offset = offset
            return offset

    def mine(self, blocks: int = 1) -> int:
        """Mine ``blocks`` empty blocks; returns the new head number."""
        with self._lock:
            self._check_open()
            for _ in range(blocks):
                self._mine(())
            return int(self._head.block_number)

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate, mine (in its own block) and commit one signed transaction."""
        with self._lock:
            self._check_open()
            return self._send_raw(raw)

    # ---------------------------------------------------------------- JSON-RPC

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """Answer one JSON-RPC call like an Ethereum node; raises :class:`RPCError`."""
        handler = self._handlers.get(method)
        if handler is None:
            raise RPCError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = []
        elif not isinstance(params, list):
            _bad("params must be an array")
        with self._lock:
            self._check_open()
            try:
                return handler(params)
            except RPCError:
                raise
            except (HeaderNotFound, TransactionNotFound) as exc:
                raise RPCError(SERVER_ERROR, str(exc)) from exc
            except ValidationError as exc:
                raise RPCError(SERVER_ERROR, str(exc)) from exc
            except Exception as exc:
                # A node answers even when it has a bug; keep the cause for debugging.
                _log.exception("internal error in %s", method)
                raise RPCError(INTERNAL_ERROR, f"internal error: {exc!r}") from exc

    def _make_handlers(self) -> dict[str, _RPCHandler]:
        return {
            "web3_clientVersion": lambda p: CLIENT_VERSION,
            "web3_sha3": lambda p: _d(keccak(_data(_param(p, 0, "data"), "data"))),
            "net_version": lambda p: str(self._chain_id),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: _q(self._chain_id),
            "eth_blockNumber": lambda p: _q(self._head.block_number),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: False,
            "eth_accounts": lambda p: [],
            "eth_coinbase": lambda p: _d(ZERO_ADDRESS),
            "eth_gasPrice": lambda p: "0x0",
            "eth_maxPriorityFeePerGas": lambda p: "0x0",
            "eth_blobBaseFee": lambda p: "0x1",
            "eth_feeHistory": self._rpc_fee_history,
            "eth_getBlockByNumber": self._rpc_get_block_by_number,
            "eth_getBlockByHash": self._rpc_get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._rpc_tx_count_by_number,
            "eth_getBlockTransactionCountByHash": self._rpc_tx_count_by_hash,
            "eth_getBalance": self._rpc_get_balance,
            "eth_getTransactionCount": self._rpc_get_transaction_count,
            "eth_getCode": self._rpc_get_code,
            "eth_getStorageAt": self._rpc_get_storage_at,
            "eth_call": self._rpc_call,
            "eth_estimateGas": self._rpc_estimate_gas,
            "eth_createAccessList": self._rpc_create_access_list,
            "eth_getProof": self._rpc_get_proof,
            "eth_sendRawTransaction": self._rpc_send_raw_transaction,
            "eth_getTransactionByHash": self._rpc_get_transaction_by_hash,
            "eth_getTransactionReceipt": self._rpc_get_transaction_receipt,
            "eth_getLogs": self._rpc_get_logs,
            "eth_getTransactionByBlockNumberAndIndex": self._rpc_tx_by_number_and_index,
            "eth_getTransactionByBlockHashAndIndex": self._rpc_tx_by_hash_and_index,
            "eth_getBlockReceipts": self._rpc_get_block_receipts,
            "eth_newFilter": self._rpc_new_filter,
            "eth_newBlockFilter": self._rpc_new_block_filter,
            "eth_newPendingTransactionFilter": self._rpc_new_pending_filter,
            "eth_getFilterChanges": self._rpc_get_filter_changes,
            "eth_getFilterLogs": self._rpc_get_filter_logs,
            "eth_uninstallFilter": self._rpc_uninstall_filter,
            "evm_increaseTime": self._rpc_increase_time,
            "evm_mine": self._rpc_evm_mine,
        }

    # ---- blocks

    def _resolve_number(self, tag: Any, name: str = "block") -> int | None:
        """Block number for a tag or number; ``None`` if beyond the head."""
        head = int(self._head.block_number)
        if tag is None or tag in ("latest", "pending", "safe", "finalized"):
            # One node, instant finality, auto-mine: there is no pending block.
            return head
        if tag == "earliest":
            return 0
        number = _quantity(tag, name)
        return number if number <= head else None

    def _state_header(self, block_id: Any) -> BlockHeaderAPI:
        """Header whose post-state answers a state query (EIP-1898 objects allowed)."""
        if isinstance(block_id, dict):
            if "blockHash" in block_id:
                header = self._canonical_header_by_hash(_hash(block_id["blockHash"], "blockHash"))
                if header is None:
                    raise RPCError(SERVER_ERROR, "header for hash not found")
                return header
            block_id = block_id.get("blockNumber", "latest")
        number = self._resolve_number(block_id)
        if number is None:
            raise RPCError(SERVER_ERROR, "header not found")
        return self._header_by_number(number)

    def _header_by_number(self, number: int) -> BlockHeaderAPI:
        if number == self._head.block_number:
            return self._head
        return self._chaindb.get_canonical_block_header_by_number(BlockNumber(number))

    def _canonical_header_by_hash(self, block_hash: Hash32) -> BlockHeaderAPI | None:
        try:
            header = self._chaindb.get_block_header_by_hash(block_hash)
            canonical = self._chaindb.get_canonical_block_hash(header.block_number)
        except HeaderNotFound:
            return None
        return header if canonical == header.hash else None

    def _block(self, header: BlockHeaderAPI) -> BlockAPI:
        return ZeroFeePragueVM.get_block_class().from_header(header=header, chaindb=self._chaindb)

    def _block_json(self, header: BlockHeaderAPI, full: bool) -> dict[str, Any]:
        block = self._block(header)
        txs: list[Any]
        if full:
            txs = [self._tx_json(tx, header, i) for i, tx in enumerate(block.transactions)]
        else:
            txs = [_d(tx.hash) for tx in block.transactions]
        return {
            "baseFeePerGas": _q(header.base_fee_per_gas or 0),
            "blobGasUsed": _q(header.blob_gas_used),
            "difficulty": _q(header.difficulty),
            "excessBlobGas": _q(header.excess_blob_gas),
            "extraData": _d(header.extra_data),
            "gasLimit": _q(header.gas_limit),
            "gasUsed": _q(header.gas_used),
            "hash": _d(header.hash),
            "logsBloom": _d(header.bloom.to_bytes(256, "big")),
            "miner": _d(header.coinbase),
            "mixHash": _d(header.mix_hash),
            "nonce": _d(header.nonce),
            "number": _q(header.block_number),
            "parentBeaconBlockRoot": _d(header.parent_beacon_block_root or ZERO_HASH),
            "parentHash": _d(header.parent_hash),
            "receiptsRoot": _d(header.receipt_root),
            "requestsHash": _d(getattr(header, "requests_hash", ZERO_HASH)),
            "sha3Uncles": _d(header.uncles_hash),
            "size": _q(len(rlp.encode(block))),
            "stateRoot": _d(header.state_root),
            "timestamp": _q(header.timestamp),
            "transactions": txs,
            "transactionsRoot": _d(header.transaction_root),
            "uncles": [],
            "withdrawals": [],
            "withdrawalsRoot": _d(header.withdrawals_root or ZERO_HASH),
        }

    def _rpc_get_block_by_number(self, p: list[Any]) -> dict[str, Any] | None:
        number = self._resolve_number(_param(p, 0, "block"))
        full = _bool(_param(p, 1, "fullTx", required=False) or False, "fullTx")
        if number is None:
            return None
        return self._block_json(self._header_by_number(number), full)

    def _rpc_get_block_by_hash(self, p: list[Any]) -> dict[str, Any] | None:
        header = self._canonical_header_by_hash(_hash(_param(p, 0, "hash"), "hash"))
        full = _bool(_param(p, 1, "fullTx", required=False) or False, "fullTx")
        return None if header is None else self._block_json(header, full)

    def _rpc_tx_count_by_number(self, p: list[Any]) -> str | None:
        number = self._resolve_number(_param(p, 0, "block"))
        if number is None:
            return None
        return _q(len(self._block(self._header_by_number(number)).transactions))

    def _rpc_tx_count_by_hash(self, p: list[Any]) -> str | None:
        header = self._canonical_header_by_hash(_hash(_param(p, 0, "hash"), "hash"))
        return None if header is None else _q(len(self._block(header).transactions))

    def _rpc_fee_history(self, p: list[Any]) -> dict[str, Any]:
        count = _quantity(_param(p, 0, "blockCount"), "blockCount")
        newest = self._resolve_number(_param(p, 1, "newestBlock"))
        percentiles = _param(p, 2, "rewardPercentiles", required=False) or []
        if not isinstance(percentiles, list):
            _bad("invalid argument rewardPercentiles: expected an array")
        if newest is None:
            raise RPCError(SERVER_ERROR, "header not found")
        count = max(0, min(count, 1024, newest + 1))
        oldest = newest - count + 1
        headers = [self._header_by_number(n) for n in range(oldest, newest + 1)]
        result: dict[str, Any] = {
            "oldestBlock": _q(oldest if count else newest),
            "baseFeePerGas": ["0x0"] * (count + 1),
            "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers],
            "baseFeePerBlobGas": ["0x1"] * (count + 1),
            "blobGasUsedRatio": [0.0] * count,
        }
        if percentiles:
            result["reward"] = [["0x0"] * len(percentiles) for _ in headers]
        return result

    # ---- accounts

    def _state(self, block_id: Any) -> StateAPI:
        header = self._state_header(block_id)
        return self._chain.get_vm(header).state

    def _rpc_get_balance(self, p: list[Any]) -> str:
        address = _address(_param(p, 0, "address"), "address")
        return _q(self._state(_param(p, 1, "block", required=False)).get_balance(address))

    def _rpc_get_transaction_count(self, p: list[Any]) -> str:
        address = _address(_param(p, 0, "address"), "address")
        return _q(self._state(_param(p, 1, "block", required=False)).get_nonce(address))

    def _rpc_get_code(self, p: list[Any]) -> str:
        address = _address(_param(p, 0, "address"), "address")
        return _d(self._state(_param(p, 1, "block", required=False)).get_code(address))

    def _rpc_get_storage_at(self, p: list[Any]) -> str:
        address = _address(_param(p, 0, "address"), "address")
        raw_slot = _param(p, 1, "slot")
        slot = _quantity(raw_slot, "slot")
        state = self._state(_param(p, 2, "block", required=False))
        return _h32(state.get_storage(address, slot))

    # ---- execution without mining

    def _call_request(self, p: list[Any]) -> _CallRequest:
        call = _param(p, 0, "transaction")
        if not isinstance(call, dict):
            _bad("invalid argument 0: expected a transaction object")
        header = self._state_header(_param(p, 1, "block", required=False))
        vm = cast(ZeroFeePragueVM, self._chain.get_vm(header))
        sender = _address(call["from"], "from") if call.get("from") else Address(ZERO_ADDRESS)
        to = _address(call["to"], "to") if call.get("to") else Address(b"")
        raw_input = call.get("input", call.get("data"))
        data = _data(raw_input, "input") if raw_input is not None else b""
        gas = _quantity(call["gas"], "gas") if call.get("gas") is not None else None
        value = _quantity(call["value"], "value") if call.get("value") is not None else 0
        if call.get("gasPrice") is not None:
            gas_price = _quantity(call["gasPrice"], "gasPrice")
        elif call.get("maxFeePerGas") is not None:
            # Base fee is 0, so the effective price is the tip, capped by the max fee.
            max_fee = _quantity(call["maxFeePerGas"], "maxFeePerGas")
            tip = _quantity(call.get("maxPriorityFeePerGas") or "0x0", "maxPriorityFeePerGas")
            gas_price = min(max_fee, tip)
        else:
            gas_price = 0
        access_list = _access_list(call.get("accessList"))
        return _CallRequest(header, vm, sender, to, data, gas, value, gas_price, access_list)

    def _spoof(
        self,
        req: _CallRequest,
        gas: int,
        access_list: Sequence[tuple[bytes, Sequence[int]]] | None = None,
    ) -> SignedTransactionAPI:
        vm, state = req.vm, req.vm.state
        nonce = state.get_nonce(req.sender)
        entries = req.access_list if access_list is None else access_list
        unsigned: Any
        if entries:
            builder = cast(Any, vm.get_transaction_builder())
            unsigned = builder.new_unsigned_access_list_transaction(
                self._chain_id,
                nonce,
                req.gas_price,
                gas,
                req.to,
                req.value,
                req.data,
                [(Address(a), tuple(slots)) for a, slots in entries],
            )
        else:
            unsigned = vm.create_unsigned_transaction(
                nonce=nonce,
                gas_price=req.gas_price,
                gas=gas,
                to=req.to,
                value=req.value,
                data=req.data,
            )
        tx = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=req.sender))
        intrinsic = int(unsigned.intrinsic_gas)
        if gas < intrinsic:
            raise RPCError(
                SERVER_ERROR,
                f"intrinsic gas too low: gas {gas}, minimum needed {intrinsic} (the call's gas "
                "does not even cover the transaction's base cost)",
            )
        return tx

    def _execute(
        self, req: _CallRequest, tx: SignedTransactionAPI, on_state: Callable[[StateAPI], None]
    ) -> ComputationAPI:
        """Run ``tx`` on ``req``'s state and throw the changes away."""
        state = req.vm.state
        snapshot = state.snapshot()
        try:
            on_state(state)
            return state.apply_transaction(tx)
        finally:
            state.revert(snapshot)

    def _run(self, req: _CallRequest, gas: int) -> ComputationAPI:
        return self._execute(req, self._spoof(req, gas), lambda state: None)

    def _rpc_call(self, p: list[Any]) -> str:
        req = self._call_request(p)
        computation = self._run(req, req.gas if req.gas is not None else req.header.gas_limit)
        if computation.is_error:
            _raise_execution_error(computation, req.gas)
        return _d(computation.output)

    def _rpc_estimate_gas(self, p: list[Any]) -> str:
        """The least gas limit with which the call succeeds, found by bisection (as geth).

        One run at the cap gives the gas used before refunds: no smaller limit can succeed.
        Then ``(used + refund) * 64 / 63`` (the 1/64 each inner call keeps back) usually
        succeeds already, and bisection between the two finds the exact least limit.
        """
        req = self._call_request(p)
        cap = req.gas if req.gas is not None else req.header.gas_limit
        first = self._run(req, cap)
        if first.is_error:
            if isinstance(first.error, OutOfGas) and req.gas is not None:
                raise RPCError(SERVER_ERROR, f"gas required exceeds allowance ({cap})")
            _raise_execution_error(first, req.gas)
        used = cap - first.get_gas_remaining()
        if used < cap and self._succeeds(req, used):
            return _q(used)  # no refund and no inner call held back gas: done in two runs
        low = used - 1  # fails: the run used this much before any refund
        optimistic = min(cap, (used + first.get_gas_refund() + 2_300) * 64 // 63)
        high = optimistic if self._succeeds(req, optimistic) else cap
        while high - low > 1:
            middle = (low + high) // 2
            if self._succeeds(req, middle):
                high = middle
            else:
                low = middle
        return _q(high)

    def _succeeds(self, req: _CallRequest, gas: int) -> bool:
        try:
            return not self._run(req, gas).is_error
        except RPCError:
            return False  # below the intrinsic gas

    def _rpc_create_access_list(self, p: list[Any]) -> dict[str, Any]:
        """Addresses and slots the call touches (less sender, recipient, precompiles and
        coinbase, which are warm anyway), and the gas it uses with that list."""
        req = self._call_request(p)
        gas = req.gas if req.gas is not None else req.header.gas_limit
        touched: dict[bytes, list[int]] = {}

        def trace(state: StateAPI) -> None:
            account_db = cast(Any, state)._account_db
            mark_address, mark_slot = account_db.mark_address_warm, account_db.mark_storage_warm

            def address_warm(address: Address) -> None:
                touched.setdefault(bytes(address), [])
                mark_address(address)

            def slot_warm(address: Address, slot: int) -> None:
                slots = touched.setdefault(bytes(address), [])
                if slot not in slots:
                    slots.append(slot)
                mark_slot(address, slot)

            account_db.mark_address_warm = address_warm
            account_db.mark_storage_warm = slot_warm

        computation = self._execute(req, self._spoof(req, gas), trace)
        precompiles = {i.to_bytes(20, "big") for i in range(1, 0x12)}
        skip = {bytes(req.sender), bytes(req.to), ZERO_ADDRESS, *precompiles}
        entries = [
            (address, slots) for address, slots in touched.items() if slots or address not in skip
        ]
        with_list = self._execute(req, self._spoof(req, gas, entries), lambda state: None)
        result: dict[str, Any] = {
            "accessList": [
                {"address": _d(address), "storageKeys": [_h32(slot) for slot in slots]}
                for address, slots in entries
            ],
            "gasUsed": _q(_tx_gas_used(gas, with_list)),
        }
        if computation.is_error:
            result["error"] = _execution_error(computation, req.gas).message
        return result

    def _rpc_get_proof(self, p: list[Any]) -> dict[str, Any]:
        """EIP-1186: the account and storage Merkle proofs against a block's state root."""
        from trie import HexaryTrie

        address = _address(_param(p, 0, "address"), "address")
        keys = _param(p, 1, "storageKeys")
        if not isinstance(keys, list):
            _bad("invalid argument 1: expected an array of storage keys")
        slots = [(key, _quantity(key, "storageKey")) for key in keys]
        header = self._state_header(_param(p, 2, "block", required=False))
        db = self._chaindb.db
        accounts = HexaryTrie(db, header.state_root)
        account_key = keccak(address)
        account_proof = _proof_nodes(accounts.get_proof(account_key))
        raw_account = accounts.get(account_key)
        if raw_account:
            nonce, balance, storage_root, code_hash = rlp.decode(raw_account)
        else:
            nonce, balance, storage_root, code_hash = b"", b"", BLANK_ROOT, keccak(b"")
        storage = HexaryTrie(db, storage_root)
        storage_proof = []
        for given, slot in slots:
            slot_key = keccak(slot.to_bytes(32, "big"))
            raw_value = storage.get(slot_key)
            storage_proof.append(
                {
                    "key": given,
                    "value": _q(int.from_bytes(rlp.decode(raw_value), "big") if raw_value else 0),
                    "proof": _proof_nodes(storage.get_proof(slot_key)),
                }
            )
        return {
            "address": _d(address),
            "accountProof": account_proof,
            "balance": _q(int.from_bytes(balance, "big")),
            "codeHash": _d(code_hash),
            "nonce": _q(int.from_bytes(nonce, "big")),
            "storageHash": _d(storage_root),
            "storageProof": storage_proof,
        }

    # ---- transactions

    def _rpc_send_raw_transaction(self, p: list[Any]) -> str:
        raw = _data(_param(p, 0, "data"), "data")
        return _d(self._send_raw(raw))

    def _send_raw(self, raw: bytes) -> bytes:
        if not raw:
            raise RPCError(SERVER_ERROR, "typed transaction too short")
        if raw[0] == BLOB_TX_TYPE:
            raise RPCError(SERVER_ERROR, "transaction type not supported")
        try:
            tx = self._tx_builder.decode(raw)
        except Exception as exc:
            raise RPCError(SERVER_ERROR, f"rlp: invalid transaction: {exc}") from exc
        self._check_chain_id(tx)
        try:
            tx.check_signature_validity()
            sender = tx.sender
        except Exception as exc:
            raise RPCError(SERVER_ERROR, "invalid sender") from exc
        try:
            self._chaindb.get_transaction_index(tx.hash)
        except TransactionNotFound:
            pass
        else:
            raise RPCError(SERVER_ERROR, "already known")
        if tx.gas < tx.intrinsic_gas:
            raise RPCError(
                SERVER_ERROR,
                f"intrinsic gas too low: gas {tx.gas}, minimum needed {tx.intrinsic_gas}",
            )
        if tx.gas > self._head.gas_limit:
            raise RPCError(SERVER_ERROR, "exceeds block gas limit")
        self._check_permitted(tx, sender)
        self._mine((tx,), sender=sender)
        return bytes(tx.hash)

    def _check_chain_id(self, tx: SignedTransactionAPI) -> None:
        if isinstance(tx, TypedTransaction):
            tx_chain_id: int | None = tx.chain_id
        else:
            v = _legacy_v(tx)
            tx_chain_id = (v - 35) // 2 if v >= 35 else None
        if tx_chain_id is None:
            raise RPCError(
                SERVER_ERROR, "only replay-protected (EIP-155) transactions allowed over RPC"
            )
        if tx_chain_id != self._chain_id:
            raise RPCError(
                SERVER_ERROR,
                f"invalid chain id for signer: have {tx_chain_id} want {self._chain_id}",
            )

    def _rpc_get_transaction_by_hash(self, p: list[Any]) -> dict[str, Any] | None:
        found = self._find_transaction(_hash(_param(p, 0, "hash"), "hash"))
        if found is None:
            return None
        header, index, tx = found
        return self._tx_json(tx, header, index)

    def _rpc_get_transaction_receipt(self, p: list[Any]) -> dict[str, Any] | None:
        found = self._find_transaction(_hash(_param(p, 0, "hash"), "hash"))
        if found is None:
            return None
        header, index, tx = found
        receipts = self._chaindb.get_receipts(header, self._receipt_builder)
        return self._receipt_json(header, index, tx, receipts)

    def _find_transaction(
        self, tx_hash: Hash32
    ) -> tuple[BlockHeaderAPI, int, SignedTransactionAPI] | None:
        # O(1) in chain length: py-evm's hash -> (block number, index) index, then the
        # block's own transaction trie. (eth-tester scans back from the head instead.)
        try:
            number, index = self._chaindb.get_transaction_index(tx_hash)
            header = self._header_by_number(number)
            tx = self._chaindb.get_transaction_by_index(number, index, self._tx_builder)
        except (TransactionNotFound, HeaderNotFound):
            return None
        return header, index, tx

    def _tx_json(
        self, tx: SignedTransactionAPI, header: BlockHeaderAPI, index: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "blockHash": _d(header.hash),
            "blockNumber": _q(header.block_number),
            "from": _d(tx.sender),
            "gas": _q(tx.gas),
            "gasPrice": _q(_effective_gas_price(tx, header)),
            "hash": _d(tx.hash),
            "input": _d(tx.data),
            "nonce": _q(tx.nonce),
            "to": _addr_or_none(tx.to),
            "transactionIndex": _q(index),
            "value": _q(tx.value),
            "type": _q(_tx_type(tx)),
        }
        if isinstance(tx, TypedTransaction):
            out["chainId"] = _q(tx.chain_id)
            out["accessList"] = [
                {"address": _d(address), "storageKeys": [_h32(slot) for slot in slots]}
                for address, slots in tx.access_list
            ]
            if _tx_type(tx) >= 2:
                out["maxFeePerGas"] = _q(tx.max_fee_per_gas)
                out["maxPriorityFeePerGas"] = _q(tx.max_priority_fee_per_gas)
            if _tx_type(tx) == SET_CODE_TX_TYPE:
                auths = tx.authorization_list
                out["authorizationList"] = [
                    {
                        "chainId": _q(a.chain_id),
                        "address": _d(a.address),
                        "nonce": _q(a.nonce),
                        "yParity": _q(a.y_parity),
                        "r": _q(a.r),
                        "s": _q(a.s),
                    }
                    for a in auths
                ]
            out["v"] = _q(tx.y_parity)
            out["yParity"] = _q(tx.y_parity)
        else:
            v = _legacy_v(tx)
            if v >= 35:
                out["chainId"] = _q((v - 35) // 2)
            out["v"] = _q(v)
        out["r"] = _q(tx.r)
        out["s"] = _q(tx.s)
        return out

    def _receipt_json(
        self,
        header: BlockHeaderAPI,
        index: int,
        tx: SignedTransactionAPI,
        receipts: Sequence[ReceiptAPI],
    ) -> dict[str, Any]:
        receipt = receipts[index]
        previous_gas = receipts[index - 1].gas_used if index else 0
        first_log_index = sum(len(r.logs) for r in receipts[:index])
        sender = tx.sender
        contract = _contract_address(sender, tx.nonce) if not tx.to else None
        block_hash = _d(header.hash)
        tx_hash = _d(tx.hash)
        number = _q(header.block_number)
        return {
            "blockHash": block_hash,
            "blockNumber": number,
            "contractAddress": _d(contract) if contract else None,
            "cumulativeGasUsed": _q(receipt.gas_used),
            "effectiveGasPrice": _q(_effective_gas_price(tx, header)),
            "from": _d(sender),
            "gasUsed": _q(receipt.gas_used - previous_gas),
            "logs": [
                _log_json(log, first_log_index + i, block_hash, number, tx_hash, index)
                for i, log in enumerate(receipt.logs)
            ],
            "logsBloom": _d(receipt.bloom.to_bytes(256, "big")),
            "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
            "to": _addr_or_none(tx.to),
            "transactionHash": tx_hash,
            "transactionIndex": _q(index),
            "type": _q(_tx_type(tx)),
        }

    def _block_for(self, block_id: Any) -> BlockHeaderAPI | None:
        if isinstance(block_id, str) and len(block_id) == 66:
            return self._canonical_header_by_hash(_hash(block_id, "block"))
        number = self._resolve_number(block_id)
        return None if number is None else self._header_by_number(number)

    def _tx_at(self, header: BlockHeaderAPI | None, raw_index: Any) -> dict[str, Any] | None:
        index = _quantity(raw_index, "index")
        if header is None:
            return None
        txs = self._block(header).transactions
        return self._tx_json(txs[index], header, index) if index < len(txs) else None

    def _rpc_tx_by_number_and_index(self, p: list[Any]) -> dict[str, Any] | None:
        number = self._resolve_number(_param(p, 0, "block"))
        header = None if number is None else self._header_by_number(number)
        return self._tx_at(header, _param(p, 1, "index"))

    def _rpc_tx_by_hash_and_index(self, p: list[Any]) -> dict[str, Any] | None:
        header = self._canonical_header_by_hash(_hash(_param(p, 0, "hash"), "hash"))
        return self._tx_at(header, _param(p, 1, "index"))

    def _rpc_get_block_receipts(self, p: list[Any]) -> list[dict[str, Any]] | None:
        block_id = _param(p, 0, "block")
        if isinstance(block_id, dict):
            block_id = block_id.get("blockHash", block_id.get("blockNumber"))
        header = self._block_for(block_id)
        if header is None:
            return None
        txs = self._block(header).transactions
        receipts = self._chaindb.get_receipts(header, self._receipt_builder)
        return [self._receipt_json(header, i, tx, receipts) for i, tx in enumerate(txs)]

    # ---- filters (polled; geth's semantics: changes since the last poll)

    def _install(self, kind: str, query: dict[str, Any] | None = None) -> str:
        self._expire_filters()
        if len(self._filters) >= MAX_FILTERS:
            raise RPCError(SERVER_ERROR, f"too many filters installed ({MAX_FILTERS})")
        filter_id = _q(int.from_bytes(os.urandom(16), "big"))
        self._filters[filter_id] = _Filter(
            kind, query or {}, int(self._head.block_number), time.monotonic()
        )
        return filter_id

    def _expire_filters(self) -> None:
        # Like geth: a filter nobody polled for five minutes is dropped.
        deadline = time.monotonic() - FILTER_TIMEOUT
        for filter_id in [k for k, f in self._filters.items() if f.polled < deadline]:
            del self._filters[filter_id]

    def _rpc_new_filter(self, p: list[Any]) -> str:
        query = _param(p, 0, "filter")
        if not isinstance(query, dict):
            _bad("invalid argument 0: expected a filter object")
        if query.get("blockHash") is not None:
            _bad("invalid argument 0: a filter cannot name a blockHash; use eth_getLogs")
        _filter_addresses(query.get("address"))  # refuse a bad filter now, not at the poll
        _filter_topics(query.get("topics"))
        return self._install("logs", query)

    def _rpc_new_block_filter(self, p: list[Any]) -> str:
        return self._install("blocks")

    def _rpc_new_pending_filter(self, p: list[Any]) -> str:
        return self._install("pending")  # auto-mining: nothing is ever pending

    def _filter(self, p: list[Any]) -> tuple[str, _Filter]:
        filter_id = _param(p, 0, "id")
        found = self._filters.get(filter_id) if isinstance(filter_id, str) else None
        if found is None:
            raise RPCError(SERVER_ERROR, "filter not found")
        found.polled = time.monotonic()
        return filter_id, found

    def _rpc_get_filter_changes(self, p: list[Any]) -> list[Any]:
        _, found = self._filter(p)
        head = int(self._head.block_number)
        start, found.last = found.last + 1, head
        if found.kind == "blocks":
            return [_d(self._header_by_number(n).hash) for n in range(start, head + 1)]
        if found.kind == "pending":
            return []
        query = found.query
        low, high = start, head
        if query.get("fromBlock") not in (None, "latest", "pending", "safe", "finalized"):
            low = max(low, _quantity_or_earliest(query["fromBlock"], "fromBlock"))
        if query.get("toBlock") not in (None, "latest", "pending", "safe", "finalized"):
            high = min(high, _quantity_or_earliest(query["toBlock"], "toBlock"))
        if low > high:
            return []
        return self._rpc_get_logs([dict(query, fromBlock=_q(low), toBlock=_q(high))])

    def _rpc_get_filter_logs(self, p: list[Any]) -> list[dict[str, Any]]:
        _, found = self._filter(p)
        if found.kind != "logs":
            raise RPCError(SERVER_ERROR, "filter not found")
        return self._rpc_get_logs([found.query])

    def _rpc_uninstall_filter(self, p: list[Any]) -> bool:
        filter_id = _param(p, 0, "id")
        if not isinstance(filter_id, str):
            return False
        return self._filters.pop(filter_id, None) is not None

    # ---- logs

    def _rpc_get_logs(self, p: list[Any]) -> list[dict[str, Any]]:
        query = _param(p, 0, "filter")
        if not isinstance(query, dict):
            _bad("invalid argument 0: expected a filter object")
        addresses = _filter_addresses(query.get("address"))
        topics = _filter_topics(query.get("topics"))
        if query.get("blockHash") is not None:
            if query.get("fromBlock") is not None or query.get("toBlock") is not None:
                _bad("invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock")
            header = self._canonical_header_by_hash(_hash(query["blockHash"], "blockHash"))
            if header is None:
                raise RPCError(SERVER_ERROR, "unknown block")
            return self._block_logs(header, addresses, topics)
        head = int(self._head.block_number)
        start = self._resolve_number(query.get("fromBlock"), "fromBlock")
        end = self._resolve_number(query.get("toBlock"), "toBlock")
        if start is None:
            return []
        end = head if end is None else end
        if start > end:
            raise RPCError(SERVER_ERROR, "invalid block range params")
        logs: list[dict[str, Any]] = []
        for header in self._iter_headers(start, end):
            if _bloom_may_match(header.bloom, addresses, topics):
                logs.extend(self._block_logs(header, addresses, topics))
        return logs

    def _iter_headers(self, start: int, end: int) -> Iterator[BlockHeaderAPI]:
        """Canonical headers ``start..end`` inclusive (``end`` clamped to the head)."""
        for number in range(max(start, 0), min(end, int(self._head.block_number)) + 1):
            yield self._header_by_number(number)

    def _block_logs(
        self,
        header: BlockHeaderAPI,
        addresses: frozenset[bytes] | None,
        topics: list[frozenset[int] | None],
    ) -> list[dict[str, Any]]:
        receipts = self._chaindb.get_receipts(header, self._receipt_builder)
        if not any(r.logs for r in receipts):
            return []
        tx_hashes = self._chaindb.get_block_transaction_hashes(header)
        block_hash = _d(header.hash)
        number = _q(header.block_number)
        out: list[dict[str, Any]] = []
        log_index = 0
        for tx_index, receipt in enumerate(receipts):
            for log in receipt.logs:
                if _log_matches(log.address, log.topics, addresses, topics):
                    out.append(
                        _log_json(
                            log, log_index, block_hash, number, _d(tx_hashes[tx_index]), tx_index
                        )
                    )
                log_index += 1
        return out

    # ---- dev methods

    def _rpc_increase_time(self, p: list[Any]) -> int:
        seconds = _quantity(_param(p, 0, "seconds"), "seconds")
        return self.advance_time(seconds)  # a JSON number, as anvil and ganache answer

    def _rpc_evm_mine(self, p: list[Any]) -> str:
        timestamp = _param(p, 0, "timestamp", required=False)
        if isinstance(timestamp, dict):
            timestamp = timestamp.get("timestamp")
        if timestamp is not None:
            # Mine at (at least) this time: move the clock so later blocks follow it.
            wanted = _quantity(timestamp, "timestamp")
            ahead = wanted - int(time.time()) - self._time_offset
            if ahead > 0:
                self.advance_time(ahead)
        self._mine(())
        return "0x0"

    # ---------------------------------------------------------------- mining

    def _next_timestamp(self, parent: BlockHeaderAPI) -> int:
        return max(int(parent.timestamp) + 1, int(time.time()) + self._time_offset)

    def _mine(
        self, txs: Sequence[SignedTransactionAPI], *, sender: Address | None = None
    ) -> BlockAPI:
        """Build, execute and persist one block, then commit it; all or nothing."""
        parent = self._head
        header = ZeroFeePragueVM.create_header_from_parent(
            parent,
            timestamp=self._next_timestamp(parent),
            coinbase=ZERO_ADDRESS,
            # prevrandao: deterministic but unpredictable before the parent exists.
            mix_hash=keccak(parent.hash),
        )
        try:
            vm = self._chain.get_vm(header)
            if sender is not None:
                self._check_sender(vm.state, txs[0], sender)
            # Skipped on purpose: Prague's block pre/post-processing only acts on system
            # contracts (EIP-4788/2935 roots, EIP-6110/7002/7251 requests) that this
            # chain never deploys, so they are no-ops (requests_hash stays the empty
            # hash) that cost ~10% of a block.
            new_header, receipts, _ = vm.apply_all_transactions(txs, header)
            block = vm.set_block_transactions_and_withdrawals(
                vm.get_block(), new_header, txs, receipts
            )
            block = vm.finalize_block(block).block
            self._chaindb.persist_block(block)
            self._kv.commit()
            self._head = block.header
        except BaseException as exc:
            # Drop the buffered writes. Usually nothing reached SQLite, but an interrupt
            # (Ctrl-C) can land after the COMMIT and before the head moved: the head is
            # whatever SQLite holds, so reads agree with what a reopened chain will show.
            self._kv.rollback()
            self._head = self._chaindb.get_canonical_head()
            if isinstance(exc, ValidationError):
                raise RPCError(SERVER_ERROR, str(exc)) from exc
            raise
        for listener in list(self._on_block):
            try:
                listener(block.header)
            except Exception:  # a subscriber's fault must not fail a mined block
                _log.exception("block listener failed")
        return block

    @staticmethod
    def _check_sender(state: StateAPI, tx: SignedTransactionAPI, sender: Address) -> None:
        # Node-style rejections (not mined): nonce and funds, with geth's wording.
        nonce = state.get_nonce(sender)
        if tx.nonce < nonce:
            raise RPCError(
                SERVER_ERROR, f"nonce too low: address {_d(sender)}, tx: {tx.nonce} state: {nonce}"
            )
        if tx.nonce > nonce:
            # No mempool to queue it in: an auto-mining node must refuse it.
            raise RPCError(
                SERVER_ERROR, f"nonce too high: address {_d(sender)}, tx: {tx.nonce} state: {nonce}"
            )
        balance = state.get_balance(sender)
        cost = tx.gas * tx.max_fee_per_gas + tx.value
        if balance < cost:
            raise RPCError(
                SERVER_ERROR,
                f"insufficient funds for gas * price + value: address {_d(sender)} "
                f"have {balance} want {cost}",
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RPCError(SERVER_ERROR, "the chain is closed")


# --------------------------------------------------------------------------------------
# Helpers for open().
# --------------------------------------------------------------------------------------


def _connect(path: Path | None, *, durable: bool) -> sqlite3.Connection:
    target = ":memory:" if path is None else str(path)
    # Autocommit mode: transactions are explicit (BEGIN ... COMMIT per block). The
    # connection is shared by threads, serialised by EmbeddedChain's lock.
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    try:
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
        # FULL: each COMMIT is fsynced, so a mined block survives power loss too. NORMAL
        # in WAL survives kill -9 but may lose the last blocks on power loss, after their
        # hashes were returned to clients. FULL costs one fsync per block (0.2-4 ms).
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        for statement in _SCHEMA:
            conn.execute(statement)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ChainConfigError(f"{path} is not a liandai chain database: {exc}") from exc
    return conn


def _create(
    kv: _SQLiteKV, chain_id: int, genesis_alloc: GenesisAlloc, deployer: str | None = None
) -> tuple[Chain, dict[str, str]]:
    if deployer is not None:
        deployer = _d(_parse_alloc_address(deployer))
    genesis_state: dict[Address, Any] = {}
    for address, balance in genesis_alloc.items():
        raw = _parse_alloc_address(address)
        if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
            raise ChainConfigError(f"genesis balance for {address} must be an int (wei)")
        genesis_state[raw] = {"balance": balance, "nonce": 0, "code": b"", "storage": {}}
    genesis_params: dict[str, Any] = {
        "coinbase": ZERO_ADDRESS,
        "difficulty": 0,
        "extra_data": b"liandai",
        "gas_limit": BLOCK_GAS_LIMIT,
        "mix_hash": ZERO_HASH,
        "nonce": b"\x00" * 8,
        "timestamp": int(time.time()),
        "base_fee_per_gas": 0,
    }
    chain_class = _chain_class(chain_id)
    chain = cast(Chain, chain_class.from_genesis(AtomicDB(kv), genesis_params, genesis_state))
    meta = {
        "initialised": "1",
        "schema_version": str(SCHEMA_VERSION),
        "chain_id": str(chain_id),
        "time_offset": "0",
        "genesis_hash": chain.chaindb.get_canonical_block_hash(BlockNumber(0)).hex(),
    }
    if deployer is not None:
        meta["deployer"] = deployer
    try:
        # Genesis and the "initialised" mark land in one transaction: created once.
        kv.commit(meta)
    except BaseException:
        kv.rollback()
        raise
    return chain, meta


def _resume(kv: _SQLiteKV, meta: dict[str, str], chain_id: int | None, path: Path | None) -> Chain:
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise ChainConfigError(
            f"{path}: unsupported chain schema version {meta.get('schema_version')!r}"
        )
    stored_id = int(meta["chain_id"])
    if chain_id is not None and chain_id != stored_id:
        raise ChainConfigError(f"the chain at {path} has chain id {stored_id}, not {chain_id}")
    chain = _chain_class(stored_id)(AtomicDB(kv))
    try:
        chain.chaindb.get_canonical_head()
    except CanonicalHeadNotFound as exc:
        raise ChainConfigError(f"{path}: marked initialised but has no canonical head") from exc
    return chain


def _release_lock(path: Path | None, lock: filelock.FileLock) -> None:
    if path is not None:
        with suppress(OSError):
            _owner_file(path).unlink()
    lock.release(force=True)


def _meta_address(value: str | None) -> Address | None:
    return None if not value else _parse_alloc_address(value)


def _parse_alloc_address(address: str) -> Address:
    try:
        raw = bytes.fromhex(address[2:] if address[:2] in ("0x", "0X") else address)
    except (ValueError, TypeError) as exc:
        raise ChainConfigError(f"bad genesis address {address!r}") from exc
    if len(raw) != 20:
        raise ChainConfigError(f"bad genesis address {address!r}")
    return Address(raw)


def _contract_address(sender: bytes, nonce: int) -> bytes:
    from eth._utils.address import generate_contract_address

    return bytes(generate_contract_address(Address(sender), nonce))


def _tx_type(tx: SignedTransactionAPI) -> int:
    return (tx.type_id or 0) if isinstance(tx, TypedTransaction) else 0


def _legacy_v(tx: SignedTransactionAPI) -> int:
    return int(cast(Any, tx).v)  # only legacy transactions carry v (typed: y_parity)


def _effective_gas_price(tx: SignedTransactionAPI, header: BlockHeaderAPI) -> int:
    if _tx_type(tx) >= 2:
        base_fee = header.base_fee_per_gas or 0
        return int(min(tx.max_fee_per_gas, tx.max_priority_fee_per_gas + base_fee))
    return int(tx.gas_price)


def _log_json(
    log: Any, log_index: int, block_hash: str, number: str, tx_hash: str, tx_index: int
) -> dict[str, Any]:
    return {
        "address": _d(log.address),
        "topics": [_h32(t) for t in log.topics],
        "data": _d(log.data),
        "blockNumber": number,
        "transactionHash": tx_hash,
        "transactionIndex": _q(tx_index),
        "blockHash": block_hash,
        "logIndex": _q(log_index),
        "removed": False,
    }


def _filter_addresses(value: Any) -> frozenset[bytes] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((_address(value, "address"),))
    if isinstance(value, list):
        if not value:
            return None
        return frozenset(_address(v, "address") for v in value)
    _bad("invalid argument 0: address must be a string or an array")


def _filter_topics(value: Any) -> list[frozenset[int] | None]:
    if value is None:
        return []
    if not isinstance(value, list):
        _bad("invalid argument 0: topics must be an array")
    out: list[frozenset[int] | None] = []
    for entry in value:
        if entry is None:
            out.append(None)
        elif isinstance(entry, str):
            out.append(frozenset((int.from_bytes(_hash(entry, "topic"), "big"),)))
        elif isinstance(entry, list):
            options = [e for e in entry if e is not None]
            if len(options) < len(entry) or not options:
                out.append(None)  # a null inside an OR-list matches anything
            else:
                out.append(frozenset(int.from_bytes(_hash(e, "topic"), "big") for e in options))
        else:
            _bad("invalid argument 0: bad topic")
    # Trailing nulls still count: like geth, a log needs at least len(topics) topics.
    return out


def _bloom_may_match(
    bloom_value: int, addresses: frozenset[bytes] | None, topics: list[frozenset[int] | None]
) -> bool:
    if bloom_value == 0:
        return False
    bloom = BloomFilter(bloom_value)
    if addresses is not None and not any(a in bloom for a in addresses):
        return False
    for options in topics:
        if options is not None and not any(t.to_bytes(32, "big") in bloom for t in options):
            return False
    return True


def _log_matches(
    address: bytes,
    log_topics: Sequence[int],
    addresses: frozenset[bytes] | None,
    topics: list[frozenset[int] | None],
) -> bool:
    if addresses is not None and address not in addresses:
        return False
    if len(topics) > len(log_topics):
        return False
    return all(options is None or log_topics[i] in options for i, options in enumerate(topics))


def _revert_error(data: bytes) -> RPCError:
    message = EXECUTION_REVERTED
    if data[:4] == ERROR_STRING_SELECTOR:
        # Error(string): geth appends the reason to the message.
        try:
            from eth_abi import decode

            (reason,) = decode(["string"], data[4:])
            message = f"{EXECUTION_REVERTED}: {reason}"
        except Exception:  # malformed reason: keep the plain message
            pass
    return RPCError(REVERT_ERROR, message, _d(data))


def _vm_error_message(error: BaseException) -> str:
    if isinstance(error, OutOfGas):
        return "out of gas"
    return f"execution failed: {type(error).__name__}{': ' + str(error) if str(error) else ''}"


def _execution_error(computation: ComputationAPI, gas: int | None = None) -> RPCError:
    error = computation.error
    if isinstance(error, Revert):
        return _revert_error(computation.output)
    if isinstance(error, OutOfGas) and gas is not None:
        return RPCError(SERVER_ERROR, f"out of gas: the call ran out of its {gas} gas")
    return RPCError(SERVER_ERROR, _vm_error_message(error))


def _raise_execution_error(computation: ComputationAPI, gas: int | None = None) -> NoReturn:
    raise _execution_error(computation, gas)


def _tx_gas_used(gas: int, computation: ComputationAPI) -> int:
    """Gas a transaction with limit ``gas`` is charged: used, less the capped refund."""
    used = gas - computation.get_gas_remaining()
    return used - min(computation.get_gas_refund(), used // 5)


def _proof_nodes(nodes: Sequence[Any]) -> list[str]:
    """A py-evm trie proof as EIP-1186 lists it: the RLP of each node on the path that is
    stored by its hash (a node under 32 bytes sits inside its parent), the root first."""
    out = []
    for i, node in enumerate(nodes):
        encoded = rlp.encode(node)
        if i == 0 or len(encoded) >= 32:
            out.append(_d(encoded))
    return out


def _access_list(value: Any) -> list[tuple[bytes, list[int]]]:
    if value is None:
        return []
    if not isinstance(value, list):
        _bad("invalid argument 0: accessList must be an array")
    out = []
    for entry in value:
        if not isinstance(entry, dict):
            _bad("invalid argument 0: bad accessList entry")
        keys = entry.get("storageKeys") or []
        out.append(
            (
                bytes(_address(entry.get("address"), "accessList address")),
                [int.from_bytes(_hash(k, "storageKey"), "big") for k in keys],
            )
        )
    return out


@dataclass
class _Filter:
    """An installed filter: its kind (logs, blocks, pending), query, last block seen."""

    kind: str
    query: dict[str, Any]
    last: int
    polled: float


@dataclass(frozen=True)
class _CallRequest:
    """An eth_call / eth_estimateGas / eth_createAccessList request, parsed."""

    header: BlockHeaderAPI
    vm: ZeroFeePragueVM
    sender: Address
    to: Address
    data: bytes
    gas: int | None
    value: int
    gas_price: int
    access_list: list[tuple[bytes, list[int]]]
