"""AuditTrail: one entry per action, hash chain per DESIGN §4.8, writers fixed at deployment."""

from __future__ import annotations

import itertools

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from ledger.audit.trail import read_entries, verify_trail
from ledger.engine.client import Ledger
from ledger.errors import ContractRefusal
from ledger.models import Admission
from ledger.roles import Role


def test_every_action_appends_exactly_one_entry_of_its_kind(ledger: Ledger) -> None:
    seq0, _ = ledger.audit_head()
    newcomer = Account.create().address
    steps = [
        (lambda: ledger.admit(Admission(address=newcomer, roles=Role.SUPPLIER)), "MEMBER_ADMITTED"),
        (lambda: ledger.as_signer("issuer").mint(newcomer, 1_000), "ECNY_MINTED"),
        (lambda: ledger.as_signer("core").transfer(newcomer, 5), "ECNY_TRANSFERRED"),
        (lambda: ledger.as_signer("regulator").suspend(newcomer), "MEMBER_SUSPENDED"),
        (lambda: ledger.as_signer("regulator").reinstate(newcomer), "MEMBER_REINSTATED"),
        (
            lambda: ledger.as_signer("regulator").set_net_assets(newcomer, 9),
            "MEMBER_NET_ASSETS_SET",
        ),
        (
            lambda: ledger._send("Membership", "setRoles", newcomer, int(Role.LENDER), gas=400_000),
            "MEMBER_ROLES_CHANGED",
        ),
        (lambda: ledger.as_signer("issuer").mint(ledger.resolve("issuer"), 1), "ECNY_MINTED"),
        (lambda: ledger.as_signer("issuer").burn(1), "ECNY_BURNT"),
        (
            lambda: ledger.as_signer("core")._send(
                "DigitalRMB", "approve", newcomer, 7, gas=300_000
            ),
            "ECNY_APPROVED",
        ),
    ]
    for action, kind in steps:
        before, _ = ledger.audit_head()
        action()
        after, _ = ledger.audit_head()
        assert after == before + 1, kind
        assert list(read_entries(ledger))[-1].kind_name == kind
    assert ledger.audit_head()[0] == seq0 + len(steps)


def test_a_refused_action_appends_nothing(ledger: Ledger) -> None:
    before = ledger.audit_head()
    with pytest.raises(ContractRefusal):
        ledger.as_signer("supplier1").transfer(ledger.resolve("core"), 1)
    assert ledger.audit_head() == before


def test_entry_hashes_recompute_exactly_as_design_4_8(ledger: Ledger) -> None:
    entries = list(read_entries(ledger))
    prev = b"\0" * 32
    for i, e in enumerate(entries, start=1):
        assert e.seq == i
        assert e.prev_hash == prev
        expected = keccak(
            encode(
                ["bytes32", "uint64", "bytes32", "address", "uint256", "bytes32", "uint64"],
                [prev, e.seq, e.kind, e.actor, e.subject, e.data_hash, e.at],
            )
        )
        assert e.entry_hash == expected
        prev = e.entry_hash
    seq, head = ledger.audit_head()
    assert (seq, head) == (len(entries), "0x" + prev.hex())
    assert entries[0].kind == keccak(text="MEMBER_ADMITTED")


def test_data_hash_binds_the_business_event_of_the_same_transaction(ledger: Ledger) -> None:
    s1 = ledger.resolve("supplier1")
    sent = ledger.as_signer("core").transfer(s1, 4_321)
    entry = list(read_entries(ledger))[-1]
    assert entry.tx == sent.tx
    assert entry.actor == ledger.resolve("core")
    assert entry.subject == int(s1, 16)
    assert entry.data_hash == keccak(
        encode(["address", "address", "uint256"], [ledger.resolve("core"), s1, 4_321])
    )
    verdict = verify_trail(ledger)
    assert verdict.ok, verdict
    assert verdict.entries == ledger.audit_head()[0]


def test_only_engine_contracts_fixed_at_deployment_may_append(ledger: Ledger) -> None:
    trail = ledger.contract("AuditTrail").functions
    assert trail.isWriter(ledger.deployment.address("Membership")).call()
    assert trail.isWriter(ledger.deployment.address("DigitalRMB")).call()
    assert not trail.isWriter(ledger.resolve("operator")).call()
    assert not trail.isWriter("0x" + "00" * 20).call()
    with pytest.raises(ContractRefusal) as exc:
        ledger._send(
            "AuditTrail",
            "append",
            b"\1" * 32,
            ledger.resolve("operator"),
            1,
            b"\2" * 32,
            gas=200_000,
        )
    assert exc.value.name == "NotAuditWriter"


def test_every_engine_of_the_suite_is_a_writer(ledger: Ledger) -> None:
    from ledger.engine.deploy import AUDIT_WRITERS

    trail = ledger.contract("AuditTrail").functions
    assert len(AUDIT_WRITERS) > 8  # more engines than the first trail's eight slots
    for name in AUDIT_WRITERS:
        assert trail.isWriter(ledger.deployment.address(name)).call(), name


def _deploy_trail(ledger: Ledger, writers: list[str]) -> dict[str, object]:
    from ledger.solidity import artifacts

    art = artifacts.load("AuditTrail")
    w3 = ledger.chain.w3
    data = (
        w3.eth.contract(abi=art.abi, bytecode=art.linked({}))
        .constructor(writers, ledger.deployment.address("Membership"))
        .data_in_transaction
    )
    return {"from": ledger.resolve("operator"), "data": data, "gas": 3_000_000}


def test_sixteen_writers_each_append_and_a_seventeenth_is_refused(ledger: Ledger) -> None:
    from ledger.engine.tx import revert_data
    from ledger.solidity import artifacts
    from ledger.solidity.artifacts import decode_error

    w3 = ledger.chain.w3
    writers = [Account.create().address for _ in range(17)]
    with pytest.raises(Exception) as exc:
        w3.eth.call(_deploy_trail(ledger, writers))  # type: ignore[arg-type]
    raw = revert_data(exc.value)
    assert raw is not None
    assert decode_error(raw) == ("TooManyWriters", {"count": 17, "max": 16})

    sent = ledger.sender.transact(None, _deploy_trail(ledger, writers[:16])["data"], gas=3_000_000)
    trail = w3.eth.contract(
        address=sent.receipt["contractAddress"], abi=artifacts.load("AuditTrail").abi
    )
    args = (b"\1" * 32, writers[0], 1, b"\2" * 32)
    costs = []
    for writer in writers[:16]:
        assert trail.functions.isWriter(writer).call()
        call = trail.functions.append(*args).build_transaction(
            {"from": writer, "gas": 200_000, "gasPrice": 0}
        )
        costs.append(w3.eth.estimate_gas(call))  # type: ignore[arg-type]
    assert not trail.functions.isWriter(writers[16]).call()
    assert not trail.functions.isWriter("0x" + "00" * 20).call()
    # Each slot before a writer's adds one comparison: a few tens of gas, not a storage read.
    steps = [b - a for a, b in itertools.pairwise(costs)]
    assert all(0 < step <= 60 for step in steps), steps
