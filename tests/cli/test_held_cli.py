"""DESIGN §6.1 through the CLI: suspended payees are held their shares, claimed later.

The senior lender and the tech partner are suspended while a repayment and the pledged
receivable's payment settle; both settlements go through, their shares are held to the fen
(`cny balance --json` shows `held_fen`), `cny claim-held` is refused while they are
suspended and pays exactly the held amount once they are reinstated.
"""

from __future__ import annotations

from ledger.home import Home
from tests.cli.test_receivable_loan_cli import _loan, js, ok


def _balance(run, home: Home, name: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    view = js(run, home, "cny", "balance", name)
    assert set(view) == {"account", "address", "balance_fen", "held_fen"}
    return view  # type: ignore[no-any-return]


def test_suspended_senior_and_tech_partner_are_held_their_shares_and_claim_them_back(  # type: ignore[no-untyped-def]
    run, home: Home
) -> None:
    lid, rid = _loan(run, home)  # bank senior 560,000 at 5%, microloan junior; fee 20% to tech
    ok(run, home, "--as", "supplier1", "loan", "accept", str(lid), "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "fund", str(lid))
    ok(run, home, "--as", "microloan", "loan", "disburse", str(lid))
    ok(run, home, "chain", "advance", "30")
    ok(run, home, "--as", "regulator", "member", "suspend", "bank")
    ok(run, home, "--as", "regulator", "member", "suspend", "tech")
    before = {n: _balance(run, home, n) for n in ("bank", "tech", "microloan")}
    assert before["bank"]["held_fen"] == before["tech"]["held_fen"] == 0

    repaid = js(run, home, "--as", "supplier1", "loan", "repay", str(lid), "100,000")
    ok(run, home, "chain", "advance", "10")
    ok(run, home, "--as", "core", "receivable", "pay", str(rid), "--amount", "300,000")
    shown = js(run, home, "loan", "show", str(lid))
    settlements = shown["settlements"]
    assert [s["source"] for s in settlements] == ["REPAYMENT", "RECEIVABLE"]
    assert settlements[0] == repaid["settlement"]
    senior = sum(s["interest_fen"][0] + s["principal_fen"][0] for s in settlements)
    junior = sum(s["interest_fen"][1] + s["principal_fen"][1] for s in settlements)
    fee = sum(s["fee_fen"] for s in settlements)
    assert senior > 0 and fee > 0

    after = {n: _balance(run, home, n) for n in ("bank", "tech", "microloan")}
    # held to the fen; nothing reached the suspended members' wallets
    assert (after["bank"]["held_fen"], after["tech"]["held_fen"]) == (senior, fee)
    assert after["bank"]["balance_fen"] == before["bank"]["balance_fen"]
    assert after["tech"]["balance_fen"] == before["tech"]["balance_fen"]
    # the active junior lender was paid as usual
    assert after["microloan"]["balance_fen"] == before["microloan"]["balance_fen"] + junior
    assert after["microloan"]["held_fen"] == 0

    # not before reinstatement: refused with the rule, exit 1, nothing moves
    for name in ("bank", "tech"):
        r = run(home, "--as", name, "cny", "claim-held")
        assert r.code == 1 and "MemberNotActive" in r.err and "SUSPENDED" in r.err, r.err
        assert r.err.count("\n") == 1
    assert _balance(run, home, "bank") == after["bank"]

    for name, amount in (("bank", senior), ("tech", fee)):
        ok(run, home, "--as", "regulator", "member", "reinstate", name)
        claimed = js(run, home, "--as", name, "cny", "claim-held")
        assert claimed["claimed_fen"] == amount and claimed["tx"].startswith("0x")
        view = _balance(run, home, name)
        assert view["held_fen"] == 0
        assert view["balance_fen"] == before[name]["balance_fen"] + amount
    # a second claim has nothing to take
    r = run(home, "--as", "bank", "cny", "claim-held")
    assert r.code == 1 and "NothingHeld" in r.err
    # the trail, claims included, verifies
    assert js(run, home, "audit", "verify")["ok"] is True
    # the human balance table shows the held column
    assert "held" in ok(run, home, "cny", "balance", "bank")
