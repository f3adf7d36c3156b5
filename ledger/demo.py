"""The main story of DESIGN §1, as far as the engine goes today, on a dev home."""

from __future__ import annotations

from collections.abc import Callable

from ledger.client import Ledger
from ledger.errors import ContractRefusal
from ledger.home import Home
from ledger.models import Admission
from ledger.money import format_fen
from ledger.roles import Role
from ledger.setup import initialise

Say = Callable[[str], None]

CONSORTIUM: list[tuple[str, int, int]] = [
    # name, roles, registered net assets (fen)
    ("issuer", Role.ECNY_ISSUER, 0),
    ("core", Role.CORE_ENTERPRISE, 0),
    ("supplier1", Role.SUPPLIER, 0),
    ("supplier2", Role.SUPPLIER, 0),
    ("bank", Role.LENDER, 5_000_000_000_00),
    ("microloan", Role.LENDER, 300_000_000_00),
    ("tech", Role.TECH_PARTNER, 0),
    ("auditor", Role.AUDITOR, 0),
    ("regulator", Role.REGULATOR, 0),
]


def run_demo(home: Home, say: Say) -> Ledger:
    """Run the story; return the operator's ledger (the caller closes it)."""
    if not home.deployment_file("embedded").exists():
        say("1. setting up a dev consortium on the embedded chain")
        result = initialise(home, dev=True)
        say(
            f"   contracts deployed at block {result.deployment.block}: "
            + ", ".join(f"{n} {a[:10]}…" for n, a in result.deployment.contracts.items())
        )
    ledger = Ledger.open(home)
    try:
        _story(ledger, say)
    except BaseException:
        ledger.close()
        raise
    return ledger


def _story(op: Ledger, say: Say) -> None:
    say("2. the operator admits the members")
    for name, roles, net_assets in CONSORTIUM:
        address = op.resolve(name)
        if op.member(address).status != "NONE":
            continue
        op.admit(Admission(address=address, roles=roles, net_assets_fen=net_assets))
        say(f"   {name:<10} {Role(roles).name:<16} {address}")

    issuer, core, s1 = op.as_signer("issuer"), op.as_signer("core"), op.as_signer("supplier1")
    say("3. the e-CNY issuer mints digital RMB")
    for name, fen in [("core", 2_000_000_00), ("bank", 1_000_000_00), ("microloan", 400_000_00)]:
        sent = issuer.mint(op.resolve(name), fen)
        say(f"   minted {format_fen(fen):>16} to {name:<10} gas {sent.gas_used:,}")

    say("4. money moves along the supply chain")
    sent = core.transfer(op.resolve("supplier1"), 150_000_00)
    say(f"   core pays supplier1 {format_fen(150_000_00)}   gas {sent.gas_used:,}")
    sent = s1.transfer(op.resolve("supplier2"), 40_000_00)
    say(f"   supplier1 pays supplier2 {format_fen(40_000_00)}   gas {sent.gas_used:,}")

    say("5. the regulator suspends supplier2; a payment to it is refused on-chain")
    regulator = op.as_signer("regulator")
    regulator.suspend(op.resolve("supplier2"))
    try:
        core.transfer(op.resolve("supplier2"), 1_00)
        say("   !! the payment went through")
    except ContractRefusal as refusal:
        say(f"   refused: {refusal.rule.removeprefix('refused by the chain: ')}")
    regulator.reinstate(op.resolve("supplier2"))
    say("   supplier2 reinstated")

    say("6. balances")
    for name in ("core", "supplier1", "supplier2", "bank", "microloan"):
        say(f"   {name:<10} {format_fen(op.balance_fen(op.resolve(name))):>16}")
    say(f"   total supply {format_fen(op.total_supply_fen()):>14}")

    from ledger.audit import verify_trail

    verdict = verify_trail(op)
    seq, head = op.audit_head()
    say(
        f"7. audit trail: {verdict.entries} entries, head #{seq} {head} — "
        + (
            "verified from chain data"
            if verdict.ok
            else f"FAILED at #{verdict.first_bad_seq}: {verdict.problem}"
        )
    )
