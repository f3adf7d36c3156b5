"""A credit file against a hand-built history, and what tampering with it does.

The borrower, supplier1, is also a debtor (it holds CORE_ENTERPRISE too). Its history:
- loan 1 (¥300,000.00, 30 days, no grace): ¥100,000.00 repaid on day 10 (on time), the
  rest repaid 7 days after maturity;
- loan 2 (¥200,000.00, 10 days, 2 days' grace): never repaid, declared defaulted 3 days
  past due (the regulator set default_days to 5), the pool empty: all of it a loss;
- receivable A (¥100,000.00, due on day 10) split by its holder into ¥60,000.00 and
  ¥40,000.00, paid on day 5 and on day 13 (3 days late);
- receivable B (¥50,000.00, due on day 20): unpaid, overdue when the file is written;
- receivable C (¥10,000.00): rejected by its supplier, owed nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from ledger.credit.figures import DAY
from ledger.credit.file import verify_file, write_credit_file
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.home import Home
from ledger.roles import Role


@dataclass
class History:
    home: Home
    path: Path
    file: dict[str, Any]
    t0: int
    times: dict[str, int]
    ids: dict[str, int]


def _time(ledger: Ledger, sent: Any) -> int:
    return int(ledger.chain.w3.eth.get_block(sent.block)["timestamp"])


def _loan(ledger: Ledger, receivable: int, fen: int, days: int, grace: int) -> tuple[int, int]:
    """Propose, accept, fund and disburse; (loan id, maturity)."""
    bank = ledger.as_signer("bank")
    request = LoanRequest(
        borrower=ledger.resolve("supplier1"),
        tranches=[TrancheRequest(lender=bank.sender.address, senior=False, amount_fen=fen)],
        receivable_ids=[receivable],
        rate_bps=1000,
        term_days=days,
        grace_days=grace,
    )
    loan = bank.loans.propose(request).id
    ledger.as_signer("supplier1").loans.accept(loan)
    bank.loans.fund(loan)
    disbursed = bank.loans.disburse(loan)
    return loan, _time(ledger, disbursed) + days * DAY


def build_history(ledger: Ledger, out: Path) -> History:
    s1, s2, core = (ledger.as_signer(n) for n in ("supplier1", "supplier2", "core"))
    bank, regulator = ledger.as_signer("bank"), ledger.as_signer("regulator")
    ledger._send(
        "Membership",
        "setRoles",
        s1.sender.address,
        int(Role.SUPPLIER | Role.CORE_ENTERPRISE),
        gas=200_000,
    )
    regulator.loans.set_policy("default_days", 5)
    ledger.as_signer("issuer").mint(s1.sender.address, 1_000_000_00)
    t0 = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    ids: dict[str, int] = {}
    for label in ("collateral 1", "collateral 2"):
        issued = core.receivables.issue(
            s1.sender.address, 800_000_00, t0 + 365 * DAY, keccak(text=label)
        )
        s1.receivables.accept(issued.id)
        ids[label] = issued.id
    due = {"A": t0 + 10 * DAY, "B": t0 + 20 * DAY, "C": t0 + 30 * DAY}
    for label, fen in (("A", 100_000_00), ("B", 50_000_00), ("C", 10_000_00)):
        ids[label] = s1.receivables.issue(s2.sender.address, fen, due[label], keccak(text=label)).id
    s2.receivables.accept(ids["A"])
    s2.receivables.accept(ids["B"])
    s2.receivables.reject(ids["C"])
    ids["A1"], ids["A2"] = s2.receivables.split(ids["A"], [60_000_00, 40_000_00]).children
    ids["loan 1"], maturity1 = _loan(ledger, ids["collateral 1"], 300_000_00, 30, 0)
    ids["loan 2"], maturity2 = _loan(ledger, ids["collateral 2"], 200_000_00, 10, 2)
    times = {"maturity 1": maturity1, "maturity 2": maturity2, "due A": due["A"], "due B": due["B"]}
    ledger.chain.advance_time(5 * DAY)
    times["A1 paid"] = _time(ledger, s1.receivables.pay(ids["A1"]))
    ledger.chain.advance_time(5 * DAY)
    times["repay 1"] = _time(ledger, s1.loans.repay(ids["loan 1"], 100_000_00))
    ledger.chain.advance_time(due["A"] + 3 * DAY - times["repay 1"])
    times["A2 paid"] = _time(ledger, s1.receivables.pay(ids["A2"]))
    ledger.chain.advance_time(maturity2 + 5 * DAY - times["A2 paid"])
    times["default 2"] = _time(ledger, bank.loans.declare_default(ids["loan 2"]))
    ledger.chain.advance_time(maturity1 + 7 * DAY - times["default 2"])
    times["repay 2"] = _time(ledger, s1.loans.repay(ids["loan 1"], 250_000_00))
    s1.consents.grant(bank.sender.address, 30, "working-capital loan")
    queried = bank.consents.query(s1.sender.address)
    times["query"] = queried.at
    written = write_credit_file(ledger, queried, out)
    return History(ledger.home, out, written.file, t0, times, ids)


@pytest.fixture(scope="module")
def history(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    root = tmp_path_factory.mktemp("credit") / "home"
    shutil.copytree(template_home, root)
    with Ledger.open(Home.at(root)) as ledger:
        yield build_history(ledger, root.parent / "supplier1.jsonl")


def _dpd(at: int, due: int) -> int:
    return max(0, at - due) // DAY


def test_the_loans_show_each_repayment_with_its_days_past_due(history: History) -> None:
    f, t = history.file, history.times
    loan1, loan2 = f["loans"]
    assert (loan1["id"], loan2["id"]) == (history.ids["loan 1"], history.ids["loan 2"])
    assert [r["days_past_due"] for r in loan1["repayments"]] == [0, 7]
    assert [r["at"] for r in loan1["repayments"]] == [t["repay 1"], t["repay 2"]]
    assert [r["amount_fen"] for r in loan1["repayments"]] == [100_000_00, 250_000_00]
    assert sum(r["principal_fen"] for r in loan1["repayments"]) == 300_000_00
    assert loan1["repayments"][1]["residual_fen"] > 0
    assert (loan1["status"], loan1["outstanding_fen"], loan1["overdue"]) == ("REPAID", 0, False)
    assert loan1["maturity_at"] == loan1["due_at"] == t["maturity 1"]
    assert loan2["due_at"] == t["maturity 2"] + 2 * DAY and loan2["grace_days"] == 2
    assert loan2["repayments"] == [] and loan2["status"] == "DEFAULTED"
    assert loan2["default"]["days_past_due"] == 3 == _dpd(t["default 2"], loan2["due_at"])
    assert (loan2["default"]["cover_fen"], loan2["default"]["loss_fen"]) == (0, 200_000_00)
    assert loan2["overdue"] and loan2["outstanding_fen"] == 200_000_00
    assert loan2["days_past_due_now"] == _dpd(t["query"], loan2["due_at"])


def test_the_receivables_show_each_payment_on_time_or_how_late(history: History) -> None:
    f, t, ids = history.file, history.times, history.ids
    a, b, c = f["receivables"]
    assert (a["id"], b["id"], c["id"]) == (ids["A"], ids["B"], ids["C"])
    assert a["parts"] == [ids["A"], ids["A1"], ids["A2"]]
    assert [(p["id"], p["days_late"]) for p in a["payments"]] == [(ids["A1"], 0), (ids["A2"], 3)]
    assert (a["status"], a["paid_in_full_at"], a["days_late"]) == ("PAID", t["A2 paid"], 3)
    assert (b["status"], b["unpaid_fen"], b["overdue"]) == ("ACTIVE", 50_000_00, True)
    assert b["days_overdue_now"] == _dpd(t["query"], t["due B"]) > 0
    assert (c["status"], c["overdue"], c["payments"]) == ("REJECTED", False, [])


def test_the_summary_figures_follow_from_the_history(history: History) -> None:
    s, t = history.file["summary"], history.times
    worst_now = max(_dpd(t["query"], t["due B"]), _dpd(t["query"], t["maturity 2"] + 2 * DAY))
    assert s == {
        "loans": 2,
        "loans_by_status": {"DEFAULTED": 1, "REPAID": 1},
        "borrowed_fen": 500_000_00,
        "outstanding_fen": 200_000_00,
        "repayments": 2,
        "repayments_on_time": 1,
        "receivables": 3,
        "receivable_payments": 2,
        "receivable_payments_on_time": 1,
        "on_time_ratio_bps": 5000,
        "worst_days_past_due": max(7, worst_now),
        "current_overdue": {
            "loans": 1,
            "outstanding_fen": 200_000_00,
            "receivables": 1,
            "unpaid_fen": 50_000_00,
            "worst_days": worst_now,
        },
        "defaults": 1,
        "default_loss_fen": 200_000_00,
        "default_cover_fen": 0,
    }
    f = history.file
    assert (f["purpose"], f["as_of"], f["query"]["number"]) == (
        "working-capital loan",
        t["query"],
        1,
    )


def test_the_file_holds_only_the_borrowers_entries_and_ends_with_its_query(
    history: History,
) -> None:
    lines = history.path.read_text().splitlines()
    header = json.loads(lines[0])
    entries = [json.loads(line) for line in lines[1:]]
    assert header["entries"] == [e["seq"] for e in entries]
    assert (
        entries[-1]["kind"] == "CREDIT_QUERIED"
        and header["checkpoint"]["size"] == entries[-1]["seq"]
    )
    kinds = {e["kind"] for e in entries}
    assert "CONSENT_GRANTED" in kinds and not kinds & {"ECNY_MINTED", "MEMBER_ADMITTED"}
    # collateral issued by core to supplier1 is not supplier1's debt
    assert history.ids["collateral 1"] not in header["lineage"]["receivables"]


def test_the_file_verifies_offline_and_a_tampered_figure_or_field_fails(
    history: History, tmp_path: Path
) -> None:
    verdict = verify_file(history.path)
    assert verdict.ok, verdict.problem
    lines = history.path.read_text().splitlines()
    header = json.loads(lines[0])

    def verdict_of(header_obj: dict[str, Any], body: list[str]) -> Any:
        target = tmp_path / "tampered.jsonl"
        target.write_text("\n".join([json.dumps(header_obj), *body]) + "\n")
        return verify_file(target)

    # every number, flag and text of the file's figures
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, at: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*at, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*at, i))
        else:
            paths.append(at)

    walk(header["file"], ())
    assert len(paths) > 100
    for path in paths:
        forged = json.loads(lines[0])
        node = forged["file"]
        for key in path[:-1]:
            node = node[key]
        value = node[path[-1]]
        node[path[-1]] = (
            (not value)
            if isinstance(value, bool)
            else value + 1
            if isinstance(value, int)
            else 1
            if value is None
            else str(value) + "!"
        )
        result = verdict_of(forged, lines[1:])
        assert not result.ok, f"file{list(path)} tampered and still verified"
    # every bound field of every entry: the event's fields as shown, its data, the entry
    for i, line in enumerate(lines[1:], 1):
        entry = json.loads(line)
        for field in entry["event"]["fields"]:
            forged_entry = json.loads(line)
            value = forged_entry["event"]["fields"][field]
            forged_entry["event"]["fields"][field] = (
                value + 1 if isinstance(value, int) and not isinstance(value, bool) else "0x00"
            )
            body = list(lines[1:])
            body[i - 1] = json.dumps(forged_entry)
            assert not verdict_of(header, body).ok, f"#{entry['seq']} {field}"
        for key in ("at", "subject", "actor", "data_hash"):
            forged_entry = json.loads(line)
            forged_entry[key] = (
                forged_entry[key] + 1
                if isinstance(forged_entry[key], int)
                else "0x" + "11" * (20 if key == "actor" else 32)
            )
            body = list(lines[1:])
            body[i - 1] = json.dumps(forged_entry)
            assert not verdict_of(header, body).ok, f"#{entry['seq']} {key}"
    # the late repayment left out, with the header's listing adjusted (not its figures)
    dropped = json.loads(lines[0])
    gone = [json.loads(ln)["seq"] for ln in lines[1:] if '"LOAN_SETTLED"' in ln][-1]
    dropped["entries"].remove(gone)
    result = verdict_of(dropped, [ln for ln in lines[1:] if json.loads(ln)["seq"] != gone])
    assert not result.ok
