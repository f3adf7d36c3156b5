"""`liandai consent …` and `liandai credit file`: the whole story from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.home import Home


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.code == 0, result.err
    return str(result.out)


def _queries(run, home: Home) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    entries = json.loads(_ok(run(home, "audit", "show", "--kind", "CREDIT_QUERIED", "--json")))
    return list(entries)


def _loan_seven_days_late(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    _ok(run(home, "--as", "issuer", "cny", "mint", "supplier1", "400,000"))
    _ok(
        run(
            home,
            *("--as", "core", "receivable", "issue", "--to", "supplier1"),
            *("--amount", "500,000", "--due", "2035-01-01", "--doc-hash", "0x" + "ab" * 32),
        )
    )
    _ok(run(home, "--as", "supplier1", "receivable", "accept", "1"))
    _ok(
        run(
            home,
            *("--as", "bank", "loan", "propose", "--borrower", "supplier1", "--receivable", "1"),
            *("--tranche", "bank:junior:300,000", "--rate", "10%", "--days", "30"),
        )
    )
    _ok(run(home, "--as", "supplier1", "loan", "accept", "1", "--yes"))
    _ok(run(home, "--as", "bank", "loan", "fund", "1"))
    _ok(run(home, "--as", "bank", "loan", "disburse", "1"))
    _ok(run(home, "chain", "advance", "37"))
    _ok(run(home, "--as", "supplier1", "loan", "repay", "1", "310,000"))


def test_no_consent_then_consent_then_revoked_from_the_command_line(
    run,  # type: ignore[no-untyped-def]
    home: Home,
    tmp_path: Path,
) -> None:
    _loan_seven_days_late(run, home)
    out = tmp_path / "supplier1.jsonl"

    refused = run(home, "--as", "bank", "credit", "file", "supplier1", str(out))
    assert refused.code == 1 and refused.err.count("\n") == 1
    assert "ConsentNotGranted" in refused.err and "supplier1 never granted bank" in refused.err
    assert not out.exists() and _queries(run, home) == []
    assert json.loads(_ok(run(home, "--as", "supplier1", "consent", "log", "--json"))) == []

    granted = json.loads(
        _ok(
            run(
                home,
                *("--as", "supplier1", "consent", "grant", "bank", "--days", "30"),
                *("--purpose", "working-capital loan", "--json"),
            )
        )
    )
    assert granted["state"] == "LIVE" and granted["purpose"] == "working-capital loan"
    assert granted["expires_at"] - granted["granted_at"] == 30 * 86_400

    written = json.loads(
        _ok(run(home, "--as", "bank", "credit", "file", "supplier1", str(out), "--json"))
    )
    assert out.exists() and written["bytes"] == out.stat().st_size
    (loan,) = written["file"]["loans"]
    assert [r["days_past_due"] for r in loan["repayments"]] == [7]
    assert written["file"]["summary"]["worst_days_past_due"] == 7
    (entry,) = _queries(run, home)
    assert entry["seq"] == written["query_seq"] and entry["tx"] == written["tx"]
    log = json.loads(_ok(run(home, "consent", "log", "supplier1", "--json")))
    assert [(q["purpose"], q["tx"]) for q in log] == [("working-capital loan", written["tx"])]
    human = _ok(run(home, "--as", "supplier1", "consent", "log"))
    assert "working-capital loan" in human and "LIVE" in human

    checked = json.loads(_ok(run(None, "audit", "verify", "--evidence", str(out), "--json")))
    assert checked["ok"] and checked["subject"] == {"credit_query": entry["seq"]}
    root = json.loads(_ok(run(home, "audit", "root", str(entry["seq"]), "--json")))["root"]
    anchored = run(None, "audit", "verify", "--evidence", str(out), "--trusted-root", root)
    assert anchored.code == 0 and "the root is the trusted root" in anchored.out

    lines = out.read_text().splitlines()
    out.write_text(
        "\n".join([lines[0].replace('"days_past_due": 7', '"days_past_due": 0')])
        + "\n"
        + "\n".join(lines[1:])
        + "\n"
    )
    tampered = run(None, "audit", "verify", "--evidence", str(out))
    assert tampered.code == 1 and "does NOT verify" in tampered.err
    assert "days_past_due (shown 0, recomputed 7)" in tampered.err

    _ok(run(home, "--as", "supplier1", "consent", "revoke", "bank"))
    again = tmp_path / "again.jsonl"
    revoked = run(home, "--as", "bank", "credit", "file", "supplier1", str(again))
    assert revoked.code == 1 and "ConsentWasRevoked" in revoked.err
    assert not again.exists() and len(_queries(run, home)) == 1


def test_an_expired_consent_refuses_the_query(run, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ok(run(home, "--as", "supplier1", "consent", "grant", "bank", "--days", "1"))
    _ok(run(home, "chain", "advance", "2"))
    out = tmp_path / "f.jsonl"
    expired = run(home, "--as", "bank", "credit", "file", "supplier1", str(out))
    assert expired.code == 1 and "ConsentExpired" in expired.err and "expired at" in expired.err
    assert not out.exists() and _queries(run, home) == []


def test_only_a_lender_queries_and_bad_input_sends_nothing(
    run,  # type: ignore[no-untyped-def]
    home: Home,
    tmp_path: Path,
) -> None:
    _ok(run(home, "--as", "supplier1", "consent", "grant", "bank"))
    head = json.loads(_ok(run(home, "chain", "info", "--json")))["audit_seq"]
    not_lender = run(home, "--as", "supplier2", "credit", "file", "supplier1", str(tmp_path / "x"))
    assert not_lender.code == 1 and "MissingRole" in not_lender.err
    cases = [
        ("--as", "supplier1", "consent", "grant", "bank", "--days", "0"),
        ("--as", "supplier1", "consent", "grant", "bank", "--days", "3651"),
        ("--as", "supplier1", "consent", "grant", "bank", "--purpose", "x" * 33),
        ("--as", "supplier1", "consent", "grant", "nobody"),
        ("--as", "supplier1", "consent", "revoke", "0x1234"),
        ("--as", "bank", "credit", "file", "supplier1", str(tmp_path / "no" / "dir.jsonl")),
        ("--as", "bank", "credit", "file", "supplier1", str(tmp_path)),
        ("--as", "bank", "credit", "file", "nobody", str(tmp_path / "y.jsonl")),
        ("consent", "log", "nobody"),
    ]
    for args in cases:
        result = run(home, *args)
        assert result.code == 2, (args, result.err)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert json.loads(_ok(run(home, "chain", "info", "--json")))["audit_seq"] == head
    assert not (tmp_path / "y.jsonl").exists()
