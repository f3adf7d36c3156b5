"""Local accounts: encrypted keystores, and plaintext dev keys only in dev mode.

Keystores are Web3 Secret Storage files written by eth-account, one per account, named
`<name>.json`. The scrypt cost is N=2^16 (64 MiB, ~0.15 s to unlock here): memory-hard
enough for keys on an operator's machine, and it keeps a signed transaction within the
one-second disbursement target; geth's default N=2^18 costs ~0.6 s per unlock.
Dev accounts (`init --dev`) keep plaintext keys in `dev-keys.json`, marked unsafe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.errors import BadInput, Refused, WrongPassword
from ledger.home import Home, write_json_atomic

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

SCRYPT_N = 2**16
DEV_WARNING = "DEV ACCOUNTS: plaintext private keys for local testing. NEVER use for real money."
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

PasswordSource = Callable[[str], str]


@dataclass(frozen=True)
class AccountInfo:
    """A local account.

    Attributes:
        name: local name, lower case.
        address: checksummed address.
        dev: True when its key is kept in plaintext (dev mode).
    """

    name: str
    address: str
    dev: bool


def check_name(name: str) -> str:
    key = name.strip().lower()
    if not _NAME.match(key):
        raise BadInput(
            f"account name {name!r} is not valid (lower-case letters, digits, '-' and '_', "
            "at most 40, starting with a letter or digit)"
        )
    return key


class Keyring:
    """The accounts of one home."""

    def __init__(self, home: Home, password: PasswordSource | None = None) -> None:
        self.home = home
        self._password = password
        self._listed: list[AccountInfo] | None = None
        # Passwords chosen in this process (`init` creates the operator, then signs with it:
        # one question, with its confirmation, not two).
        self._chosen: dict[str, str] = {}

    # -- reading -----------------------------------------------------------------------------

    def _dev_keys(self) -> dict[str, dict[str, str]]:
        path = self.home.dev_keys_file
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return dict(data["accounts"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused(f"dev key file {path} is unreadable ({exc})") from None

    def _keystore(self, name: str) -> dict[str, Any]:
        path = self.home.keystore_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or "crypto" not in data or "address" not in data:
                raise ValueError("not a Web3 Secret Storage file")
            return data
        except (ValueError, OSError) as exc:
            raise Refused(f"keystore of account {name!r} ({path}) is unreadable: {exc}") from None

    def accounts(self) -> list[AccountInfo]:
        """Every local account (read once per keyring; `create` refreshes it)."""
        if self._listed is None:
            self._listed = self._read_all()
        return list(self._listed)

    def _read_all(self) -> list[AccountInfo]:
        from eth_utils import to_checksum_address

        found: dict[str, AccountInfo] = {}
        for name, entry in self._dev_keys().items():
            found[name] = AccountInfo(name, to_checksum_address(entry["address"]), True)
        if self.home.keystore_dir.is_dir():
            for path in sorted(self.home.keystore_dir.glob("*.json")):
                name = path.stem
                data = self._keystore(name)
                found[name] = AccountInfo(name, to_checksum_address("0x" + data["address"]), False)
        return [found[k] for k in sorted(found)]

    def get(self, name: str) -> AccountInfo:
        key = check_name(name)
        for info in self.accounts():
            if info.name == key:
                return info
        raise BadInput(f"no local account named {name!r} (see `liandai account list`)")

    def resolve(self, name_or_address: str) -> str:
        """A local account name or a 0x address → checksummed address."""
        from eth_utils import to_checksum_address

        text = name_or_address.strip()
        if _ADDRESS.match(text):
            return to_checksum_address(text)
        if text.startswith("0x"):
            raise BadInput(f"{name_or_address!r} is not a 20-byte hex address")
        return self.get(text).address

    def names_by_address(self) -> dict[str, str]:
        return {info.address: info.name for info in self.accounts()}

    # -- writing -----------------------------------------------------------------------------

    def create(self, name: str, *, dev: bool = False, password: str | None = None) -> AccountInfo:
        from eth_account import Account

        key = check_name(name)
        if any(info.name == key for info in self.accounts()):
            raise BadInput(f"an account named {key!r} already exists")
        account = Account.create()
        self.home.ensure()
        self._listed = None
        if dev:
            keys = self._dev_keys()
            keys[key] = {"address": account.address, "private_key": account.key.hex()}
            write_json_atomic(self.home.dev_keys_file, {"warning": DEV_WARNING, "accounts": keys})
            return AccountInfo(key, account.address, True)
        secret = password if password is not None else self._ask(f"new password for {key!r}")
        if not secret:
            raise BadInput("the password must not be empty")
        keystore = Account.encrypt(account.key, secret, kdf="scrypt", iterations=SCRYPT_N)
        write_json_atomic(self.home.keystore_dir / f"{key}.json", keystore)
        self._chosen[key] = secret
        return AccountInfo(key, account.address, False)

    def forget(self, names: list[str]) -> None:
        """Delete the keys of accounts this home just created (an `init` that failed)."""
        keys = self._dev_keys()
        dev = [n for n in names if n in keys]
        if dev:
            for n in dev:
                del keys[n]
        if dev and not keys:
            self.home.dev_keys_file.unlink()
        elif dev:
            write_json_atomic(self.home.dev_keys_file, {"warning": DEV_WARNING, "accounts": keys})
        for n in names:
            (self.home.keystore_dir / f"{n}.json").unlink(missing_ok=True)
        self._listed = None

    # -- signing -----------------------------------------------------------------------------

    def signer(self, name: str) -> LocalAccount:
        """Unlock the account `name` (asking for its password unless it is a dev account)."""
        from eth_account import Account

        info = self.get(name)
        if info.dev:
            return Account.from_key(self._dev_keys()[info.name]["private_key"])
        keystore = self._keystore(info.name)
        secret = self._chosen.get(info.name) or self._ask(f"password for {info.name!r}")
        try:
            return Account.from_key(Account.decrypt(keystore, secret))
        except ValueError:
            raise WrongPassword(f"wrong password for account {info.name!r}") from None

    def _ask(self, prompt: str) -> str:
        if self._password is None:
            raise Refused(
                f"a password is needed ({prompt}): set LIANDAI_PASSWORD or run interactively"
            )
        return self._password(prompt)
