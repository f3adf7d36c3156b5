"""Tranche sales through the CLI (DESIGN §6.3, §6.9): delivery versus payment, refusals
with their rule and numbers (exit 1), bad input caught before sending (exit 2)."""

from __future__ import annotations

import json

from ledger.engine.client import Ledger
from ledger.home import Home
from tests.cli.test_receivable_loan_cli import _loan, js, ok


def _disbursed(run, home: Home) -> int:  # type: ignore[no-untyped-def]
    lid, _ = _loan(run, home)  # bank senior 560,000 at 5%, microloan junior 240,000
    ok(run, home, "--as", "supplier1", "loan", "accept", str(lid), "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "disburse", str(lid))
    for name, roles, assets in (
        ("fund2", "LENDER", "10,000,000"),
        ("tech2", "TECH_PARTNER", "10,000,000"),
    ):
        ok(run, home, "account", "new", name, "--dev")
        extra = ["--role", "LENDER"] if name == "tech2" else []
        licence = ["--licence", "BANK:2030-12-31", "--region", "440100"]  # §6.6: may lend
        ok(run, home, "member", "add", name, "--role", roles, *extra, "--net-assets", assets,
           *licence)  # fmt: skip
        ok(run, home, "--as", "issuer", "cny", "mint", name, "1,000,000")
    return lid


def _balance(run, home: Home, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(js(run, home, "cny", "balance", name)["balance_fen"])


def test_a_sale_through_the_cli_pays_the_seller_and_the_buyer_gets_the_next_receipt(  # type: ignore[no-untyped-def]
    run, home: Home
) -> None:
    lid = _disbursed(run, home)
    ok(run, home, "chain", "advance", "10")
    offered = js(
        run, home, "--as", "bank", "tranche", "offer", str(lid), "0", "--to", "fund2",
        "--price", "550,000", "--days", "3",
    )  # fmt: skip
    assert offered["status"] == "OPEN" and offered["price_fen"] == 55_000_000
    listed = js(run, home, "tranche", "list")
    assert [(o["loan_id"], o["index"], o["status"]) for o in listed] == [(lid, 0, "OPEN")]
    bank, fund2 = _balance(run, home, "bank"), _balance(run, home, "fund2")
    sale = js(run, home, "--as", "fund2", "tranche", "buy", str(lid), "0")
    assert sale["price_fen"] == 55_000_000 and sale["outstanding_fen"] == 56_000_000
    assert _balance(run, home, "bank") - bank == 55_000_000
    assert fund2 - _balance(run, home, "fund2") == 55_000_000
    # delivery versus payment: the price and the tranche moved in the one transaction
    with Ledger.open(home) as ledger:
        paid = ledger.events(
            "DigitalRMB", "Transfer", argument_filters={"to": ledger.resolve("bank")}
        )
        moved = ledger.events("LoanBook", "TrancheTransferred", argument_filters={"loanId": lid})
        sold_in = {"0x" + bytes(e["transactionHash"]).hex() for e in moved}
        price = [e for e in paid if "0x" + bytes(e["transactionHash"]).hex() == sale["tx"]]
        assert sold_in == {sale["tx"]}
        assert [(e["args"]["from"], e["args"]["value"]) for e in price] == [
            (ledger.resolve("fund2"), 55_000_000)
        ]
    shown = js(run, home, "loan", "show", str(lid))
    fund2_address = js(run, home, "cny", "balance", "fund2")["address"]
    assert shown["tranches"][0]["lender"] == fund2_address
    assert js(run, home, "loan", "list")[0] == shown  # the index follows the sale
    assert js(run, home, "tranche", "list")[0]["status"] == "SOLD"
    before = _balance(run, home, "fund2"), _balance(run, home, "bank")
    repaid = js(run, home, "--as", "supplier1", "loan", "repay", str(lid), "100,000")
    s = repaid["settlement"]
    assert s["interest_fen"][0] + s["principal_fen"][0] > 0
    assert _balance(run, home, "fund2") - before[0] == s["interest_fen"][0] + s["principal_fen"][0]
    assert _balance(run, home, "bank") == before[1]


def test_the_cli_refuses_the_floor_a_tech_partner_and_an_exposure_over_the_limit(  # type: ignore[no-untyped-def]
    run, home: Home
) -> None:
    lid = _disbursed(run, home)
    r = run(home, "--as", "microloan", "tranche", "offer", str(lid), "1", "--to", "fund2",
            "--price", "100,000")  # fmt: skip
    assert r.code == 1 and r.err.count("\n") == 1
    assert "min_originator_share_bps" in r.err and "30.00%" in r.err
    assert "would hold ¥0.00 of loan" in r.err and "¥800,000.00" in r.err
    r = run(home, "--as", "bank", "tranche", "offer", str(lid), "0", "--to", "tech2",
            "--price", "100,000")  # fmt: skip
    assert r.code == 1 and r.err.count("\n") == 1
    assert "TechPartnerCannotFund" in r.err and "tech2" in r.err
    # fund2's limit: 10% of 5,000,000.00 = 500,000.00, below the 560,000.00 outstanding
    ok(run, home, "--as", "bank", "tranche", "offer", str(lid), "0", "--to", "fund2",
       "--price", "500,000")  # fmt: skip
    ok(run, home, "--as", "regulator", "member", "set-net-assets", "fund2", "5,000,000")
    before = _balance(run, home, "fund2")
    r = run(home, "--as", "fund2", "tranche", "buy", str(lid), "0")
    assert r.code == 1 and r.err.count("\n") == 1 and "max_single_borrower_bps" in r.err
    assert "560,000.00" in r.err and "500,000.00" in r.err
    assert _balance(run, home, "fund2") == before


def test_bad_tranche_input_sends_nothing(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    for args, words in (
        (["tranche", "offer", "1", "-1", "--to", "bank", "--price", "1"], "tranche index"),
        (["tranche", "offer", "1", "0", "--to", "bank", "--price", "0"], "is zero"),
        (["tranche", "offer", "1", "0", "--to", "bank", "--price", "1", "--days", "0"], "1 to 365"),
        (["tranche", "offer", "x", "0", "--to", "bank", "--price", "1"], "loan id"),
        (["tranche", "buy", "1", "one"], "tranche index"),
    ):
        r = run(home, *args)
        assert r.code == 2, (args, r.err)
        assert words in r.err, (args, r.err)
    assert json.loads(run(home, "tranche", "list", "--json").out) == []
