"""Every custom error any contract can raise is rendered as a rule with its numbers."""

from __future__ import annotations

from ledger.engine.refusals import _RULES, explain
from ledger.solidity.artifacts import error_table


def test_every_custom_error_of_every_contract_has_words() -> None:
    missing = sorted({e["name"] for e in error_table().values()} - set(_RULES))
    assert not missing, f"add a rule to ledger/engine/refusals.py for: {missing}"


def test_a_compliance_refusal_names_the_rule_and_the_numbers() -> None:
    text = explain("AprAboveCap", {"rateBps": 2600, "penaltyBps": 100, "maxAprBps": 2400}, str)
    assert text == (
        "AprAboveCap — compliance max_apr_bps: rate 26.00% + penalty 1.00% exceed the cap of 24.00%"
    )


def test_statuses_are_named_from_the_right_table() -> None:
    assert "is PLEDGED" in explain("WrongStatus", {"id": 3, "status": 3}, str)
    assert "is DISBURSED" in explain("WrongLoanStatus", {"loanId": 1, "status": 5}, str)
    assert "is SUSPENDED" in explain(
        "MemberNotActive", {"account": "0x" + "11" * 20, "status": 2}, str
    )
