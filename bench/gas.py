"""Gas of every user-level operation, measured on a fresh embedded chain.

Gas is deterministic for the same bytecode, inputs and state, so accounts have fixed keys
here (calldata with more zero bytes is cheaper). `gas-snapshot.json` at the repository
root holds the committed figures; `make test` fails when they drift, and
`python -m bench.gas --update` rewrites the file on purpose.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from ledger.accounts import DEV_WARNING
from ledger.artifacts import manifest
from ledger.client import Ledger
from ledger.home import Home, write_json_atomic
from ledger.models import Admission
from ledger.roles import Role
from ledger.setup import DEV_ACCOUNTS, initialise

SNAPSHOT = Path(__file__).resolve().parent.parent / "gas-snapshot.json"


def fixed_home(root: Path) -> Home:
    """A home whose dev accounts have fixed keys, so addresses (and gas) repeat."""
    home = Home.at(root)
    home.ensure()
    keys = {}
    for name in ("operator", *DEV_ACCOUNTS, "newcomer"):
        acct = Account.from_key(keccak(text=f"liandai gas snapshot {name}"))
        keys[name] = {"address": acct.address, "private_key": acct.key.hex()}
    write_json_atomic(home.dev_keys_file, {"warning": DEV_WARNING, "accounts": keys})
    return home


def measure() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        home = fixed_home(Path(tmp) / "home")
        initialise(home, dev=True)
        gas: dict[str, int] = {}
        with Ledger.open(home) as op:
            for name, roles in [
                ("issuer", Role.ECNY_ISSUER),
                ("core", Role.CORE_ENTERPRISE),
                ("supplier1", Role.SUPPLIER),
                ("supplier2", Role.SUPPLIER),
                ("regulator", Role.REGULATOR),
            ]:
                sent = op.admit(Admission(address=op.resolve(name), roles=roles))
            gas["member.admit"] = sent.gas_used
            issuer, core = op.as_signer("issuer"), op.as_signer("core")
            s1, s2 = op.resolve("supplier1"), op.resolve("supplier2")
            gas["ecny.mint.new_holder"] = issuer.mint(op.resolve("core"), 1_000_000_00).gas_used
            gas["ecny.mint.existing_holder"] = issuer.mint(op.resolve("core"), 1_00).gas_used
            gas["ecny.transfer.new_recipient"] = core.transfer(s1, 10_000_00).gas_used
            gas["ecny.transfer.existing_recipient"] = core.transfer(s1, 10_000_00).gas_used
            gas["ecny.transfer.emptying_sender"] = (
                op.as_signer("supplier1").transfer(s2, 20_000_00).gas_used
            )
            issuer.mint(op.resolve("issuer"), 5_00)
            gas["ecny.burn"] = issuer.burn(1_00).gas_used
            regulator = op.as_signer("regulator")
            gas["member.suspend"] = regulator.suspend(s2).gas_used
            gas["member.reinstate"] = regulator.reinstate(s2).gas_used
            gas["member.set_net_assets"] = regulator.set_net_assets(s2, 1_000_00).gas_used
    for name, entry in manifest()["contracts"].items():
        gas[f"size.{name}"] = int(entry["deployedSize"])
    return dict(sorted(gas.items()))


def main() -> None:
    figures = measure()
    if "--update" in sys.argv:
        SNAPSHOT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {SNAPSHOT.name}")
    for key, value in figures.items():
        print(f"{key:<40} {value:>10,}")


if __name__ == "__main__":
    main()
