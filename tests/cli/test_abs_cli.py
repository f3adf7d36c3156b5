"""Securitisation through the CLI (DESIGN §6.5, §6.9): a deal from creation to claims, the
rules refused with their numbers (exit 1), bad input caught before sending (exit 2)."""

from __future__ import annotations

from ledger.home import Home
from tests.cli.test_receivable_loan_cli import _loan, js, ok


def _setup(run, home: Home) -> int:  # type: ignore[no-untyped-def]
    lid, _ = _loan(run, home)  # bank senior 560,000 at 5%, microloan junior 240,000
    ok(run, home, "--as", "supplier1", "loan", "accept", str(lid), "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "disburse", str(lid))
    ok(run, home, "account", "new", "inv", "--dev")
    ok(run, home, "member", "add", "inv", "--role", "INVESTOR")
    ok(run, home, "--as", "issuer", "cny", "mint", "inv", "1,000,000")
    return lid


def _balance(run, home: Home, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(js(run, home, "cny", "balance", name)["balance_fen"])


def test_a_deal_through_the_cli(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    lid = _setup(run, home)
    create = ["--as", "microloan", "abs", "create", "--tranche", f"{lid}:1",
              "--servicer", "tech", "--period-days", "30"]  # fmt: skip
    r = run(home, *create, "--class", "A:180,000:5%", "--class", "J:60,000", "--fee", "51")
    assert r.code == 1 and "max_servicing_fee_bps" in r.err and "0.51%" in r.err
    r = run(home, *create, "--class", "A:180,000:5%", "--class", "J:59,999.99", "--fee", "0.5%")
    assert r.code == 1 and "ClassesNotPool" in r.err and "239,999.99" in r.err
    made = js(
        run, home, *create, "--class", "A:180,000:5%", "--class", "J:60,000", "--fee", "50bps"
    )
    deal = str(made["id"])
    assert made["pool_fen"] == 24_000_000 and made["retention_fen"] == 1_200_000
    r = run(home, "--as", "microloan", "tranche", "offer", str(lid), "1", "--to", "bank",
            "--price", "1")  # fmt: skip
    assert r.code == 1 and "TrancheInDeal" in r.err
    ok(run, home, "--as", "inv", "abs", "subscribe", deal, "A", "180,000")
    ok(run, home, "--as", "microloan", "abs", "subscribe", deal, "J", "60,000")
    before = _balance(run, home, "microloan")
    ok(run, home, "--as", "microloan", "abs", "close", deal)
    assert _balance(run, home, "microloan") - before == 24_000_000  # at par, in one transaction
    shown = js(run, home, "abs", "show", deal)
    assert shown["status"] == "CLOSED"
    assert shown["originator_junior_fen"] >= shown["retention_fen"] == 1_200_000
    r = run(home, "--as", "microloan", "abs", "transfer", deal, "J", "inv", "48,000.01")
    assert r.code == 1 and "min_retention_bps" in r.err and "11,999.99" in r.err
    ok(run, home, "chain", "advance", "30")
    ok(run, home, "--as", "supplier1", "loan", "repay", str(lid), "100,000")
    cash = js(run, home, "abs", "show", deal)["cash_fen"]
    assert cash > 0
    tech = _balance(run, home, "tech")
    out = js(run, home, "--as", "tech", "abs", "distribute", deal)["distribution"]
    assert out["cash_fen"] == cash and out["fee_fen"] > 0
    assert _balance(run, home, "tech") - tech == out["fee_fen"]
    assert out["principal_fen"][1] == 0 and out["excess_fen"] == 0  # the junior waits for A
    assert out["fee_fen"] + sum(out["coupon_fen"]) + sum(out["principal_fen"]) == cash
    before = _balance(run, home, "inv")
    claimed = js(run, home, "--as", "inv", "abs", "claim", deal)
    assert _balance(run, home, "inv") - before == claimed["total_fen"]
    a_paid = out["coupon_fen"][0] + out["principal_fen"][0]
    assert a_paid - claimed["total_fen"] in (0, 1)  # at most one fen waits per holder
    shown = js(run, home, "abs", "show", deal)
    unclaimed = sum(k["paid_fen"] - k["claimed_fen"] for k in shown["classes"])
    assert shown["account_balance_fen"] == shown["cash_fen"] + unclaimed
    assert [d["id"] for d in js(run, home, "abs", "list")] == [made["id"]]


def test_bad_abs_input_sends_nothing(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    base = ["abs", "create", "--servicer", "tech"]
    for args, words in (
        ([*base, "--tranche", "1", "--class", "A:1", "--class", "J:1"], "LOAN:INDEX"),
        ([*base, "--tranche", "1:0", "--class", "A", "--class", "J:1"], "NAME:AMT"),
        ([*base, "--tranche", "1:0", "--class", "A:1", "--class", "J:1:5%"], "no coupon"),
        ([*base, "--tranche", "1:0", "--class", "A:1"], "at least 2"),
        (["abs", "create", "--servicer", "tech", "--class", "A:1", "--class", "J:1"], "tranches"),
        (["abs", "create", "1", "--servicer", "tech", "--class", "A:1", "--class", "J:1"], "LOAN"),
        (["abs", "subscribe", "x", "A", "1"], "deal id"),
        (["abs", "write-off", "1", "3"], "LOAN:INDEX"),
    ):
        r = run(home, *args)
        assert r.code == 2, (args, r.err)
        assert words in r.err, (args, r.err)
    assert run(home, "abs", "list", "--json").out.strip() == "[]"
