"""DigitalRMB: issuer-only mint/burn, member-only transfers, engine entry points."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.engine.client import Ledger
from ledger.errors import ContractRefusal
from tests.conftest import OPENING_BALANCES


def test_token_is_erc20_with_two_decimals(ledger: Ledger) -> None:
    token = ledger.contract("DigitalRMB").functions
    assert token.decimals().call() == 2
    assert token.symbol().call() == "eCNY"
    assert ledger.total_supply_fen() == sum(OPENING_BALANCES.values())


def test_only_an_active_issuer_mints_and_burns(ledger: Ledger) -> None:
    bank = ledger.resolve("bank")
    for name in ("operator", "bank", "core", "regulator"):
        with pytest.raises(ContractRefusal) as exc:
            ledger.as_signer(name).mint(bank, 1)
        assert exc.value.name == "MissingRole"
        assert "ECNY_ISSUER" in exc.value.rule
    issuer = ledger.as_signer("issuer")
    issuer.mint(ledger.resolve("issuer"), 500)
    issuer.burn(200)
    assert ledger.balance_fen(ledger.resolve("issuer")) == 300
    with pytest.raises(ContractRefusal) as exc:
        issuer.burn(301)
    assert exc.value.name == "ERC20InsufficientBalance"
    assert "holds ¥3.00, needs ¥3.01" in exc.value.rule


def test_minting_zero_or_to_a_non_member_is_refused(ledger: Ledger) -> None:
    issuer = ledger.as_signer("issuer")
    with pytest.raises(ContractRefusal) as exc:
        issuer.mint(ledger.resolve("bank"), 0)
    assert exc.value.name == "ZeroAmount"
    with pytest.raises(ContractRefusal) as exc:
        issuer.mint(Account.create().address, 1)
    assert exc.value.name == "NotAMember"


def test_members_pay_members_and_balances_move_exactly(ledger: Ledger) -> None:
    core, s1 = ledger.resolve("core"), ledger.resolve("supplier1")
    ledger.as_signer("core").transfer(s1, 12_345_67)
    assert ledger.balance_fen(core) == OPENING_BALANCES["core"] - 12_345_67
    assert ledger.balance_fen(s1) == 12_345_67


def test_paying_more_than_the_balance_is_refused_with_the_numbers(ledger: Ledger) -> None:
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("supplier1").transfer(ledger.resolve("core"), 1)
    assert exc.value.name == "ERC20InsufficientBalance"
    assert "supplier1 holds ¥0.00, needs ¥0.01" in exc.value.rule


def test_a_suspended_member_can_neither_send_nor_receive(ledger: Ledger) -> None:
    core, s2 = ledger.resolve("core"), ledger.resolve("supplier2")
    ledger.as_signer("core").transfer(s2, 100)
    ledger.as_signer("regulator").suspend(s2)
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("core").transfer(s2, 1)
    assert exc.value.name == "MemberNotActive"
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("supplier2").transfer(core, 1)
    assert exc.value.name == "MemberNotActive"
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("issuer").mint(s2, 1)
    assert exc.value.name == "MemberNotActive"
    assert ledger.balance_fen(s2) == 100
    ledger.as_signer("regulator").reinstate(s2)
    ledger.as_signer("supplier2").transfer(core, 100)
    assert ledger.balance_fen(s2) == 0


def test_nobody_pays_an_engine_or_an_outsider_by_plain_transfer(ledger: Ledger) -> None:
    core = ledger.as_signer("core")
    for target in (ledger.deployment.address("DigitalRMB"), Account.create().address):
        with pytest.raises(ContractRefusal) as exc:
            core.transfer(target, 1)
        assert exc.value.name == "NotAMember"


def test_allowances_work_only_for_active_members(ledger: Ledger) -> None:
    core, bank, s1 = ledger.resolve("core"), ledger.resolve("bank"), ledger.resolve("supplier1")
    ledger.as_signer("core")._send("DigitalRMB", "approve", bank, 1_000, gas=300_000)
    ledger.as_signer("bank")._send("DigitalRMB", "transferFrom", core, s1, 600, gas=300_000)
    assert ledger.balance_fen(s1) == 600
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("bank")._send("DigitalRMB", "transferFrom", core, s1, 401, gas=300_000)
    assert exc.value.name == "ERC20InsufficientAllowance"
    ledger.as_signer("regulator").suspend(bank)
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("bank")._send("DigitalRMB", "transferFrom", core, s1, 1, gas=300_000)
    assert exc.value.name == "MemberNotActive"
    outsider = ledger.keyring.create("outsider", dev=True)
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer(outsider.name)._send("DigitalRMB", "approve", bank, 1, gas=300_000)
    assert exc.value.name == "NotAMember"


def test_engine_entry_points_refuse_every_caller_but_an_engine(ledger: Ledger) -> None:
    core, s1 = ledger.resolve("core"), ledger.resolve("supplier1")
    for name in ("operator", "core", "issuer"):
        signer = ledger.as_signer(name)
        with pytest.raises(ContractRefusal) as exc:
            signer._send("DigitalRMB", "engineTransfer", core, s1, 1, gas=300_000)
        assert exc.value.name == "NotEngine"
        with pytest.raises(ContractRefusal) as exc:
            signer._send("DigitalRMB", "engineSplit", core, [s1], [1], gas=300_000)
        assert exc.value.name == "NotEngine"
        with pytest.raises(ContractRefusal) as exc:
            signer._send("DigitalRMB", "setSweep", s1, 1, 100, gas=300_000)
        assert exc.value.name == "NotEngine"
