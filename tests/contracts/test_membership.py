"""Membership: admission, roles, suspension, deny by default."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.engine.client import Ledger
from ledger.errors import ContractRefusal
from ledger.models import Admission, Profile
from ledger.roles import Role

NO_PROFILE = Profile().as_tuple()


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
        ledger._send(
            "Membership",
            "admit",
            Account.create().address,
            0,
            b"\0" * 32,
            0,
            NO_PROFILE,
            gas=400_000,
        )
    assert refusal(exc) == "InvalidRoles"
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership",
            "admit",
            Account.create().address,
            1 << 10,
            b"\0" * 32,
            0,
            NO_PROFILE,
            gas=400_000,
        )
    assert refusal(exc) == "InvalidRoles"
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership", "admit", "0x" + "00" * 20, 1, b"\0" * 32, 0, NO_PROFILE, gas=400_000
        )
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


def test_net_assets_are_changed_by_a_regulator_only(ledger: Ledger) -> None:
    bank = ledger.resolve("bank")
    ledger.as_signer("regulator").set_net_assets(bank, 7_000_000_00)
    assert ledger.member(bank).net_assets_fen == 7_000_000_00
    with pytest.raises(ContractRefusal) as exc:
        ledger.as_signer("bank").set_net_assets(bank, 1)
    assert refusal(exc) == "CannotChangeOwnRecord"
    # The operator cannot lift a lender's exposure cap (issue 13, finding 4).
    with pytest.raises(ContractRefusal) as exc:
        ledger.set_net_assets(bank, 10**15)
    assert refusal(exc) == "MissingRole"
    assert "needs role REGULATOR" in exc.value.rule
    assert ledger.member(bank).net_assets_fen == 7_000_000_00


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


# --------------------------------------------------------------------------- admin hierarchy
# (issue 13, finding 4: the operator could take over the regulator)


def test_the_operator_cannot_grant_itself_or_anyone_regulator(ledger: Ledger) -> None:
    operator = ledger.resolve("operator")
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership", "setRoles", operator, int(Role.OPERATOR | Role.REGULATOR), gas=400_000
        )
    assert refusal(exc) == "CannotChangeOwnRecord"
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership",
            "setRoles",
            ledger.resolve("auditor"),
            int(Role.AUDITOR | Role.REGULATOR),
            gas=400_000,
        )
    assert refusal(exc) == "RegulatorOnlyByRegulator"
    assert exc.value.args_by_name["regulators"] == 1
    with pytest.raises(ContractRefusal) as exc:
        ledger.admit(Admission(address=Account.create().address, roles=Role.REGULATOR))
    assert refusal(exc) == "RegulatorOnlyByRegulator"
    assert "only a regulator grants or removes REGULATOR" in exc.value.rule


def test_the_operator_cannot_strip_or_suspend_the_regulator(ledger: Ledger) -> None:
    regulator = ledger.resolve("regulator")
    with pytest.raises(ContractRefusal) as exc:
        ledger._send("Membership", "setRoles", regulator, int(Role.AUDITOR), gas=400_000)
    assert refusal(exc) == "RegulatorOnlyByRegulator"
    for action in (ledger.suspend, ledger.reinstate):
        with pytest.raises(ContractRefusal) as exc:
            action(regulator)
        assert refusal(exc) == "RegulatorSuspendedOnlyByRegulator"
    assert ledger.member(regulator).roles == ["REGULATOR"]
    assert ledger.member(regulator).status == "ACTIVE"


def test_nobody_changes_its_own_roles_net_assets_or_profile(ledger: Ledger) -> None:
    reg = ledger.as_signer("regulator")
    me = ledger.resolve("regulator")
    for call in (
        lambda: reg._send("Membership", "setRoles", me, int(Role.AUDITOR), gas=400_000),
        lambda: reg.set_net_assets(me, 1),
        lambda: reg.set_profile(me, Profile(region="440100")),
    ):
        with pytest.raises(ContractRefusal) as exc:
            call()
        assert refusal(exc) == "CannotChangeOwnRecord"


def test_regulators_grant_and_remove_regulator_inside_their_jurisdiction(
    ledger: Ledger,
) -> None:
    national = ledger.as_signer("regulator")
    gz = ledger.keyring.create("reg-gz", dev=True).address
    national.admit(Admission(address=gz, roles=Role.REGULATOR, profile=Profile(region="440100")))
    assert ledger.contract("Membership").functions.regulatorCount().call() == 2
    city = ledger.as_signer("reg-gz")
    # a city regulator cannot create a national or a Shenzhen regulator…
    for region in ("000000", "440300", "440000"):
        with pytest.raises(ContractRefusal) as exc:
            city.admit(
                Admission(
                    address=Account.create().address,
                    roles=Role.REGULATOR,
                    profile=Profile(region=region),
                )
            )
        assert refusal(exc) == "OutsideJurisdiction"
        assert f"region {region}" in exc.value.rule and "(region 440100)" in exc.value.rule
    # …nor admit anything but a regulator (that is the operator's)
    with pytest.raises(ContractRefusal) as exc:
        city.admit(
            Admission(
                address=Account.create().address,
                roles=Role.SUPPLIER,
                profile=Profile(region="440100"),
            )
        )
    assert refusal(exc) == "MissingRole"
    # a district regulator inside the city: yes
    district = Account.create().address
    city.admit(Admission(address=district, roles=Role.REGULATOR, profile=Profile(region="440106")))
    # removing the city's REGULATOR: the operator cannot; the national regulator can (a
    # member's roles are never empty, so the operator first gives it another role — a bit
    # that is the operator's to grant)
    with pytest.raises(ContractRefusal) as exc:
        ledger._send("Membership", "setRoles", gz, int(Role.AUDITOR), gas=400_000)
    assert refusal(exc) == "RegulatorOnlyByRegulator"
    ledger._send("Membership", "setRoles", gz, int(Role.REGULATOR | Role.AUDITOR), gas=400_000)
    top = ledger.resolve("regulator")
    ledger._send("Membership", "setRoles", top, int(Role.REGULATOR | Role.AUDITOR), gas=400_000)
    with pytest.raises(ContractRefusal) as exc:  # a city cannot remove the national one
        city._send("Membership", "setRoles", top, int(Role.AUDITOR), gas=400_000)
    assert refusal(exc) == "OutsideJurisdiction"
    national._send("Membership", "setRoles", gz, int(Role.AUDITOR), gas=400_000)
    assert ledger.member(gz).roles == ["AUDITOR"]
    assert ledger.contract("Membership").functions.regulatorCount().call() == 2


def test_the_first_regulator_is_admitted_by_the_operator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ledger.engine.setup import initialise
    from ledger.home import Home

    home = Home.at(tmp_path / "fresh")
    initialise(home, dev=True)
    with Ledger.open(home) as fresh:
        members = fresh.contract("Membership").functions
        assert members.regulatorCount().call() == 0
        fresh.admit(Admission(address=fresh.resolve("regulator"), roles=Role.REGULATOR))
        assert members.regulatorCount().call() == 1
        with pytest.raises(ContractRefusal) as exc:
            fresh.admit(Admission(address=fresh.resolve("auditor"), roles=Role.REGULATOR))
        assert refusal(exc) == "RegulatorOnlyByRegulator"


# --------------------------------------------------------------------------- jurisdiction


def _regional(ledger: Ledger) -> tuple[Ledger, Ledger, Ledger]:
    national = ledger.as_signer("regulator")
    for name, region in (("reg-gz", "440100"), ("reg-sz", "440300"), ("reg-gd", "440000")):
        address = ledger.keyring.create(name, dev=True).address
        national.admit(
            Admission(address=address, roles=Role.REGULATOR, profile=Profile(region=region))
        )
    return ledger.as_signer("reg-gz"), ledger.as_signer("reg-sz"), ledger.as_signer("reg-gd")


def test_regulators_suspend_and_reinstate_only_inside_their_region(ledger: Ledger) -> None:
    gz, sz, gd = _regional(ledger)
    supplier1 = ledger.resolve("supplier1")  # Guangzhou, 440100
    with pytest.raises(ContractRefusal) as exc:
        sz.suspend(supplier1)
    assert refusal(exc) == "OutsideJurisdiction"
    assert exc.value.args_by_name["jurisdiction"] == 440300
    assert exc.value.args_by_name["region"] == 440100
    gz.suspend(supplier1)
    with pytest.raises(ContractRefusal) as exc:
        sz.reinstate(supplier1)
    assert refusal(exc) == "OutsideJurisdiction"
    gd.reinstate(supplier1)  # the province holds both cities
    gd.suspend(ledger.resolve("supplier2"))  # Shenzhen
    sz.reinstate(ledger.resolve("supplier2"))
    # a national member (region 000000) is outside every regional regulator
    with pytest.raises(ContractRefusal) as exc:
        gd.suspend(ledger.resolve("auditor"))
    assert refusal(exc) == "OutsideJurisdiction"
    # a city regulator cannot suspend the national one either
    with pytest.raises(ContractRefusal) as exc:
        gz.suspend(ledger.resolve("regulator"))
    assert refusal(exc) == "OutsideJurisdiction"


def test_profiles_are_set_by_a_regulator_of_the_region_before_and_after(ledger: Ledger) -> None:
    gz, sz, _ = _regional(ledger)
    bank = ledger.resolve("bank")  # Guangzhou
    renewed = Profile(licence="BANK", licence_expiry_at=4_102_444_799, region="440100")
    with pytest.raises(ContractRefusal) as exc:
        sz.set_profile(bank, renewed)
    assert refusal(exc) == "OutsideJurisdiction"
    sent = gz.set_profile(bank, renewed)
    m = ledger.member(bank)
    assert (m.licence, m.licence_expiry_at, m.region) == ("BANK", 4_102_444_799, "440100")
    (log,) = [
        e
        for e in ledger.events("Membership", "MemberProfileSet")
        if e["transactionHash"].hex().removeprefix("0x") == sent.tx.removeprefix("0x")
    ]
    assert log["args"]["region"] == 440100
    # moving it to Shenzhen needs jurisdiction over Shenzhen too
    with pytest.raises(ContractRefusal) as exc:
        gz.set_profile(bank, renewed.model_copy(update={"region": "440300"}))
    assert refusal(exc) == "OutsideJurisdiction"
    with pytest.raises(ContractRefusal) as exc:
        ledger.set_profile(bank, renewed)  # the operator: not a regulator
    assert refusal(exc) == "MissingRole"
    with pytest.raises(ContractRefusal) as exc:
        gz.set_net_assets(ledger.resolve("supplier2"), 1)  # Shenzhen's member
    assert refusal(exc) == "OutsideJurisdiction"
    gz.set_net_assets(bank, 1)


def test_a_region_is_six_digits(ledger: Ledger) -> None:
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "Membership",
            "admit",
            Account.create().address,
            int(Role.SUPPLIER),
            b"\0" * 32,
            0,
            (0, 0, 1_000_000, 0, b"\0" * 32),
            gas=400_000,
        )
    assert refusal(exc) == "InvalidRegion"


def test_policy_is_set_by_a_national_regulator_only(ledger: Ledger) -> None:
    gz, _, gd = _regional(ledger)
    for city in (gz, gd):
        with pytest.raises(ContractRefusal) as exc:
            city.loans.set_policy("max_apr_bps", 2_000)
        assert refusal(exc) == "NationalRegulatorOnly"
        assert "region 000000" in exc.value.rule
    ledger.as_signer("regulator").loans.set_policy("max_apr_bps", 2_000)
    assert ledger.loans.policy().max_apr_bps == 2_000
