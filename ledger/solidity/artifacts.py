"""The committed contract artifacts (ABI, bytecode) and decoding of their custom errors."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract.

    Attributes:
        name: contract name.
        abi: its ABI.
        bytecode: creation code, 0x-hex (with `__$…$__` placeholders where libraries link).
        link_references: library name → byte positions of its address in the creation code.
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    link_references: dict[str, list[dict[str, int]]]

    def linked(self, libraries: dict[str, str]) -> str:
        """Creation code with each library's address written where the compiler left room."""
        code = self.bytecode
        for lib, positions in self.link_references.items():
            address = libraries[lib].lower().removeprefix("0x")
            for pos in positions:
                at = 2 + 2 * pos["start"]
                code = code[:at] + address + code[at + 2 * pos["length"] :]
        return code


@functools.cache
def manifest() -> dict[str, Any]:
    return dict(json.loads((ARTIFACTS_DIR / "manifest.json").read_text(encoding="utf-8")))


@functools.cache
def load(name: str) -> Artifact:
    data = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        link_references=data.get("linkReferences", {}),
    )


def bytecode_hash(name: str) -> str:
    return str(manifest()["contracts"][name]["bytecodeKeccak"])


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_canonical_type(i) for i in entry['inputs'])})"


def _canonical_type(param: dict[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){typ[5:]}"
    return typ


@functools.cache
def error_table() -> dict[bytes, dict[str, Any]]:
    """4-byte selector → error ABI entry, over every artifact (plus Error and Panic)."""
    from eth_utils import keccak

    table: dict[bytes, dict[str, Any]] = {}
    builtins = [
        {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
        {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
    ]
    entries = list(builtins)
    for name in manifest()["contracts"]:
        entries.extend(e for e in load(name).abi if e.get("type") == "error")
    for entry in entries:
        table[keccak(text=_signature(entry))[:4]] = entry
    return table


@functools.cache
def event_table() -> dict[bytes, tuple[str, dict[str, Any]]]:
    """topic0 → (contract name, event ABI entry), over every artifact."""
    from eth_utils import keccak

    table: dict[bytes, tuple[str, dict[str, Any]]] = {}
    for name in manifest()["contracts"]:
        for entry in load(name).abi:
            if entry.get("type") == "event":
                table.setdefault(keccak(text=_signature(entry)), (name, entry))
    return table


def decode_error(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """Revert data → (error name, arguments by name), or None if it is not a known error."""
    from eth_abi import decode

    entry = error_table().get(bytes(data[:4]))
    if entry is None:
        return None
    types = [_canonical_type(i) for i in entry["inputs"]]
    try:
        values = decode(types, bytes(data[4:]))
    except Exception:  # malformed revert data is reported as unknown, not as a crash
        return None
    from eth_utils import to_checksum_address

    names = [i["name"] or f"arg{n}" for n, i in enumerate(entry["inputs"])]
    readable = [
        to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True)
    ]
    return entry["name"], dict(zip(names, readable, strict=True))
