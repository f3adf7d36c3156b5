"""Audit-trail benchmarks (not timed tests): `python -m bench.audit [--quick] [SECTION...]`.

Sections (all by default):
- `offline`: verify an exported bundle of 1,000,000 entries offline (one process and all
  CPUs), next to the cost of the hashing alone and a breakdown of where the time goes.
- `chain`: verify a trail of 10,000 entries from the chain, embedded and on anvil.
- `evidence`: the evidence bundle of a loan with 50 entries in a trail of 100,000 (anvil,
  1,000 payments per block to build it in minutes): its size and offline verification time.
- `gas`: what an incremental Merkle tree kept by `AuditTrail.append` would cost every
  action, against an auditor's checkpoint transaction (compiles variants; needs npm solc).

`--quick` runs each at a tenth of its size (a smoke run). Results go to
bench-results/audit.json and bench-results/audit.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_abi import encode

from ledger.audit.binding import Binding, by_name, data_hash, keccak
from ledger.audit.merkle import Frontier, leaf_hash

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-results"
SCALE = {"offline": 1_000_000, "chain": 10_000, "evidence": 100_000, "loan_entries": 50}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the verifier's workers)."""
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds: on a shared machine the wall time also measures the neighbours."""
    cpu = _cpu()
    wall, result = _timed(fn)
    return wall, _cpu() - cpu, result


# --------------------------------------------------------------------------- offline


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _templates() -> list[tuple[Binding, list[bytes], bytes]]:
    """One transfer, one receivable payment, one two-tranche settlement: topics and data."""
    t = by_name()
    a, b = _word(0xA11CE), _word(0xB0B)
    settled = encode(
        ["uint256", "uint256", "uint256", "uint256[]", "uint256[]", "uint256", "address", "bool"],
        [2_000_000, 98_630, 49_315, [172_602, 172_603], [1_506_850, 0], 0, "0x" + "00" * 20, False],
    )
    return [
        (t["ECNY_TRANSFERRED"], [t["ECNY_TRANSFERRED"].topic0, a, b], _word(1_250_050)),
        (
            t["RECEIVABLE_PAID"],
            [t["RECEIVABLE_PAID"].topic0, _word(7), a, b],
            _word(100_000_00) + _word(100_000_00) + _word(3),
        ),
        (t["LOAN_SETTLED"], [t["LOAN_SETTLED"].topic0, _word(3), _word(2), a], settled),
    ]


def _contracts() -> dict[str, str]:
    names = ["AuditTrail", "DigitalRMB", "LoanBook", "Membership", "ReceivableToken"]
    return {n: "0x" + hashlib.sha256(n.encode()).hexdigest()[:40] for n in names}


def synth_bundle(path: Path, n: int, checkpoint_every: int) -> dict[str, Any]:
    """A valid exported bundle of `n` entries (three kinds in turn) with checkpoints."""
    contracts = _contracts()
    templates = _templates()
    frontier = Frontier()
    prev = b"\0" * 32
    actor = "0x" + "a11ce".rjust(40, "0")
    checkpoints: list[dict[str, Any]] = []
    lines: list[str] = []
    for seq in range(1, n + 1):
        b, topics, payload = templates[seq % 3]
        payload = _word(seq) + payload[32:]  # a different amount in every event
        dh = data_hash(b, topics, payload)
        assert dh is not None
        at = 1_800_000_000 + seq
        pre = prev + _word(seq) + b.kind_hash + _word(0xA11CE) + _word(seq % 97) + dh + _word(at)
        entry = keccak(pre)
        frontier.append(leaf_hash(entry))
        if seq % checkpoint_every == 0:
            checkpoints.append({"size": seq, "root": "0x" + frontier.root().hex()})
        address = contracts[b.contract]
        tps = ",".join(f'"0x{t.hex()}"' for t in topics)
        lines.append(
            f'[{seq},"{b.kind}","{actor}","{seq % 97}","0x{dh.hex()}",{at},"0x{prev.hex()}",'
            f'"0x{entry.hex()}",{seq + 10},"0x{_word(seq).hex()}",1,'
            f'["{address}",[{tps}],"0x{payload.hex()}",0]]'
        )
        prev = entry
    header = {
        "format": "liandai-audit-bundle/1",
        "chain_id": 1,
        "network": "synthetic",
        "contracts": contracts,
        "head": {"seq": n, "entry_hash": "0x" + prev.hex()},
        "block": n + 10,
        "checkpoints": checkpoints,
    }
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        f.write("\n".join(lines) + "\n")
    return {"entries": n, "bytes": path.stat().st_size, "checkpoints": len(checkpoints)}


def _hashing_only(path: Path, limit: int) -> float:
    """Entries/s of the hashes alone: entry hash, data hash, leaf and (amortised) node."""
    from ledger.audit.binding import Keccak

    pre = os.urandom(224)
    event = os.urandom(96)
    leaf = os.urandom(33)
    node = os.urandom(65)
    sha = hashlib.sha256
    start = time.process_time()
    for _ in range(limit):
        Keccak(pre).digest()
        Keccak(event).digest()
        sha(leaf).digest()
        sha(node).digest()
    return limit / (time.process_time() - start)


def _breakdown(path: Path, limit: int) -> dict[str, float]:
    """Microseconds per entry of each step of the single-process verifier."""
    from ledger.audit.bundle import row_args

    kinds = {name: b.kind_hash for name, b in by_name().items()}
    with path.open(encoding="utf-8") as f:
        f.readline()
        lines = [f.readline() for _ in range(limit)]
    events = [
        (by_name()[r[1]], [bytes.fromhex(t[2:]) for t in r[11][1]], bytes.fromhex(r[11][2][2:]))
        for r in (json.loads(line) for line in lines)
    ]
    pre = os.urandom(224)
    # Each step consumes its results as it goes: keeping 50,000 parsed lines alive would
    # time the garbage collector instead.
    steps: dict[str, Callable[[], object]] = {
        "read JSON": lambda: deque((json.loads(line) for line in lines), maxlen=0),
        "parse + hex-decode fields": lambda: deque((row_args(x, kinds) for x in lines), maxlen=0),
        "keccak entryHash": lambda: deque((keccak(pre) for _ in events), maxlen=0),
        "keccak dataHash (rebuild encoding)": lambda: deque(
            (data_hash(*e) for e in events), maxlen=0
        ),
        "sha-256 leaf + node": lambda: deque(
            ((leaf_hash(pre[:32]), hashlib.sha256(pre[:65]).digest()) for _ in events), maxlen=0
        ),
    }
    return {name: _timed_cpu(fn)[1] / limit * 1e6 for name, fn in steps.items()}


def bench_offline(n: int) -> dict[str, Any]:
    from ledger.audit.offline import verify_bundle

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trail.jsonl"
        made = synth_bundle(path, n, checkpoint_every=max(1, n // 10))
        cpus = os.cpu_count() or 1
        one, one_cpu, v1 = _timed_cpu(lambda: verify_bundle(path, jobs=1))
        many, many_cpu, vn = _timed_cpu(lambda: verify_bundle(path, jobs=cpus))
        assert v1.ok and vn.ok and v1.root == vn.root, (v1, vn)
        hashing = _hashing_only(path, min(n, 200_000))
        breakdown = _breakdown(path, min(n, 50_000))
    return {
        "entries": n,
        "bundle_bytes": made["bytes"],
        "checkpoints": made["checkpoints"],
        "cpus": cpus,
        "one_process_s": round(one, 2),
        "one_process_cpu_s": round(one_cpu, 2),
        "one_process_entries_per_s": round(n / one),
        "one_process_entries_per_cpu_s": round(n / one_cpu),
        "all_cpus_s": round(many, 2),
        "all_cpus_cpu_s": round(many_cpu, 2),
        "all_cpus_entries_per_s": round(n / many),
        "load_average": round(os.getloadavg()[0], 1),
        "hashing_alone_entries_per_s": round(hashing),
        "us_per_entry": {k: round(v, 2) for k, v in breakdown.items()},
    }


# --------------------------------------------------------------------------- chains


@contextmanager
def _anvil() -> Iterator[str]:
    from tests.conftest import running_anvil

    with running_anvil() as url:
        yield url


def _home(root: Path, rpc: str | None) -> Any:
    from ledger.engine.client import Ledger
    from ledger.engine.setup import initialise
    from ledger.home import Home
    from tests.conftest import seed

    home = Home.at(root)
    initialise(home, dev=True, rpc=rpc)
    ledger = Ledger.open(home, rpc=rpc)
    seed(ledger)
    ledger.simulate = False
    return ledger


def fill(ledger: Any, count: int, *, blocks_of: int = 1) -> None:
    """`count` more entries: e-CNY payments between members, sent in pipelined batches (a
    node's pool stalls when thousands of transactions wait at once). `blocks_of` > 1 mines
    that many per block on anvil (one per block is ~10× slower to build a long trail)."""
    from ledger.audit.trail import rpc
    from ledger.engine.client import GAS_TRANSFER

    payers = [ledger.as_signer("core"), ledger.as_signer("bank")]
    to = [ledger.resolve("supplier2"), ledger.resolve("supplier1")]
    token = ledger.deployment.address("DigitalRMB")
    batch = max(200, blocks_of)
    pending = []
    if blocks_of > 1:
        rpc(ledger.chain, "evm_setAutomine", [False])
    try:
        for i in range(count):
            s = payers[i % 2]
            call = s.contract("DigitalRMB").functions.transfer(to[i % 2], 1)
            tx = s.sender.build(token, call._encode_transaction_data(), gas=GAS_TRANSFER)
            pending.append((s.sender, s.sender.send_raw(tx)))
            if len(pending) == batch or i == count - 1:
                if blocks_of > 1:
                    rpc(ledger.chain, "evm_mine", [])
                for sender, tx_hash in pending[-2:]:
                    sender.wait(tx_hash)
                pending.clear()
    finally:
        if blocks_of > 1:
            rpc(ledger.chain, "evm_setAutomine", [True])


def _chain_once(root: Path, rpc: str | None, n: int) -> dict[str, Any]:
    from ledger.audit.trail import verify_trail

    ledger = _home(root, rpc)
    try:
        start = time.perf_counter()
        fill(ledger, n - ledger.audit_head()[0])
        build = time.perf_counter() - start
        wall, cpu = time.perf_counter(), time.process_time()
        verdict = verify_trail(ledger)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert verdict.ok and verdict.entries == n, verdict
    finally:
        ledger.close()
    return {
        "entries": n,
        "verify_s": round(wall, 2),
        "entries_per_s": round(n / wall),
        "verify_cpu_s": round(cpu, 2),
        "build_s": round(build, 1),
    }


def bench_chain(n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["embedded"] = _chain_once(Path(tmp) / "embedded", None, n)
        with _anvil() as rpc:
            results["anvil"] = _chain_once(Path(tmp) / "anvil", rpc, n)
    return results


def _loan_with_entries(ledger: Any, entries: int, filler_between: int) -> int:
    """A loan whose own trail is `entries` long, with other entries interleaved."""
    from ledger.engine.loans import LoanRequest, TrancheRequest

    core, s1 = ledger.as_signer("core"), ledger.as_signer("supplier1")
    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    rid = core.receivables.issue(
        ledger.resolve("supplier1"), 1_000_000_00, now + 400 * 86_400, os.urandom(32)
    ).id
    s1.receivables.accept(rid)
    request = LoanRequest(
        borrower=ledger.resolve("supplier1"),
        tranches=[
            TrancheRequest(
                lender=ledger.resolve("bank"), senior=True, amount_fen=70_000_00, coupon_bps=500
            ),
            TrancheRequest(lender=ledger.resolve("microloan"), senior=False, amount_fen=30_000_00),
        ],
        receivable_ids=[rid],
        rate_bps=1000,
        term_days=90,
    )
    micro = ledger.as_signer("microloan")
    loan = micro.loans.propose(request).id
    s1.loans.accept(loan)  # LOAN_ACCEPTED and RECEIVABLES_PLEDGED
    ledger.as_signer("bank").loans.fund(loan)
    micro.loans.fund(loan)
    micro.loans.disburse(loan)
    # issued, accepted, proposed, pledged, accepted, 2 funded, disbursed = 8 so far
    for _ in range(entries - 8):
        fill(ledger, filler_between, blocks_of=filler_between)
        s1.loans.repay(loan, 1_00)
    return int(loan)


def bench_evidence(trail: int, loan_entries: int) -> dict[str, Any]:
    from ledger.audit.checkpoint import publish
    from ledger.audit.evidence import lineage_of, verify_evidence, write_evidence

    with tempfile.TemporaryDirectory() as tmp, _anvil() as rpc:
        ledger = _home(Path(tmp) / "home", rpc)
        try:
            between = max(0, (trail // 2) // loan_entries)
            loan = _loan_with_entries(ledger, loan_entries, between)
            fill(ledger, trail - ledger.audit_head()[0], blocks_of=1_000)
            cp = publish(ledger.as_signer("auditor"))
            path = Path(tmp) / "evidence.jsonl"
            lineage = lineage_of(ledger, loan=loan)
            write_s, written = _timed(lambda: write_evidence(ledger, lineage, {"loan": loan}, path))
            root = bytes.fromhex(cp.root[2:])
            runs = []
            for _ in range(20):
                seconds, verdict = _timed(lambda: verify_evidence(path, root))
                assert verdict.ok, verdict
                runs.append(seconds)
        finally:
            ledger.close()
    return {
        "trail_entries": cp.size,
        "loan_entries": written.entries,
        "bundle_bytes": written.size,
        "proof_hashes_per_entry": (cp.size - 1).bit_length(),
        "write_s": round(write_s, 2),
        "verify_ms_median": round(statistics.median(runs) * 1000, 2),
        "checkpoint_gas": cp.gas_used,
    }


# --------------------------------------------------------------------------- gas


_HASHES = {"sha256": "sha256(abi.encodePacked({}))", "keccak": "keccak256(abi.encodePacked({}))"}


def tree_variant(source: str, hash_name: str) -> str:
    """AuditTrail with a deposit-contract-style incremental tree updated by `append`."""
    h = _HASHES[hash_name].format
    source = source.replace(
        "    mapping(uint64 size => bytes32 root) private _roots;\n",
        "    mapping(uint64 size => bytes32 root) private _roots;\n"
        "    bytes32[64] private _branch;\n",
    )
    source = source.replace(
        "        _head = entryHash;\n",
        "        _head = entryHash;\n        _extend(seq, entryHash);\n",
    )
    extend = f"""
    function _extend(uint64 size, bytes32 entryHash) private {{
        bytes32 node = {h("bytes1(0x00), entryHash")};
        for (uint256 h = 0; ; ++h) {{
            if (size & 1 == 1) {{ _branch[h] = node; return; }}
            node = {h("bytes1(0x01), _branch[h], node")};
            size >>= 1;
        }}
    }}
"""
    end = source.rindex("}")
    return source[:end] + extend + source[end:]


def bench_gas() -> dict[str, Any]:
    """The gas snapshot with the trail as committed and with an incremental tree."""
    import shutil

    import bench.gas as gas
    from ledger.solidity import artifacts, compiler

    committed = gas.measure()
    variants: dict[str, dict[str, int]] = {}
    saved = (compiler.ROOT, compiler.CONTRACTS_DIR, artifacts.ARTIFACTS_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(compiler.CONTRACTS_DIR, Path(tmp) / "contracts")
        source = (compiler.CONTRACTS_DIR / "AuditTrail.sol").read_text(encoding="utf-8")
        try:
            for name in _HASHES:
                (Path(tmp) / "contracts" / "AuditTrail.sol").write_text(tree_variant(source, name))
                compiler.ROOT, compiler.CONTRACTS_DIR = Path(tmp), Path(tmp) / "contracts"
                compiler.build(Path(tmp) / name)
                artifacts.ARTIFACTS_DIR = Path(tmp) / name
                artifacts.load.cache_clear()
                artifacts.manifest.cache_clear()
                variants[name] = gas.measure()
        finally:
            compiler.ROOT, compiler.CONTRACTS_DIR, artifacts.ARTIFACTS_DIR = saved
            artifacts.load.cache_clear()
            artifacts.manifest.cache_clear()
    ops = [k for k in committed if not k.startswith("size.")]
    return {
        "checkpoint": _checkpoint_gas(),
        "committed": {k: committed[k] for k in ops},
        "tree_delta": {name: {k: v[k] - committed[k] for k in ops} for name, v in variants.items()},
        "size": {"committed": committed["size.AuditTrail"]}
        | {name: v["size.AuditTrail"] for name, v in variants.items()},
    }


def _checkpoint_gas() -> dict[str, int]:
    """Gas of an auditor's first checkpoint and of a later one."""
    from ledger.audit.checkpoint import publish

    with tempfile.TemporaryDirectory() as tmp:
        ledger = _home(Path(tmp) / "home", None)
        try:
            first = publish(ledger.as_signer("auditor"))
            fill(ledger, 10)
            later = publish(ledger.as_signer("auditor"))
        finally:
            ledger.close()
    return {"first": first.gas_used, "later": later.gas_used}


# --------------------------------------------------------------------------- report


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Audit benchmarks", ""]
    if "offline" in results:
        o = results["offline"]
        lines += [
            f"## Offline verification of an exported bundle ({o['entries']:,} entries, "
            f"{o['bundle_bytes'] / 1e6:,.0f} MB, {o['checkpoints']} checkpoints)",
            "",
            "| how | wall s | CPU s | entries/s (wall) |",
            "|---|---:|---:|---:|",
            f"| one process | {o['one_process_s']} | {o['one_process_cpu_s']} | "
            f"{o['one_process_entries_per_s']:,} |",
            f"| {o['cpus']} processes | {o['all_cpus_s']} | {o['all_cpus_cpu_s']} | "
            f"{o['all_cpus_entries_per_s']:,} |",
            f"| the four hashes alone, one process | | | {o['hashing_alone_entries_per_s']:,} |",
            "",
            f"Load average during the run: {o['load_average']} ({o['cpus']} CPUs, shared).",
            "",
            "CPU µs per entry, by step: "
            + ", ".join(f"{k} {v}" for k, v in o["us_per_entry"].items()),
            "",
        ]
    if "chain" in results:
        lines += ["## Verification from the chain", "", "| chain | entries | seconds | entries/s |"]
        lines += ["|---|---:|---:|---:|"]
        for name, c in results["chain"].items():
            lines.append(
                f"| {name} | {c['entries']:,} | {c['verify_s']} | {c['entries_per_s']:,} |"
            )
        lines.append("")
    if "evidence" in results:
        e = results["evidence"]
        lines += [
            "## Evidence bundle",
            "",
            f"A loan with {e['loan_entries']} entries in a trail of {e['trail_entries']:,}: "
            f"{e['bundle_bytes']:,} bytes ({e['proof_hashes_per_entry']} proof hashes per "
            f"entry), verified offline in {e['verify_ms_median']} ms (median of 20); "
            f"written in {e['write_s']} s; the checkpoint transaction used "
            f"{e['checkpoint_gas']:,} gas.",
            "",
        ]
    if "gas" in results:
        g = results["gas"]
        lines += ["## Gas: incremental tree in `append` vs published checkpoints", ""]
        cp = g["checkpoint"]
        lines += [
            f"An auditor's checkpoint transaction: {cp['first']:,} gas the first time, "
            f"{cp['later']:,} after; nothing is added to `append`.",
            "",
        ]
        lines += [
            "| operation | committed | + sha256 tree | + keccak tree |",
            "|---|---:|---:|---:|",
        ]
        for k, v in g["committed"].items():
            lines.append(
                f"| {k} | {v:,} | {g['tree_delta']['sha256'][k]:+,} | "
                f"{g['tree_delta']['keccak'][k]:+,} |"
            )
        lines.append("")
    return "\n".join(lines)


def measure() -> dict[str, Any]:
    """`make bench`'s part: a tenth of the sizes, the gas comparison left to its own run."""
    return run(["offline", "chain", "evidence"], quick=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sections = [a for a in args if not a.startswith("--")] or [
        "offline",
        "chain",
        "evidence",
        "gas",
    ]
    run(sections, quick="--quick" in args)


def run(sections: list[str], *, quick: bool) -> dict[str, Any]:
    div = 10 if quick else 1
    results: dict[str, Any] = {}
    for section in sections:
        print(f"[{section}] …", flush=True)
        if section == "offline":
            results["offline"] = bench_offline(SCALE["offline"] // div)
        elif section == "chain":
            results["chain"] = bench_chain(SCALE["chain"] // div)
        elif section == "evidence":
            results["evidence"] = bench_evidence(SCALE["evidence"] // div, SCALE["loan_entries"])
        elif section == "gas":
            results["gas"] = bench_gas()
        else:
            raise SystemExit(f"unknown section {section!r}")
        print(json.dumps(results[section], indent=1), flush=True)
    OUT.mkdir(exist_ok=True)
    saved = OUT / "audit.json"
    # A run of some sections keeps the others' last results.
    merged = {
        **(json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}),
        **results,
    }
    saved.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    (OUT / "audit.md").write_text(markdown(merged), encoding="utf-8")
    print(f"wrote {OUT / 'audit.json'} and {OUT / 'audit.md'}")
    return results


if __name__ == "__main__":
    main()
