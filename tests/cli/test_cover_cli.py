"""Cover layers through the CLI (DESIGN §6.2, §6.9), compared with the reference model.

Three layers — a guarantee with a margin, an insurance without, the core enterprise's
repurchase with a margin — on worked example 1's loan; a repayment, a default, a partial
honour, a breach after the due date, a late honour after the breach, and the pledged
receivable paid late. Every figure `loan show --json` and `cover show --json` print must
equal `ledger.reference.cover` run on the same times. Then the refusals: a tech partner's
layer above `max_tech_cover_bps`, layers leaving lenders under 20%, malformed `--cover`.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.home import Home
from ledger.reference import cover as model
from ledger.reference import waterfall

DAY = 86_400


def ok(run: Any, home: Home, *args: str) -> str:
    r = run(home, *args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def js(run: Any, home: Home, *args: str) -> Any:
    return json.loads(ok(run, home, *args, "--json"))


PROPOSE = [
    "--as",
    "microloan",
    "loan",
    "propose",
    "--borrower",
    "supplier1",
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


def setup(run: Any, home: Home) -> str:
    for name in ("guarantor", "insurer"):
        ok(run, home, "member", "add", name, "--role", "GUARANTOR")
        ok(run, home, "--as", "issuer", "cny", "mint", name, "1,000,000")
    ok(run, home, "--as", "issuer", "cny", "mint", "supplier1", "100,000")
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
        "600,000",
        "--due",
        "2099-12-31",
        "--doc-hash",
        "0x" + "44" * 32,
    )["id"]
    ok(run, home, "--as", "supplier1", "receivable", "accept", str(rid))
    return str(rid)


def test_three_layers_margins_partial_and_late_honours_and_a_late_receivable_payment(
    run: Any, home: Home
) -> None:
    rid = setup(run, home)
    loan = str(
        js(
            run,
            home,
            *PROPOSE,
            "--receivable",
            rid,
            "--cover",
            "GUARANTEE:guarantor:40%:300,000:50,000",
            "--cover",
            "INSURANCE:insurer:30%:1,000,000",
            "--cover",
            "REPURCHASE:core:20%:100,000:10,000",
        )["id"]
    )
    ok(run, home, "--as", "supplier1", "loan", "accept", loan, "--yes")
    refused = run(home, "--as", "bank", "loan", "fund", loan)
    assert refused.code == 1 and "CoverNotAccepted" in refused.err
    accepted = js(run, home, "--as", "guarantor", "cover", "accept", loan)
    assert (accepted["layers"], accepted["margin_fen"]) == ([1], 5_000_000)
    ok(run, home, "--as", "insurer", "cover", "accept", loan)
    ok(run, home, "--as", "core", "cover", "accept", loan)
    ok(run, home, "--as", "bank", "loan", "fund", loan)
    ok(run, home, "--as", "microloan", "loan", "fund", loan)
    ok(run, home, "--as", "microloan", "loan", "disburse", loan)
    ok(run, home, "chain", "advance", "30")
    ok(run, home, "--as", "supplier1", "loan", "repay", loan, "100,000")
    ok(run, home, "--as", "core", "pool", "contribute", "20,000")
    ok(run, home, "chain", "advance", "150")
    pool = js(run, home, "pool", "show")["balance_fen"]
    ok(run, home, "--as", "bank", "loan", "default", loan)
    honoured = js(run, home, "--as", "guarantor", "cover", "honour", loan, "100,000")
    assert (honoured["layer"], honoured["paid_fen"]) == (1, 10_000_000)
    early = run(home, "--as", "bank", "cover", "breach", loan, "2")
    assert early.code == 1 and "ClaimNotDue" in early.err
    ok(run, home, "chain", "advance", "31")
    breached = js(run, home, "--as", "bank", "cover", "breach", loan, "insurer")
    assert breached["layer"] == 2
    # The breach is an alert and a line in the insurer's figures while the claim is unpaid.
    report = js(run, home, "report")
    (alert,) = [a for a in report["alerts"] if a["rule"] == "cover_breached"]
    assert (alert["subject"]["loan"], alert["subject"]["layer"]) == (int(loan), 2)
    assert alert["subject"]["provider"]["name"] == "insurer"
    assert alert["numbers"]["unpaid_fen"] == breached["unpaid_fen"] > 0
    insurer = next(
        p for p in report["ledger"]["cover"]["providers"] if p["provider"]["name"] == "insurer"
    )
    assert insurer["breached_count"]["value"] == 1
    assert insurer["breached_unpaid_fen"]["value"] == breached["unpaid_fen"]
    ok(run, home, "--as", "insurer", "cover", "honour", loan)  # late, after the breach: all
    ok(run, home, "--as", "guarantor", "cover", "honour", loan)  # the rest of its claim
    ok(run, home, "--as", "core", "receivable", "pay", rid)
    shown = js(run, home, "loan", "show", loan)

    # The model on the same times.
    terms = waterfall.LoanTerms.for_term(
        [
            waterfall.Tranche("bank", True, 56_000_000, 500),
            waterfall.Tranche("microloan", False, 24_000_000),
        ],
        rate_bps=1000,
        disbursed_at=shown["disbursed_at"],
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
    )
    s = shown["settlements"]
    assert [x["source"] for x in s] == [
        "REPAYMENT",
        "COVER",
        "COVER",
        "COVER",
        "COVER",
        "RECEIVABLE",
    ]
    loan_state = waterfall.LoanState.initial(terms)
    cover = model.CoverState.initial(
        [
            model.Layer("guarantor", "GUARANTEE", 4000, 30_000_000, 5_000_000),
            model.Layer("insurer", "INSURANCE", 3000, 100_000_000, 0),
            model.Layer("core", "REPURCHASE", 2000, 10_000_000, 1_000_000),
        ]
    )
    _, loan_state, cover = model.recover(terms, loan_state, cover, 10_000_000, s[0]["at"])
    dflt, loan_state, cover = model.declare_default(terms, loan_state, cover, pool, s[1]["at"])
    assert s[1]["principal_fen"] == list(dflt.receipt.principal_fen)
    h1, loan_state, cover = model.honour(terms, loan_state, cover, 0, 10_000_000, s[2]["at"])
    cover = model.breach(loan_state, cover, 1, s[3]["at"] - 1)
    h2, loan_state, cover = model.honour(
        terms, loan_state, cover, 1, cover.unpaid_fen(1), s[3]["at"]
    )
    h3, loan_state, cover = model.honour(
        terms, loan_state, cover, 0, cover.unpaid_fen(0), s[4]["at"]
    )
    for got, h in zip(s[2:5], (h1, h2, h3), strict=True):
        assert (got["amount_fen"], got["principal_fen"]) == (h.amount_fen, list(h.principal_fen))
    # the tech partner's book (DESIGN §6.6), as the late payment leaves it: repaid, so the
    # fee is paid
    covered = sum(dflt.receipt.principal_fen)
    book = waterfall.TechBook().disbursed(80_000_000)
    book = book.repaid(sum(s[0]["principal_fen"]), defaulted=False)
    book = book.default(covered, dflt.principal_fen - covered)
    for h in (h1, h2, h3):
        book = book.repaid(sum(h.principal_fen), defaulted=True)
    last, loan_state, cover = model.recover(terms, loan_state, cover, 60_000_000, s[5]["at"])
    book, withheld = book.settled(
        sum(last.settlement.principal_fen), defaulted=True, threshold_bps=250
    )
    assert not withheld
    assert (
        s[5]["fee_fen"],
        s[5]["provision_fen"],
        s[5]["interest_fen"],
        s[5]["principal_fen"],
        s[5]["cover_fen"],
        s[5]["residual_fen"],
    ) == (
        last.settlement.fee_fen,
        last.settlement.provision_fen,
        list(last.settlement.interest_fen),
        list(last.settlement.principal_fen),
        last.reimbursed_fen,
        last.settlement.residual_fen,
    )
    assert last.reimbursed_fen > 0
    assert shown["status"] == ("REPAID" if loan_state.repaid else "DEFAULTED")
    layers = shown["cover"]
    assert [(x["kind"], x["share_bps"], x["cap_fen"], x["margin_fen"]) for x in layers] == [
        ("GUARANTEE", 4000, 30_000_000, 5_000_000),
        ("INSURANCE", 3000, 100_000_000, 0),
        ("REPURCHASE", 2000, 10_000_000, 1_000_000),
    ]
    assert [(x["owed_fen"], x["paid_fen"], x["reimbursed_fen"], x["breached"]) for x in layers] == [
        (o, p, r, b)
        for o, p, r, b in zip(
            cover.owed_fen, cover.paid_fen, cover.reimbursed_fen, cover.breached, strict=True
        )
    ]
    assert all(x["due_at"] == dflt.due_at for x in layers)
    # The repurchase was never honoured beyond its margin: its claim lapsed at principal 0.
    assert layers[2]["unpaid_fen"] == 0 and layers[2]["lapsed"] is True
    view = js(run, home, "cover", "show", loan)
    assert (view["pool_paid_fen"], view["pool_reimbursed_fen"]) == (
        cover.pool_paid_fen,
        cover.pool_reimbursed_fen,
    )
    assert "GUARANTEE" in ok(run, home, "cover", "show", loan)
    # The report's cover figures: each claim paid (margin and honours) and paid back as the
    # model says, the repurchase lapsed; the insurer's breach no longer an alert (paid).
    report = js(run, home, "report")
    claims = report["ledger"]["cover"]["claims"]
    assert [
        (c["layer"], c["kind"], c["provider"]["name"], c["status"], c["breached_at"] is not None)
        for c in claims
    ] == [
        (1, "GUARANTEE", "guarantor", "paid", False),
        (2, "INSURANCE", "insurer", "paid", True),
        (3, "REPURCHASE", "core", "lapsed", False),
    ]
    assert [
        (c["owed_fen"]["value"], c["paid_fen"]["value"], c["reimbursed_fen"]["value"])
        for c in claims
    ] == list(zip(cover.owed_fen, cover.paid_fen, cover.reimbursed_fen, strict=True))
    assert [c["unpaid_fen"]["value"] for c in claims] == [0, 0, 0]
    assert "cover_breached" not in {a["rule"] for a in report["alerts"]}
    pool_figures = report["ledger"]["pool"]
    assert pool_figures["cover_reimbursed_fen"]["value"] == cover.pool_reimbursed_fen
    audit = js(run, home, "audit", "verify")
    assert audit["ok"] is True


def test_over_cap_tech_layers_and_low_lender_retention_are_refused(run: Any, home: Home) -> None:
    rid = setup(run, home)
    over = run(home, *PROPOSE, "--receivable", rid, "--cover", "GUARANTEE:tech:25%:100,000")
    assert over.code == 1
    assert "TechCoverAboveCap" in over.err and "25.00%" in over.err and "20.00%" in over.err
    low = run(
        home,
        *PROPOSE,
        "--receivable",
        rid,
        "--cover",
        "GUARANTEE:guarantor:50%:500,000",
        "--cover",
        "INSURANCE:insurer:31%:500,000",
    )
    assert low.code == 1
    assert "LenderRetentionTooLow" in low.err and "19.00%" in low.err
    for spec in ("GUARANTEE:guarantor:40%", "LOAN:guarantor:40%:1", "GUARANTEE:guarantor:40%:1:2"):
        bad = run(home, *PROPOSE, "--receivable", rid, "--cover", spec)
        assert bad.code == 2 and bad.err.count("\n") == 1, (spec, bad.err)
    assert "Traceback" not in over.err + low.err
