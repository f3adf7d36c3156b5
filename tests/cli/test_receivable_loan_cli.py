"""Receivables and loans through the CLI: JSON contract, index versus chain, CSV import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.home import Home

DUE = "2099-12-31"


def ok(run, home: Home, *args: str) -> str:  # type: ignore[no-untyped-def]
    r = run(home, *args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def js(run, home: Home, *args: str):  # type: ignore[no-untyped-def]
    return json.loads(ok(run, home, *args, "--json"))


def test_receivable_lifecycle_prints_the_json_contract(run, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF- an invoice")
    issued = js(
        run,
        home,
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "¥1,000,000.00",
        "--due",
        DUE,
        "--doc",
        str(invoice),
    )
    assert set(issued) == {"id", "tx"} and issued["tx"].startswith("0x")
    rid = str(issued["id"])
    ok(run, home, "--as", "supplier1", "receivable", "accept", rid)
    split = js(run, home, "--as", "supplier1", "receivable", "split", rid, "600,000", "400,000")
    assert split["id"] == issued["id"] and len(split["children"]) == 2
    keep, passed = (str(c) for c in split["children"])
    ok(run, home, "--as", "supplier1", "receivable", "transfer", passed, "--to", "supplier2")
    ok(run, home, "--as", "core", "receivable", "pay", passed, "--amount", "100,000")
    shown = js(run, home, "receivable", "show", passed)
    assert set(shown) >= {
        "id",
        "debtor",
        "holder",
        "face_value_fen",
        "paid_fen",
        "maturity_at",
        "status",
        "doc_hash",
        "parent",
        "children",
        "pledged_to",
    }
    assert shown["face_value_fen"] == 40_000_000 and shown["paid_fen"] == 10_000_000
    assert shown["parent"] == issued["id"] and shown["status"] == "ACTIVE"
    from eth_utils import keccak

    assert shown["doc_hash"] == "0x" + keccak(invoice.read_bytes()).hex()
    # list reads the index; each object equals what show prints from the same index
    listed = js(run, home, "receivable", "list")
    assert [r["id"] for r in listed] == [issued["id"], int(keep), int(passed)]
    assert listed[2] == shown
    held = js(run, home, "receivable", "list", "--holder", "supplier2")
    assert [r["id"] for r in held] == [int(passed)]
    assert js(run, home, "receivable", "list", "--status", "SPLIT")[0]["id"] == issued["id"]
    # the human view shows the lineage tree
    text = ok(run, home, "receivable", "show", keep)
    assert "lineage" in text and f"→ #{keep}" in text


def test_a_second_receivable_on_the_same_document_is_refused(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    args = [
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "10",
        "--due",
        DUE,
        "--doc-hash",
        "0x" + "ab" * 32,
    ]
    ok(run, home, *args)
    r = run(home, *args)
    assert r.code == 1 and "DocumentAlreadyUsed" in r.err and "#1" in r.err


def test_the_index_is_rebuilt_when_missing_and_matches_the_chain(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    ok(
        run,
        home,
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "10",
        "--due",
        DUE,
        "--doc-hash",
        "0x" + "cd" * 32,
    )
    before = js(run, home, "receivable", "list")
    for f in (home.root / "index").glob("*"):
        f.unlink()
    assert js(run, home, "receivable", "list") == before


def _loan(run, home: Home) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    rid = js(
        run,
        home,
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "1,000,000",
        "--due",
        DUE,
        "--doc-hash",
        "0x" + "ef" * 32,
    )["id"]
    ok(run, home, "--as", "supplier1", "receivable", "accept", str(rid))
    terms = [
        "--borrower",
        "supplier1",
        "--receivable",
        str(rid),
        "--tranche",
        "bank:senior:560,000:5%",
        "--tranche",
        "microloan:junior:240,000",
        "--rate",
        "10%",
        "--days",
        "90",
        "--fee-share",
        "20%",
        "--provision-share",
        "10%",
        "--tech",
        "tech",
    ]
    quote = js(run, home, "--as", "microloan", "loan", "quote", *terms)
    assert quote["disclosure"]["APR (borrower rate, simple, ACT/365)"] == "10.00%"
    proposed = js(run, home, "--as", "microloan", "loan", "propose", *terms)
    assert set(proposed) == {"id", "tx", "terms_hash"}
    return proposed["id"], rid


def test_loan_lifecycle_through_the_cli_and_show_matches_list(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    lid, rid = _loan(run, home)
    r = run(home, "--as", "supplier1", "loan", "accept", str(lid))
    assert r.code == 2 and "--yes" in r.err  # not a terminal: no silent acceptance
    ok(run, home, "--as", "supplier1", "loan", "accept", str(lid), "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "disburse", str(lid))
    ok(run, home, "chain", "advance", "30")
    repaid = js(run, home, "--as", "supplier1", "loan", "repay", str(lid), "100,000")
    s = repaid["settlement"]
    assert s["amount_fen"] == 10_000_000 and s["source"] == "REPAYMENT"
    assert (
        s["fee_fen"]
        + s["provision_fen"]
        + sum(s["interest_fen"])
        + sum(s["principal_fen"])
        + s["residual_fen"]
        == 10_000_000
    )
    shown = js(run, home, "loan", "show", str(lid))
    for key in (
        "id",
        "status",
        "borrower",
        "principal_fen",
        "outstanding_fen",
        "interest_due_fen",
        "rate_bps",
        "disbursed_at",
        "maturity_at",
        "tranches",
        "settlements",
    ):
        assert key in shown
    assert shown["tranches"][0]["class"] == "senior" and shown["tranches"][1]["class"] == "junior"
    listed = js(run, home, "loan", "list")
    assert len(listed) == 1
    # The index (with the reference model for interest) says exactly what the chain says.
    assert listed[0] == shown
    assert js(run, home, "receivable", "show", str(rid))["pledged_to"] == lid
    text = ok(run, home, "loan", "show", str(lid))
    assert "settlements" in text and "REPAYMENT" in text


def test_pool_and_policy_commands(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    ok(run, home, "--as", "bank", "pool", "contribute", "1,000")
    pool = js(run, home, "pool", "show")
    assert pool["balance_fen"] == 100_000 and pool["contributions_fen"] == 100_000
    assert js(run, home, "policy", "show")["max_apr_bps"] == 2400
    r = run(home, "--as", "bank", "policy", "set", "max_apr_bps", "20%")
    assert r.code == 1 and "MissingRole" in r.err
    ok(run, home, "--as", "regulator", "policy", "set", "max_apr_bps", "20%")
    assert js(run, home, "policy", "show")["max_apr_bps"] == 2000
    assert run(home, "--as", "regulator", "policy", "set", "max_apr", "20%").code == 2
    assert run(home, "--as", "regulator", "policy", "set", "default_days", "ninety").code == 2


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "invoices.csv"
    path.write_text("supplier,amount,due,doc\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_import_issues_every_row_and_reports_each(run, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "waybill.txt").write_text("waybill 7")
    path = _csv(
        tmp_path,
        [
            f'supplier1,"1,000.00",{DUE},0x{"11" * 32}',
            f"supplier2,250.5,{DUE},waybill.txt",
            f"supplier1,¥3,{DUE},0x{'22' * 32}",
        ],
    )
    results = js(run, home, "--as", "core", "receivable", "import", str(path))
    assert [r["id"] for r in results] == [1, 2, 3]
    assert [r["amount_fen"] for r in results] == [100_000, 25_050, 300]
    assert all(r["tx"] and r["error"] is None for r in results)


@pytest.mark.parametrize(
    ("row", "phrase"),
    [
        (f"supplier1,1.001,{DUE},0x{'33' * 32}", "more than two decimals"),
        (f"nobody,1,{DUE},0x{'33' * 32}", "no local account named 'nobody'"),
        (f"bank,1,{DUE},0x{'33' * 32}", "not an active SUPPLIER"),
        ("supplier1,1,2001-01-01,0x" + "33" * 32, "is not after"),
        (f"supplier1,1,{DUE},missing.pdf", "cannot be read"),
    ],
)
def test_csv_import_checks_every_row_before_sending_anything(  # type: ignore[no-untyped-def]
    run, home: Home, tmp_path: Path, row: str, phrase: str
) -> None:
    good = f"supplier1,5,{DUE},0x{'44' * 32}"
    path = _csv(tmp_path, [good, row])
    before = js(run, home, "chain", "info")["block"]
    r = run(home, "--as", "core", "receivable", "import", str(path))
    assert r.code == 2 and r.err.count("\n") == 1
    assert "row 3" in r.err and phrase in r.err and "nothing sent" in r.err
    assert js(run, home, "chain", "info")["block"] == before


def test_csv_import_refuses_a_document_used_twice_in_the_file(
    run,
    home: Home,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    row = f"supplier1,5,{DUE},0x{'55' * 32}"
    r = run(home, "--as", "core", "receivable", "import", str(_csv(tmp_path, [row, row])))
    assert r.code == 2 and "document also on row 2" in r.err


def test_a_staged_loan_through_the_cli_draws_and_lapses_and_list_matches_show(
    run, home: Home
) -> None:  # type: ignore[no-untyped-def]
    rid = js(
        run,
        home,
        *("--as", "core", "receivable", "issue", "--to", "supplier1", "--amount", "500,000"),
        *("--due", DUE, "--doc-hash", "0x" + "5a" * 32),
    )["id"]
    ok(run, home, "--as", "supplier1", "receivable", "accept", str(rid))
    terms = [
        *("--borrower", "supplier1", "--receivable", str(rid)),
        *("--tranche", "bank:senior:140,000:5%", "--tranche", "microloan:junior:60,000"),
        *("--rate", "10%", "--days", "90", "--payee", "supplier2:80,000"),
        *("--payee", "supplier2:70,000:1", "--payee", "core:50,000:2"),
        *("--stage-day", "1:30", "--stage-day", "2:60"),
    ]
    lid = js(run, home, "--as", "microloan", "loan", "propose", *terms)["id"]
    ok(run, home, "--as", "supplier1", "loan", "accept", str(lid), "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "fund", str(lid))
    out = ok(run, home, "--as", "microloan", "loan", "disburse", str(lid))
    assert "¥80,000.00 to supplier2" in out and "¥120,000.00 stays undrawn" in out
    r = run(home, "--as", "supplier1", "loan", "draw", str(lid), "1")
    assert r.code == 1 and "StageNotYetDue" in r.err and r.err.count("\n") == 1
    ok(run, home, "chain", "advance", "30")
    drawn = js(run, home, "--as", "supplier1", "loan", "draw", str(lid), "1")
    assert drawn["stage"]["principal_fen"] == [4_900_000, 2_100_000]
    # A tranche moves (a sale, a deal) only once every stage is drawn: refused, exit 1.
    offer = ("--as", "bank", "tranche", "offer", str(lid), "0", "--to", "microloan")
    r = run(home, *offer, "--price", "100,000")
    assert r.code == 1 and "StagesNotDrawn" in r.err and r.err.count("\n") == 1
    assert "(1 undrawn or lapsed)" in r.err
    ok(run, home, "chain", "advance", "10")
    ok(run, home, "--as", "supplier2", "loan", "repay", str(lid), "10,000")
    shown = js(run, home, "loan", "show", str(lid))
    assert [(s["stage"], s["day"], s["amount_fen"], s["lapsed"]) for s in shown["stages"]] == [
        (0, 0, 8_000_000, False),
        (1, 30, 7_000_000, False),
        (2, 60, 5_000_000, False),
    ]
    assert shown["stages"][1]["drawn_at"] is not None and shown["stages"][2]["drawn_at"] is None
    assert shown["undrawn_fen"] == 5_000_000
    # The index (the reference model replaying draws and receipts) says what the chain says.
    (listed,) = [v for v in js(run, home, "loan", "list") if v["id"] == lid]
    assert listed == shown
    ok(run, home, "chain", "advance", "60")
    lapsed = js(run, home, "--as", "bank", "loan", "lapse", str(lid))
    assert lapsed["stages"] == [2] and lapsed["refunds_fen"] == [3_500_000, 1_500_000]
    shown = js(run, home, "loan", "show", str(lid))
    assert shown["stages"][2]["lapsed"] and shown["undrawn_fen"] == 0
    r = run(home, *offer, "--price", "100,000")
    assert r.code == 1 and "(1 undrawn or lapsed)" in r.err
    (listed,) = [v for v in js(run, home, "loan", "list") if v["id"] == lid]
    assert listed == shown
