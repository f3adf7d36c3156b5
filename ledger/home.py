"""The home directory: keys, the embedded chain, deployment records, the running node.

Layout::

    <home>/keystore/<name>.json    encrypted keystores (Web3 Secret Storage)
    <home>/dev-keys.json           dev accounts' plaintext keys (`init --dev` only)
    <home>/chain/chain.sqlite      the embedded chain (and chain.sqlite.lock)
    <home>/deployments/<net>.json  where the suite is deployed on each network
    <home>/node.json               the running `liandai node`, while it runs
    <home>/rpc.json                the node `init --rpc URL` deployed on, used without --rpc
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOME = "~/.liandai"


@dataclass(frozen=True, init=False)
class Home:
    """A liandai home directory: `Home("~/.liandai")`, `Home(Path(...))` or `Home.at(None)`.

    Attributes:
        root: the directory, absolute (`~` expanded).
    """

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        if not isinstance(root, str | os.PathLike):
            raise TypeError(f"Home needs a path (str or os.PathLike), not {type(root).__name__}")
        object.__setattr__(self, "root", Path(os.path.expanduser(os.fspath(root))).resolve())

    @classmethod
    def at(cls, path: str | os.PathLike[str] | None) -> Home:
        """The home at `path`, or the default ~/.liandai when None or empty."""
        return cls(path or DEFAULT_HOME)

    @property
    def keystore_dir(self) -> Path:
        return self.root / "keystore"

    @property
    def dev_keys_file(self) -> Path:
        return self.root / "dev-keys.json"

    @property
    def chain_file(self) -> Path:
        return self.root / "chain" / "chain.sqlite"

    @property
    def deployments_dir(self) -> Path:
        return self.root / "deployments"

    @property
    def node_file(self) -> Path:
        return self.root / "node.json"

    @property
    def rpc_file(self) -> Path:
        return self.root / "rpc.json"

    def exists(self) -> bool:
        return self.root.is_dir()

    def deployment_file(self, network: str) -> Path:
        return self.deployments_dir / f"{network}.json"

    def ensure(self) -> None:
        for d in (self.root, self.keystore_dir, self.chain_file.parent, self.deployments_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text so a crash leaves either the old file or the new one, never half; on an OSError
    the temporary file is removed and the error raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> None:
    """Write JSON so a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
