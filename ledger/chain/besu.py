"""Besu's account permissioning from the Membership contract (DESIGN §6.8).

A Besu network enforces who may send transactions with its local permissioning file
(``--permissions-accounts-config-file``, TOML, key ``accounts-allowlist``) and keeps a
running node's list current through the ``perm_*`` JSON-RPC methods. The list here is
always derived from Membership: every account admitted, as ``memberOf`` now tells it,
and of those only the ACTIVE ones. Nothing is duplicated: the file and the node's list
are a view of the contract, rewritten whenever it moves.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ledger.errors import BadInput, ChainUnavailable, Refused

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

ACCOUNTS_KEY = "accounts-allowlist"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def active_members(ledger: Ledger) -> list[str]:
    """Every ACTIVE member of the deployment's Membership, lowercase, in admission order."""
    return [m.address.lower() for m in ledger.members() if m.status == "ACTIVE"]


# ----------------------------------------------------------------------------- the file


def read_file(path: Path) -> dict[str, Any]:
    """A permissioning file's keys (empty if it does not exist). BadInput if not TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path} is not a TOML permissioning file ({exc})") from None


def _toml_value(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, key) for v in value) + "]"
    raise BadInput(f"the permissioning file's {key!r} holds a value this writer keeps not")


def render(accounts: Sequence[str], keep: dict[str, Any], comment: str = "") -> str:
    """The TOML text: ``accounts-allowlist`` one address a line, other keys kept as they are
    (``nodes-allowlist`` in particular: node permissioning is not Membership's business)."""
    lines = [f"# {line}" for line in comment.splitlines()] if comment else []
    lines.append(f"{ACCOUNTS_KEY}=[")
    lines += [f'  "{a}"' + ("," if i < len(accounts) - 1 else "") for i, a in enumerate(accounts)]
    lines.append("]")
    for key, value in keep.items():
        if key == ACCOUNTS_KEY:
            continue
        name = key if _BARE_KEY.match(key) else json.dumps(key)
        lines.append(f"{name}={_toml_value(value, key)}")
    return "\n".join(lines) + "\n"


def write_file(path: Path, accounts: Sequence[str], comment: str = "") -> bool:
    """Write the allowlist (atomically, keeping the file's other keys); False if unchanged."""
    keep = read_file(path)
    if keep.get(ACCOUNTS_KEY) == list(accounts) and path.exists():
        return False
    text = render(accounts, keep, comment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


# ------------------------------------------------------------------------ the perm_ RPC


class PermRPC:
    """Besu's ``perm_*`` account methods over HTTP JSON-RPC."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadInput(f"not an http(s) URL: {url!r}")
        self.url = url
        self._parts = parts
        self._timeout = timeout
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        parts = self._parts
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname or "", parts.port, timeout=self._timeout)
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        body = json.dumps(request)
        try:
            conn.request("POST", parts.path or "/", body, {"Content-Type": "application/json"})
            raw = conn.getresponse().read()
        except OSError as exc:
            raise ChainUnavailable(f"cannot reach the Besu node at {self.url} ({exc})") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ChainUnavailable(f"{self.url} did not answer with JSON-RPC") from None
        if "error" in answer:
            error = answer["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise Refused(f"the Besu node refused {method}: {message}")
        return answer.get("result")

    def allowlist(self) -> list[str]:
        result = self.call("perm_getAccountsAllowlist", [])
        if not isinstance(result, list) or not all(isinstance(a, str) for a in result):
            raise Refused(f"{self.url} answered perm_getAccountsAllowlist with {result!r}")
        return [a.lower() for a in result]

    def add(self, accounts: list[str]) -> None:
        if accounts:
            self.call("perm_addAccountsToAllowlist", [accounts])

    def remove(self, accounts: list[str]) -> None:
        if accounts:
            self.call("perm_removeAccountsFromAllowlist", [accounts])


@dataclass
class SyncResult:
    """One round: the members written, what the node's list gained and lost.

    Attributes:
        accounts: the active members (the allowlist as written).
        written: the file changed this round.
        added: accounts added to the node's list (perm_addAccountsToAllowlist).
        removed: accounts removed from it (perm_removeAccountsFromAllowlist).
    """

    accounts: list[str]
    written: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "written": self.written,
            "added": self.added,
            "removed": self.removed,
        }


def diff(current: Iterable[str], wanted: Iterable[str]) -> tuple[list[str], list[str]]:
    """(to add, to remove) to turn the node's list ``current`` into ``wanted``."""
    have = {a.lower() for a in current}
    want = [a.lower() for a in wanted]
    return [a for a in want if a not in have], sorted(have - set(want))


def sync(ledger: Ledger, path: Path, node: PermRPC | None = None) -> SyncResult:
    """Write ``path`` from Membership; with ``node``, bring its list to the same members."""
    accounts = active_members(ledger)
    membership = ledger.deployment.address("Membership")
    comment = (
        f"Besu accounts allowlist: the active members of Membership {membership}\n"
        f"on chain {ledger.chain.chain_id}, written by `liandai besu permissions`."
    )
    # The node first: one that cannot be reached or answers nonsense leaves the file as it was.
    current = node.allowlist() if node is not None else None
    result = SyncResult(accounts, write_file(path, accounts, comment))
    if node is not None and current is not None:
        result.added, result.removed = diff(current, accounts)
        node.add(result.added)
        node.remove(result.removed)
    return result


def watch(
    ledger: Ledger,
    path: Path,
    node: PermRPC | None,
    *,
    interval: float,
    rounds: int = 0,
    on_round: Callable[[SyncResult], None] = lambda r: None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """:func:`sync` every ``interval`` seconds (``rounds`` times; 0: until interrupted)."""
    import time

    pause = sleep or time.sleep
    for n in itertools.count(1):
        on_round(sync(ledger, path, node))
        if rounds and n >= rounds:
            return
        pause(interval)
