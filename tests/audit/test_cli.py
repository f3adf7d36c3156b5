"""`liandai audit …`: the JSON contract, exit codes and one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from ledger.home import Home
from tests.audit.conftest import LOAN


def _json(result) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def test_verify_json_keeps_the_design_keys_and_remembers_the_head(run, story: Home) -> None:  # type: ignore[no-untyped-def]
    result = _json(run(story, "audit", "verify", "--json"))
    assert set(result) == {"ok", "entries", "head", "first_bad_seq", "problem"}
    assert result["ok"] and result["first_bad_seq"] is None
    saved = json.loads((story.root / "audit" / "embedded.json").read_text())
    assert (saved["seq"], saved["entry_hash"]) == (result["entries"], result["head"])
    human = run(story, "audit", "verify")
    assert human.code == 0 and "1 published checkpoint(s) recomputed and matched" in human.out


def test_export_then_verify_the_bundle_offline(run, story: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "trail.jsonl"
    exported = _json(run(story, "audit", "export", str(target), "--json"))
    assert exported["entries"] > 0 and exported["bytes"] == target.stat().st_size
    offline = _json(run(None, "audit", "verify", "--bundle", str(target), "--json"))
    assert offline["ok"] and offline["head"] == exported["head"] and offline["checkpoints"] == 1
    lines = target.read_text().splitlines()
    lines[5] = lines[5].replace('"MEMBER_ADMITTED"', '"MEMBER_SUSPENDED"')
    target.write_text("\n".join(lines) + "\n")
    bad = run(None, "audit", "verify", "--bundle", str(target))
    assert bad.code == 1 and bad.err.count("\n") == 1
    assert "bundle does NOT verify: entry #5: entryHash does not recompute" in bad.err


def test_evidence_is_written_and_verified_against_a_trusted_root(
    run,  # type: ignore[no-untyped-def]
    story: Home,
    tmp_path: Path,
) -> None:
    target = tmp_path / "loan.jsonl"
    written = _json(run(story, "audit", "evidence", "--loan", str(LOAN), str(target), "--json"))
    assert written["subject"] == {"loan": LOAN} and written["entries"] > 10
    root = written["checkpoint_root"]
    checked = _json(
        run(None, "audit", "verify", "--evidence", str(target), "--trusted-root", root, "--json")
    )
    assert checked["ok"] and checked["anchored"] and checked["checkpoint_root"] == root
    unanchored = run(None, "audit", "verify", "--evidence", str(target))
    assert unanchored.code == 0 and "compare" in unanchored.out
    other = run(
        None, "audit", "verify", "--evidence", str(target), "--trusted-root", "0x" + "1" * 64
    )
    assert other.code == 1 and "not the trusted root" in other.err


def test_bad_audit_requests_exit_2_with_one_line(run, story: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n")
    cases = [
        ("audit", "verify", "--bundle", "a", "--evidence", "b"),
        ("audit", "verify", "--trusted-root", "0x" + "00" * 32),
        ("audit", "verify", "--trusted-head", "0x" + "00" * 32),
        ("audit", "verify", "--bundle", str(junk), "--from-seq", "3"),
        ("audit", "verify", "--jobs", "2"),
        ("audit", "verify", "--from-seq", "1", "--trusted-head", "0x12"),
        ("audit", "verify", "--bundle", str(junk)),
        ("audit", "verify", "--evidence", str(junk)),
        ("audit", "verify", "--bundle", str(tmp_path / "missing.jsonl")),
        ("audit", "evidence", str(tmp_path / "e.jsonl")),
        ("audit", "evidence", "--loan", "1", "--receivable", "1", str(tmp_path / "e.jsonl")),
        ("audit", "evidence", "--loan", "1", "--checkpoint", "5", str(tmp_path / "e.jsonl")),
        ("audit", "show", "--kind", "NOPE"),
        ("audit", "consistency", "3"),
    ]
    for args in cases:
        result = run(story, *args)
        assert result.code == 2, (args, result.err)
        assert result.err.count("\n") == 1 and result.err.startswith("liandai: "), args


def test_refusals_exit_1_with_one_line(run, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    unknown = run(home, "audit", "evidence", "--receivable", "1", str(tmp_path / "e"))
    assert unknown.code == 2 and unknown.err == "liandai: no receivable #1\n"
    issue = ["receivable", "issue", "--to", "supplier1", "--amount", "1,000", "--due", "2099-12-31"]
    assert run(home, "--as", "core", *issue, "--doc-hash", "0x" + "5" * 64).code == 0
    no_checkpoint = run(home, "audit", "evidence", "--receivable", "1", str(tmp_path / "e"))
    assert no_checkpoint.code == 1 and "no checkpoint has been published" in no_checkpoint.err
    not_auditor = run(home, "audit", "checkpoint")
    assert not_auditor.code == 1 and "MissingRole" in not_auditor.err
    published = _json(run(home, "--as", "auditor", "audit", "checkpoint", "--json"))
    assert published["size"] > 0 and published["gas_used"] > 0
    again = run(home, "--as", "auditor", "audit", "checkpoint")
    assert again.code == 1 and "already covers" in again.err
    unknown = run(home, "audit", "evidence", "--loan", "99", str(tmp_path / "e"))
    assert unknown.code == 2 and unknown.err == "liandai: no loan #99\n"


def test_consistency_prints_a_proof_between_two_checkpoints(run, story: Home) -> None:  # type: ignore[no-untyped-def]
    first = _json(run(story, "audit", "verify", "--json"))["entries"]
    assert run(story, "--as", "core", "cny", "transfer", "supplier1", "1").code == 0
    assert run(story, "--as", "auditor", "audit", "checkpoint").code == 0
    proof = _json(run(story, "audit", "consistency", str(first), "--json"))
    assert proof["ok"] and proof["old_size"] == first and proof["new_size"] == first + 1
    assert all(len(p) == 66 for p in proof["proof"])
    human = run(story, "audit", "consistency", str(first))
    assert human.code == 0 and f"extends checkpoint #{first}" in human.out


def test_show_is_a_timeline_filtered_by_subject_and_kind(run, story: Home) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(run(story, "audit", "show", "--kind", "loan_settled", "--json").out)
    # the story's loan #1 settles twice, its staged loan #2 once
    assert [(r["kind"], r["subject"]) for r in rows] == [
        ("LOAN_SETTLED", str(LOAN)),
        ("LOAN_SETTLED", str(LOAN)),
        ("LOAN_SETTLED", "2"),
    ]
    assert rows[0]["event"]["name"] == "LoanBook.LoanSettled"
    assert rows[0]["event"]["fields"]["amountFen"] == 20_000_00
    loan = json.loads(run(story, "audit", "show", "--subject", str(LOAN), "--json").out)
    assert {r["subject"] for r in loan} == {str(LOAN)}
    member = json.loads(run(story, "audit", "show", "--subject", "supplier2", "--json").out)
    assert member and all(int(r["subject"]) == int(member[0]["subject"]) for r in member)
    last = json.loads(run(story, "audit", "show", "--last", "2", "--json").out)
    assert len(last) == 2
    table = run(story, "audit", "show", "--subject", str(LOAN))
    assert table.code == 0 and "LOAN_SETTLED" in table.out and "¥20,000.00" in table.out


def test_verify_export_and_evidence_go_through_a_running_node(
    run,  # type: ignore[no-untyped-def]
    story: Home,
    tmp_path: Path,
) -> None:
    direct = _json(run(story, "audit", "verify", "--json"))
    node = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--home", str(story.root), "node", "--port", "0"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert node.stdout is not None and "serving" in node.stdout.readline()
        assert _json(run(story, "chain", "info", "--json"))["backend"] == "node"
        through = _json(
            run(story, "audit", "verify", "--from-seq", str(direct["entries"]), "--json")
        )
        exported = _json(run(story, "audit", "export", str(tmp_path / "t.jsonl"), "--json"))
        evidence = tmp_path / "e.jsonl"
        _json(run(story, "audit", "evidence", "--loan", str(LOAN), str(evidence), "--json"))
    finally:
        node.send_signal(signal.SIGTERM)
        node.communicate(timeout=30)
    assert through["ok"] and through["entries"] == 0
    assert exported["head"] == direct["head"]
    assert _json(run(None, "audit", "verify", "--evidence", str(evidence), "--json"))["ok"]
