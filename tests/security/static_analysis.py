"""Run slither on the contracts, compiled by the project's own compiler.

slither (PyPI `slither-analyzer`) compiles through crytic-compile, which wants a native
`solc` (or a framework) and cannot drive the npm solcjs wrapper directly. But crytic-compile
reads Hardhat build-info files as they are: the standard-JSON input and output of one
compilation. So this module compiles `contracts/` with `ledger.solidity.compiler`'s standard input
(same sources, same settings; the AST and source maps added to the output selection),
writes the pair as a build-info into a throwaway Hardhat-shaped directory (symlinks to
`contracts/` and `node_modules/`), and points slither at it with `--hardhat-ignore-compile`.

    python -m tests.security.static_analysis [--slither PATH] [--json FILE]

prints the findings by impact and exits 1 when a medium or high finding is not in TRIAGE
(docs/static-analysis.md explains each verdict). slither is not a dependency of the project:
install it in a venv of its own (`make analyze` does) and pass its path, or set
LIANDAI_SLITHER.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = ROOT / ".venv-slither"

# Every medium and high finding, by (detector, the function or variable it names), with
# its verdict; docs/static-analysis.md gives the reasons. A new one fails the check.
TRIAGE: dict[tuple[str, str], str] = {
    ("incorrect-equality", "LoanBook._principal"): "false positive: y == 0 is an early exit",
    ("incorrect-equality", "LoanBook.declareDefault"): "false positive: exact fen accounting",
    ("incorrect-equality", "LoanBook._settle"): "false positive: exact fen accounting",
    ("incorrect-equality", "LoanBook._interest"): "false positive: l == 0 is an early exit",
    ("reentrancy-no-eth", "LoanBook._settle"): "justified: callees are the fixed engines",
    ("reentrancy-no-eth", "LoanBook._close"): "justified: callee is the fixed e-CNY engine",
    ("reentrancy-no-eth", "LoanBook.repayMany"): "justified: callees are the fixed engines",
    ("unused-return", "AuditedEngine._audit"): "justified: the seq is in the event",
    ("incorrect-equality", "Securitisation.claim"): "false positive: owed == 0 is an early exit",
    ("incorrect-equality", "Securitisation._accrue"): "false positive: dt == 0 is an early exit",
    ("incorrect-equality", "Securitisation.distribute"): "false positive: cash == 0 exits",
    ("reentrancy-no-eth", "Securitisation._lockTranches"): "justified: callee is the fixed market",
    ("reentrancy-no-eth", "Securitisation.close"): "justified: callee is the fixed market",
    ("unused-return", "AuditedEngine._auditAs"): "justified: the seq is in the event",
    ("unused-return", "LoanStages._draw"): "justified: the seq is in the event",
    ("unused-return", "LoanStages._lapse"): "justified: the seq is in the event",
    **{
        ("uninitialized-local", where): "false positive: Solidity zero-initialises locals"
        for where in (
            "AuditTrail.constructor",
            "CoverBook._checkLayer",
            "CoverBook.register",
            "CoverBook.reimburse",
            "LoanBook._interest",
            "LoanBook._settle",
            "LoanLifecycle._recheck",
            "LoanLifecycle.cancel",
            "LoanOrigination._checkPayees",
            "LoanOrigination._checkTerms",
            "Policy.set",
            "Prudential.lapsed",
            "ReceivableToken.split",
            "Securitisation._accrue",
            "Securitisation._checkClasses",
            "Securitisation.cancel",
            "Securitisation.close",
            "TrancheMarket._checkOriginatorFloor",
            "TrancheTransfer._checkStagesDrawn",
            "Waterfall.addProRata",
        )
    },
}


def find_slither(explicit: str | None = None) -> str | None:
    for candidate in (
        explicit,
        os.environ.get("LIANDAI_SLITHER"),
        str(DEFAULT_VENV / "bin" / "slither"),
        shutil.which("slither"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            # slither runs in a scratch project directory: a relative path would miss it.
            return str(Path(candidate).resolve())
    return None


def build_info() -> dict[str, Any]:
    """One compilation of contracts/ in Hardhat's build-info shape."""
    import solcx

    from ledger.solidity import compiler

    std = copy.deepcopy(compiler.standard_input(compiler.entry_points()))
    std["settings"]["outputSelection"] = {
        "*": {
            "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers"],
            "": ["ast"],
        }
    }
    output = solcx.compile_standard(std, solc_binary=compiler.SOLC_WRAPPER)
    version = solcx.wrapper.get_version_str_from_solc_binary(compiler.SOLC_WRAPPER)
    return {
        "_format": "hh-sol-build-info-1",
        "id": "liandai",
        "solcVersion": str(version).split("+")[0],
        "solcLongVersion": str(version),
        "input": std,
        "output": output,
    }


def run(slither: str) -> dict[str, Any]:
    """slither's JSON report on the contracts (node_modules filtered out)."""
    with tempfile.TemporaryDirectory(prefix="liandai-slither-") as tmp:
        project = Path(tmp)
        (project / "hardhat.config.js").write_text("module.exports = {};\n")
        (project / "contracts").symlink_to(ROOT / "contracts")
        (project / "node_modules").symlink_to(ROOT / "node_modules")
        info_dir = project / "artifacts" / "build-info"
        info_dir.mkdir(parents=True)
        (info_dir / "liandai.json").write_text(json.dumps(build_info()))
        report = project / "slither.json"
        subprocess.run(
            [
                slither,
                ".",
                "--compile-force-framework",
                "hardhat",
                "--hardhat-ignore-compile",
                "--filter-paths",
                "node_modules",
                "--json",
                str(report),
            ],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,  # slither exits non-zero when it finds anything
        )
        if not report.exists():
            raise RuntimeError("slither wrote no report")
        data = dict(json.loads(report.read_text()))
    if not data.get("success"):
        raise RuntimeError(f"slither failed: {data.get('error')}")
    return data


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return list(report.get("results", {}).get("detectors", []))


def where(finding: dict[str, Any]) -> str:
    """The function (Contract.name) or variable a finding is about."""
    for element in finding.get("elements", []):
        parent = element.get("type_specific_fields", {}).get("parent", {})
        if element.get("type") == "function":
            contract = parent.get("name", "?")
            name = element["name"] if element["name"] != contract else "constructor"
            return f"{contract}.{name}"
        if element.get("type") == "variable" and parent.get("type") == "function":
            owner = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "?")
            name = parent["name"] if parent["name"] != owner else "constructor"
            return f"{owner}.{name}"
    return "?"


def untriaged(report: dict[str, Any]) -> list[str]:
    return [
        f"{f['impact']} {f['check']} in {where(f)}: {f['description'].splitlines()[0]}"
        for f in findings(report)
        if f["impact"] in ("High", "Medium") and (f["check"], where(f)) not in TRIAGE
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slither", help="path of the slither executable")
    parser.add_argument("--json", help="also write slither's JSON report here")
    args = parser.parse_args(argv)
    slither = find_slither(args.slither)
    if slither is None:
        print("slither not found: `make analyze` installs it in .venv-slither", file=sys.stderr)
        return 2
    report = run(slither)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    counts = Counter(f["impact"] for f in findings(report))
    print("slither findings:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    for f in findings(report):
        verdict = TRIAGE.get((f["check"], where(f)), "")
        print(f"  {f['impact']:<13} {f['check']:<22} {where(f):<34} {verdict}")
    problems = untriaged(report)
    for p in problems:
        print(f"UNTRIAGED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
