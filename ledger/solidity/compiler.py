"""Compile the Solidity sources into the committed artifacts.

py-solc-x drives the npm `solc` package through `tools/solc-standard-json`, a tiny
executable that behaves like `solc` for `--version` and `--standard-json`. Every source,
OpenZeppelin's included, is passed in the standard-JSON input, so the input alone fixes
the output: a fresh compile of the same sources reproduces the artifacts byte for byte.

Running liandai never needs this module: it reads the artifacts from `ledger/solidity/artifacts/`.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = ROOT / "contracts"
NODE_MODULES = ROOT / "node_modules"
SOLC_WRAPPER = ROOT / "tools" / "solc-standard-json"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"

# py-evm 0.12 implements forks up to Prague; solc 0.8.37 would default to Osaka.
EVM_VERSION = "prague"
OPTIMIZER_RUNS = 2_000
SETTINGS: dict[str, Any] = {
    "evmVersion": EVM_VERSION,
    "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
    # No metadata hash in the bytecode: comments and NatSpec edits leave code and gas alone.
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.bytecode.linkReferences",
                "evm.deployedBytecode.object",
            ]
        }
    },
}

_IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*\s+from\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)


def _resolve(unit: str) -> Path:
    local = ROOT / unit
    if local.is_file():
        return local
    vendored = NODE_MODULES / unit
    if vendored.is_file():
        return vendored
    raise FileNotFoundError(f"cannot resolve Solidity import {unit!r}")


def collect_sources(roots: list[str]) -> dict[str, str]:
    """Source unit name → content for `roots` and everything they import, transitively."""
    sources: dict[str, str] = {}
    pending = list(roots)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _resolve(unit).read_text(encoding="utf-8")
        sources[unit] = text
        for target in _IMPORT.findall(text):
            if target.startswith("."):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
            pending.append(target)
    return dict(sorted(sources.items()))


def entry_points() -> list[str]:
    """Every Solidity file under contracts/, as source unit names."""
    return sorted(p.relative_to(ROOT).as_posix() for p in CONTRACTS_DIR.rglob("*.sol"))


def standard_input(roots: list[str]) -> dict[str, Any]:
    sources = collect_sources(roots)
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }


def compile_contracts(roots: list[str] | None = None) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Compile; return (compiler version, solc output, sources). Needs node and npm `solc`."""
    import solcx  # only the build needs the compiler driver

    if not (NODE_MODULES / "solc").is_dir():
        raise RuntimeError("npm package `solc` is missing: run `npm ci` first")
    std_input = standard_input(roots or entry_points())
    try:
        output = solcx.compile_standard(std_input, solc_binary=SOLC_WRAPPER)
    except solcx.exceptions.SolcError as exc:
        # Report the compiler's own messages, not the whole standard-JSON output.
        try:
            errors = json.loads(exc.stdout_data or "").get("errors", [])
            text = "\n".join(
                e.get("formattedMessage", e["message"])
                for e in errors
                if e.get("severity") == "error"
            )
        except (ValueError, TypeError, AttributeError):
            text = str(exc).split("\n> command")[0]
        raise RuntimeError(text) from None
    version = solcx.wrapper.get_version_str_from_solc_binary(SOLC_WRAPPER)
    sources = {name: spec["content"] for name, spec in std_input["sources"].items()}
    return version, output, sources


def _deployable(source_name: str, abi: list[Any]) -> bool:
    """Contracts, and libraries with external functions (linked at deployment)."""
    if not source_name.startswith("contracts/") or source_name.startswith("contracts/interfaces/"):
        return False
    return not source_name.startswith("contracts/libraries/") or bool(abi)


def render_artifacts(
    version: str, output: dict[str, Any], sources: dict[str, str]
) -> dict[str, str]:
    """File name → exact file content of every artifact, manifest included."""
    files: dict[str, str] = {}
    manifest_contracts: dict[str, Any] = {}
    for source_name, contracts in sorted(output["contracts"].items()):
        for name, data in sorted(contracts.items()):
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode or not _deployable(source_name, data["abi"]):
                continue
            deployed = data["evm"]["deployedBytecode"]["object"]
            artifact = {
                "contractName": name,
                "sourceName": source_name,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + deployed,
                # library name → where its address goes in the creation code
                "linkReferences": {
                    lib: positions
                    for libs in data["evm"]["bytecode"].get("linkReferences", {}).values()
                    for lib, positions in libs.items()
                },
            }
            files[f"{name}.json"] = _dump(artifact)
            manifest_contracts[name] = {
                "source": source_name,
                # of the creation code as text: unlinked code holds `__$…$__` placeholders
                "bytecodeKeccak": "0x" + keccak(text=bytecode).hex(),
                "deployedSize": len(deployed) // 2,
            }
    manifest = {
        "compiler": {"name": "solc", "version": version, "settings": SETTINGS},
        "sources": {name: "0x" + keccak(text=text).hex() for name, text in sources.items()},
        "contracts": manifest_contracts,
    }
    files["manifest.json"] = _dump(manifest)
    return files


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build(out_dir: Path = ARTIFACTS_DIR) -> list[str]:
    """Compile and write the artifacts to `out_dir`, removing stale ones; return the warnings."""
    version, output, sources = compile_contracts()
    diagnostics = output.get("errors", [])
    errors = [e for e in diagnostics if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    files = render_artifacts(version, output, sources)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    return [e.get("formattedMessage", e["message"]) for e in diagnostics]


def main() -> None:
    warnings = build()
    for warning in warnings:
        print(warning)
    print(f"compiled into {ARTIFACTS_DIR.relative_to(ROOT)}/ with {len(warnings)} warning(s)")


if __name__ == "__main__":
    main()
