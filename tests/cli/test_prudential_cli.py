"""DESIGN §6.6 through the CLI: licences, the online cap and the related-group limit at the
fen, regulators' jurisdiction, policy by a national regulator only, look-through reports by
region, and the tech fee going to the pool after a default."""

from __future__ import annotations

import json
from typing import Any

from ledger.home import Home

DUE = "2099-12-31"


def ok(run, home: Home, *args: str) -> str:  # type: ignore[no-untyped-def]
    r = run(home, *args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def js(run, home: Home, *args: str) -> Any:  # type: ignore[no-untyped-def]
    return json.loads(ok(run, home, *args, "--json"))


def refused(run, home: Home, *args: str) -> str:  # type: ignore[no-untyped-def]
    r = run(home, *args)
    assert r.code == 1, (args, r.out, r.err)
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    return str(r.err)


def receivable(run, home: Home, holder: str, amount: str, doc: str) -> str:  # type: ignore[no-untyped-def]
    issued = js(
        run,
        home,
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        holder,
        "--amount",
        amount,
        "--due",
        DUE,
        "--doc-hash",
        "0x" + doc * 32,
    )
    ok(run, home, "--as", holder, "receivable", "accept", str(issued["id"]))
    return str(issued["id"])


def propose(run, home: Home, lender: str, borrower: str, rid: str, amount: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        "--as",
        lender,
        "loan",
        "propose",
        "--borrower",
        borrower,
        "--receivable",
        rid,
        "--tranche",
        f"{lender}:junior:{amount}",
        "--rate",
        "10%",
        "--days",
        "30",
        "--fee-share",
        "20%",
        "--tech",
        "tech",
    ]


def open_loan(run, home: Home, lender: str, borrower: str, rid: str, amount: str) -> str:  # type: ignore[no-untyped-def]
    loan = str(js(run, home, *propose(run, home, lender, borrower, rid, amount))["id"])
    ok(run, home, "--as", borrower, "loan", "accept", loan, "--yes")
    ok(run, home, "--as", lender, "loan", "fund", loan)
    ok(run, home, "--as", lender, "loan", "disburse", loan)
    return loan


def test_prudential_rules_and_supervisory_scope_end_to_end(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    for name in ("reg-gz", "reg-sz", "online", "person", "lender2", "firm1", "firm2", "x"):
        ok(run, home, "account", "new", name, "--dev")

    # Regulators are admitted by the national regulator, not by the operator.
    ok(run, home, "--as", "regulator", "member", "add", "reg-gz", "--role", "REGULATOR",
       "--region", "440100")  # fmt: skip
    ok(run, home, "--as", "regulator", "member", "add", "reg-sz", "--role", "REGULATOR",
       "--region", "440300")  # fmt: skip
    err = refused(run, home, "member", "add", "x", "--role", "REGULATOR")
    assert "RegulatorOnlyByRegulator" in err

    # An online micro-lender whose licence has expired cannot lend.
    ok(run, home, "member", "add", "online", "--role", "LENDER", "--net-assets", "100,000,000",
       "--licence", "ONLINE_MICROLOAN:2020-12-31", "--region", "440100")  # fmt: skip
    shown = js(run, home, "member", "show", "online")
    assert shown["licence"] == "ONLINE_MICROLOAN" and shown["region"] == "440100"
    ok(run, home, "member", "add", "person", "--role", "SUPPLIER", "--region", "440100",
       "--kind", "INDIVIDUAL")  # fmt: skip
    ok(run, home, "--as", "issuer", "cny", "mint", "online", "1,000,000")
    rid = receivable(run, home, "person", "400,000", "a1")
    err = refused(run, home, *propose(run, home, "online", "person", rid, "300,000"))
    assert "LicenceExpired" in err and "online" in err

    # The licence is renewed by Guangzhou's regulator; Shenzhen's has no say there.
    err = refused(run, home, "--as", "reg-sz", "member", "set", "online", "--licence",
                  "ONLINE_MICROLOAN:2099-12-31")  # fmt: skip
    assert "OutsideJurisdiction" in err and "440300" in err and "440100" in err
    ok(run, home, "--as", "reg-gz", "member", "set", "online", "--licence",
       "ONLINE_MICROLOAN:2099-12-31")  # fmt: skip
    assert js(run, home, "member", "show", "online")["region"] == "440100"

    # The online cap for an individual: 300,000.00 at the fen, one fen more refused.
    err = refused(run, home, *propose(run, home, "online", "person", rid, "300,000.01"))
    assert "OnlineCapExceeded" in err and "¥300,000.01" in err and "¥300,000.00" in err
    person_loan = open_loan(run, home, "online", "person", rid, "300,000")

    # The related-group limit: 15% of 10,000,000.00 = 1,500,000.00 over firm1 and firm2.
    ok(run, home, "member", "add", "lender2", "--role", "LENDER", "--net-assets", "10,000,000",
       "--licence", "BANK", "--region", "440300")  # fmt: skip
    for firm in ("firm1", "firm2"):
        ok(run, home, "member", "add", firm, "--role", "SUPPLIER", "--region", "440300",
           "--kind", "SME", "--group", "Delta Group")  # fmt: skip
    ok(run, home, "--as", "issuer", "cny", "mint", "lender2", "2,000,000")
    r1 = receivable(run, home, "firm1", "1,200,000", "b1")
    r2 = receivable(run, home, "firm2", "600,000", "b2")
    firm1_loan = open_loan(run, home, "lender2", "firm1", r1, "1,000,000")
    err = refused(run, home, *propose(run, home, "lender2", "firm2", r2, "500,000.01"))
    assert "RelatedGroupAboveLimit" in err and "'Delta Group'" in err
    assert "¥1,500,000.01" in err and "¥1,500,000.00" in err
    firm2_loan = open_loan(run, home, "lender2", "firm2", r2, "500,000")

    # Suspensions inside the jurisdiction only.
    err = refused(run, home, "--as", "reg-sz", "member", "suspend", "person")
    assert "OutsideJurisdiction" in err
    ok(run, home, "--as", "reg-gz", "member", "suspend", "person")
    ok(run, home, "--as", "reg-gz", "member", "reinstate", "person")

    # Policy is national.
    err = refused(run, home, "--as", "reg-gz", "policy", "set", "max_apr_bps", "20%")
    assert "NationalRegulatorOnly" in err
    ok(run, home, "--as", "regulator", "policy", "set", "max_apr_bps", "23%")

    # Look-through reports: each region sees exactly its borrowers' loans.
    assert js(run, home, "report", "--region", "440300")["loan_ids"] == [
        int(firm1_loan),
        int(firm2_loan),
    ]
    assert js(run, home, "report", "--region", "440100")["loan_ids"] == [int(person_loan)]
    assert js(run, home, "report", "--region", "440000")["loan_ids"] == sorted(
        int(i) for i in (person_loan, firm1_loan, firm2_loan)
    )
    gz = js(run, home, "--as", "reg-gz", "report")  # a city regulator's default scope
    assert gz["region"] == "440100" and gz["loan_ids"] == [int(person_loan)]
    assert gz["ledger"]["loan_book"]["count"]["value"] == 1
    r = run(home, "--as", "reg-gz", "report", "--region", "440300")
    assert r.code == 2 and "outside the jurisdiction" in r.err

    # The tech fee goes to the pool once the tech partner's loans' NPL is above 2.5%.
    ok(run, home, "chain", "advance", "121")
    # (past due now: Guangzhou's alerts name the region)
    alerts = js(run, home, "report", "--region", "440100")["alerts"]
    assert alerts and all(a["subject"]["region"] == "440100" for a in alerts)
    assert all(a["message"].startswith("[region 440100] ") for a in alerts)
    ok(run, home, "--as", "lender2", "loan", "default", firm1_loan)
    tech_before = js(run, home, "cny", "balance", "tech")["balance_fen"]
    pool_before = js(run, home, "pool", "show")["balance_fen"]
    ok(run, home, "--as", "issuer", "cny", "mint", "person", "400,000")
    ok(run, home, "--as", "person", "loan", "repay", person_loan, "400,000")
    settled = js(run, home, "loan", "show", person_loan)["settlements"][-1]
    interest_paid = sum(settled["interest_fen"]) + settled["provision_fen"]
    assert settled["fee_fen"] == 0 and settled["provision_fen"] > 0
    # the fee share (20%) of the interest paid went to the pool (no provision share here)
    assert settled["provision_fen"] == interest_paid * 2_000 // 10_000
    assert js(run, home, "cny", "balance", "tech")["balance_fen"] == tech_before
    assert js(run, home, "pool", "show")["balance_fen"] == pool_before + settled["provision_fen"]
