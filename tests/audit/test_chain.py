"""Verification from the embedded chain: checkpoints, incremental runs, rewritten history,
export, evidence and consistency, on the demo's story."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from ledger.audit import trail as audit
from ledger.audit.bundle import export
from ledger.audit.checkpoint import consistency, publish
from ledger.audit.evidence import lineage_of, verify_evidence, write_evidence
from ledger.audit.offline import verify_bundle
from ledger.audit.state import load_verified, save_verified
from ledger.audit.trail import Trusted, checkpoints, verify_trail
from ledger.engine.client import Ledger
from ledger.engine.setup import initialise
from ledger.errors import ContractRefusal, Refused
from ledger.home import Home
from tests.audit.conftest import LOAN
from tests.conftest import seed


def _kinds(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()[1:]]


def _more(ledger: Ledger, count: int) -> None:
    core = ledger.as_signer("core")
    for _ in range(count):
        core.transfer(ledger.resolve("supplier1"), 1)


def test_the_story_verifies_from_the_chain_and_its_checkpoint_is_recomputed(story: Home) -> None:
    with Ledger.open(story) as ledger:
        verdict = verify_trail(ledger)
        (published,) = checkpoints(ledger)
        seq, head = ledger.audit_head()
    assert verdict.ok, verdict
    assert (verdict.entries, verdict.seq, verdict.head) == (seq, seq, head)
    assert verdict.checkpoints == 1 and published.size == seq
    assert verdict.root == "0x" + published.root.hex()
    assert verdict.summary().keys() == {"ok", "entries", "head", "first_bad_seq", "problem"}


def test_reading_the_chain_in_small_windows_gives_the_same_verdict(
    story: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(story) as ledger:
        whole = verify_trail(ledger)
        monkeypatch.setattr(audit, "WINDOW_BLOCKS", 2)
        windowed = verify_trail(ledger)
    assert windowed == whole and windowed.ok


def test_a_wrong_checkpoint_fails_verification_at_the_size_it_claims(story: Home) -> None:
    with Ledger.open(story) as ledger:
        _more(ledger, 2)
        size = ledger.audit_head()[0]
        ledger.as_signer("auditor")._send(
            "AuditTrail", "checkpoint", size, b"\x42" * 32, gas=200_000
        )
        verdict = verify_trail(ledger)
    assert not verdict.ok
    assert verdict.first_bad_seq == size
    assert "checkpoint" in (verdict.problem or "") and "0x" + "42" * 32 in (verdict.problem or "")


def test_only_an_active_auditor_publishes_and_checkpoints_only_grow(story: Home) -> None:
    with Ledger.open(story) as ledger:
        trail = ledger.contract("AuditTrail").functions
        latest, _ = trail.latestCheckpoint().call()
        _more(ledger, 1)
        head = ledger.audit_head()[0]
        with pytest.raises(ContractRefusal) as exc:
            ledger._send("AuditTrail", "checkpoint", head, b"\1" * 32, gas=200_000)
        assert exc.value.name == "MissingRole"
        auditor = ledger.as_signer("auditor")
        for size in (latest, head + 1):
            with pytest.raises(ContractRefusal) as exc:
                auditor._send("AuditTrail", "checkpoint", size, b"\1" * 32, gas=200_000)
            assert exc.value.name == "CheckpointOutOfRange"
        done = publish(auditor)
        assert done.size == head
        assert trail.latestCheckpoint().call() == [head, bytes.fromhex(done.root[2:])]
        assert trail.checkpointRoot(head).call() == bytes.fromhex(done.root[2:])
        with pytest.raises(Refused, match="already covers"):
            publish(auditor)


def test_incremental_verification_checks_only_new_entries_and_continues_the_tree(
    story: Home,
) -> None:
    with Ledger.open(story) as ledger:
        first = verify_trail(ledger)
        save_verified(ledger, first)
        _more(ledger, 3)
        publish(ledger.as_signer("auditor"))
        trusted = load_verified(ledger)
        assert trusted is not None and trusted.seq == first.seq
        later = verify_trail(ledger, start=trusted, pinned=trusted)
        full = verify_trail(ledger)
    assert later.ok and later.entries == 3 and later.checkpoints == 1
    assert (later.seq, later.head, later.root) == (full.seq, full.head, full.root)


def test_an_incremental_run_from_a_head_the_chain_does_not_hold_fails_there(story: Home) -> None:
    with Ledger.open(story) as ledger:
        seq = ledger.audit_head()[0]
        verdict = verify_trail(ledger, start=Trusted(seq - 2, b"\7" * 32))
    assert not verdict.ok and verdict.first_bad_seq == seq - 2
    assert "rewritten" in (verdict.problem or "")


def _rebuild(home: Home) -> None:
    """The same home, keys and contract addresses, on a chain rebuilt from genesis."""
    shutil.rmtree(home.chain_file.parent)
    home.deployment_file("embedded").unlink()
    time.sleep(1.1)  # a new genesis second: the rebuilt entries' times differ
    initialise(home, dev=True)
    with Ledger.open(home) as ledger:
        seed(ledger)
        _more(ledger, 5)


def test_a_rebuilt_chain_fails_against_the_head_verified_before(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    verified = run(home, "audit", "verify", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"]
    seq = json.loads(verified.out)["entries"]
    _rebuild(home)
    full = run(home, "audit", "verify", "--json")
    assert full.code == 1
    result = json.loads(full.out)
    assert result["ok"] is False and result["first_bad_seq"] <= seq
    assert "rewritten" in result["problem"] and full.err.count("\n") == 1
    incremental = run(home, "audit", "verify", "--from-seq", str(seq))
    assert incremental.code == 1 and f"entry #{seq}" in incremental.err
    assert "rewritten" in incremental.err


def test_from_seq_needs_a_trusted_head_and_a_wrong_one_fails(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    missing = run(home, "audit", "verify", "--from-seq", "3")
    assert missing.code == 2 and "--trusted-head" in missing.err
    wrong = run(home, "audit", "verify", "--from-seq", "3", "--trusted-head", "0x" + "ab" * 32)
    assert wrong.code == 1 and "entry #3" in wrong.err
    assert run(home, "audit", "verify").code == 0
    saved = json.loads((home.root / "audit" / "embedded.json").read_text())
    again = run(home, "audit", "verify", "--from-seq", str(saved["seq"]), "--json")
    assert again.code == 0 and json.loads(again.out)["entries"] == 0
    other = run(home, "audit", "verify", "--from-seq", "2")
    assert other.code == 2 and f"up to #{saved['seq']}" in other.err


def test_an_exported_bundle_verifies_offline_to_the_chains_verdict(
    story: Home, tmp_path: Path
) -> None:
    with Ledger.open(story) as ledger:
        chain = verify_trail(ledger)
        done = export(ledger, tmp_path / "trail.jsonl")
    offline = verify_bundle(done.path, jobs=1)
    assert done.entries == chain.entries and done.head == chain.head
    assert offline.ok and offline.block == 0
    assert (offline.entries, offline.head, offline.root, offline.checkpoints) == (
        chain.entries,
        chain.head,
        chain.root,
        chain.checkpoints,
    )


def test_loan_evidence_holds_the_loan_and_its_collaterals_lineage(
    story: Home, tmp_path: Path
) -> None:
    with Ledger.open(story) as ledger:
        lineage = lineage_of(ledger, loan=LOAN)
        written = write_evidence(ledger, lineage, {"loan": LOAN}, tmp_path / "e.jsonl")
        trail = ledger.contract("AuditTrail").functions
        root = bytes(trail.checkpointRoot(written.checkpoint.size).call())
    assert lineage.loans == {LOAN} and lineage.receivables == {1, 2}
    kinds = _kinds(written.path)
    for kind in (
        "RECEIVABLE_ISSUED",
        "RECEIVABLE_SPLIT",
        "LOAN_PROPOSED",
        "RECEIVABLES_PLEDGED",
        "LOAN_ACCEPTED",
        "LOAN_DISBURSED",
        "RECEIVABLE_PAID",
        "RECEIVABLES_RELEASED",
        "TRANCHE_OFFERED",  # the story's sale of the senior tranche: who holds it now
        "TRANCHE_SOLD",
    ):
        assert kind in kinds
    assert kinds.count("LOAN_FUNDED") == 2 and kinds.count("LOAN_SETTLED") == 2
    assert "RECEIVABLE_TRANSFERRED" not in kinds  # #3 went to supplier2: not this loan's
    start = time.perf_counter()
    verdict = verify_evidence(written.path, root)
    assert time.perf_counter() - start < 0.5
    assert verdict.ok and verdict.anchored and verdict.entries == written.entries


def test_receivable_evidence_holds_its_whole_lineage_and_the_pledges_naming_it(
    story: Home, tmp_path: Path
) -> None:
    with Ledger.open(story) as ledger:
        root_lineage = lineage_of(ledger, receivable=1)
        child_lineage = lineage_of(ledger, receivable=3)
        whole = write_evidence(ledger, root_lineage, {"receivable": 1}, tmp_path / "r1.jsonl")
        child = write_evidence(ledger, child_lineage, {"receivable": 3}, tmp_path / "r3.jsonl")
    assert root_lineage.receivables == {1, 2, 3} and child_lineage.receivables == {1, 3}
    assert {"RECEIVABLES_PLEDGED", "RECEIVABLE_TRANSFERRED"} <= set(_kinds(whole.path))
    assert "RECEIVABLES_PLEDGED" not in _kinds(child.path)
    assert verify_evidence(whole.path).ok and verify_evidence(child.path).ok


def test_evidence_needs_a_checkpoint_covering_the_subject(home: Home, tmp_path: Path) -> None:
    with Ledger.open(home) as ledger:
        core = ledger.as_signer("core")
        now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
        rid = core.receivables.issue(ledger.resolve("supplier1"), 100, now + 86_400, b"\5" * 32).id
        target = tmp_path / "e.jsonl"
        with pytest.raises(Refused, match="no checkpoint has been published"):
            write_evidence(ledger, lineage_of(ledger, receivable=rid), {"receivable": rid}, target)
        first = publish(ledger.as_signer("auditor"))
        ledger.as_signer("supplier1").receivables.accept(rid)
        with pytest.raises(Refused, match="after the latest checkpoint"):
            write_evidence(ledger, lineage_of(ledger, receivable=rid), {"receivable": rid}, target)
        older = write_evidence(
            ledger,
            lineage_of(ledger, receivable=rid),
            {"receivable": rid},
            target,
            checkpoint_size=first.size,
        )
    assert older.entries == 1 and verify_evidence(target).ok
    assert not target.with_name(f".{target.name}.tmp").exists()


def test_two_checkpoints_are_proved_consistent_from_the_chain(story: Home) -> None:
    with Ledger.open(story) as ledger:
        (first,) = checkpoints(ledger)
        _more(ledger, 5)
        second = publish(ledger.as_signer("auditor"))
        proof = consistency(ledger, first.size)
        same = consistency(ledger, second.size, second.size)
    assert proof.ok and (proof.old_size, proof.new_size) == (first.size, second.size)
    assert proof.new_root == second.root and 0 < len(proof.proof) <= 2 * second.size.bit_length()
    assert same.ok and same.proof == []
