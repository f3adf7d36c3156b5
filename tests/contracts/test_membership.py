"""Membership: admission, roles, suspension, deny by default."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.engine.client import Ledger
from ledger.errors import ContractRefusal
from ledger.models import Admission
from ledger.roles import Role


def refusal(exc: pytest.ExceptionInfo[ContractRefusal]) -> str:
    return exc.value.name


def test_operator_admits_a_member_with_roles_kyc_and_net_assets(ledger: Ledger) -> None:
    newcomer = Account.create().address
    ledger.admit(
        Admission(
            address=newcomer,
            roles=Role.SUPPLIER | Role.LENDER,
            kyc_hash=b"\x11" * 32,
            net_assets_fen=123_45,
        )
    )
    m = ledger.member(newcomer)
    assert m.status == "ACTIVE"
    assert m.roles == ["SUPPLIER", "LENDER"]
    assert m.kyc_hash == "0x" + "11" * 32
    assert m.net_assets_fen == 123_45
    assert m.admitted_at > 0


def test_admission_is_refused_to_anyone_but_an_active_operator(ledger: Ledger) -> None:
    newcomer = Account.create().address
    for name in ("bank", "regulator", "issuer"):
        with pytest.raises(ContractRefusal) as exc:
            ledger.as_signer(name).admit(Admission(address=newcomer, roles=Role.SUPPLIER))
        assert refusal(exc) == "MissingRole"
        assert "needs role OPERATOR" in exc.value.rule


def test_a_non_member_cannot_act(ledger: Ledger) -> None:
    outsider = ledger.keyring.create("outsider", dev=True)
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("outsider").admit(
            Admission(address=Account.create().address, roles=Role.SUPPLIER)
        )
    assert refusal(exc) == "NotAMember"
    assert outsider.name in exc.value.rule


def test_admitting_twice_or_with_no_role_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ContractRefusal) as exc:
        ledger.admit(Admission(address=ledger.resolve("bank"), roles=Role.LENDER))
    assert refusal(exc) == "AlreadyMember"
    # The contract checks roles itself: bypass the client's model validation.
    with pytest.raises(ContractRefusal) as exc:
        ledger._send("Membership", "admit", Account.create().address, 0, b"\0" * 32, 0, gas=400_000)
    assert refusal(exc) == "InvalidRoles"
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership", "admit", Account.create().address, 1 << 10, b"\0" * 32, 0, gas=400_000
        )
    assert refusal(exc) == "InvalidRoles"
    with pytest.raises(ContractRefusal) as exc:
        ledger._send("Membership", "admit", "0x" + "00" * 20, 1, b"\0" * 32, 0, gas=400_000)
    assert refusal(exc) == "ZeroAddressMember"


def test_regulator_suspends_and_reinstates_and_the_status_follows(ledger: Ledger) -> None:
    regulator = ledger.as_signer("regulator")
    target = ledger.resolve("supplier2")
    regulator.suspend(target, b"\x01" * 32)
    assert ledger.member(target).status == "SUSPENDED"
    with pytest.raises(ContractRefusal) as exc:
        regulator.suspend(target)
    assert refusal(exc) == "StatusUnchanged"
    regulator.reinstate(target)
    assert ledger.member(target).status == "ACTIVE"
    with pytest.raises(ContractRefusal) as exc:
        regulator.reinstate(target)
    assert refusal(exc) == "StatusUnchanged"


def test_only_operators_and_regulators_suspend(ledger: Ledger) -> None:
    for name in ("bank", "core", "auditor", "tech"):
        with pytest.raises(ContractRefusal) as exc:
            ledger.as_signer(name).suspend(ledger.resolve("supplier1"))
        assert refusal(exc) == "MissingRole"


def test_a_member_cannot_suspend_itself(ledger: Ledger) -> None:
    with pytest.raises(ContractRefusal) as exc:
        ledger.suspend(ledger.resolve("operator"))
    assert refusal(exc) == "CannotSuspendSelf"


def test_a_suspended_operator_can_do_nothing(ledger: Ledger) -> None:
    op2 = ledger.keyring.create("op2", dev=True)
    ledger.admit(Admission(address=op2.address, roles=Role.OPERATOR))
    ledger.as_signer("regulator").suspend(ledger.resolve("op2"))
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("op2").admit(
            Admission(address=Account.create().address, roles=Role.SUPPLIER)
        )
    assert refusal(exc) == "MemberNotActive"


def test_net_assets_are_registered_by_regulator_or_operator_only(ledger: Ledger) -> None:
    bank = ledger.resolve("bank")
    ledger.as_signer("regulator").set_net_assets(bank, 7_000_000_00)
    assert ledger.member(bank).net_assets_fen == 7_000_000_00
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("bank").set_net_assets(bank, 1)
    assert refusal(exc) == "MissingRole"


def test_roles_can_be_replaced_by_an_operator(ledger: Ledger) -> None:
    target = ledger.resolve("supplier1")
    ledger._send("Membership", "setRoles", target, int(Role.SUPPLIER | Role.LENDER), gas=400_000)
    assert ledger.member(target).roles == ["SUPPLIER", "LENDER"]
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("regulator")._send("Membership", "setRoles", target, 1, gas=400_000)
    assert refusal(exc) == "MissingRole"


def test_members_lists_everyone_admitted_including_the_operator(ledger: Ledger) -> None:
    names = {m.name for m in ledger.members()}
    assert {"operator", "issuer", "core", "bank", "regulator"} <= names
