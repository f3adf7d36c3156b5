"""Deferred imports: the stand-ins load the real module the moment something uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import ledger._lazy as lazy
lazy.install()
import web3, eth_keyfile
from ledger.chain.embedded import EmbeddedChain
assert type(sys.modules["py_ecc.bls"]).__name__ == "_StandIn"   # not loaded by the imports
from eth_account import Account
acct = Account.create()
assert Account.decrypt(Account.encrypt(acct.key, "pw", iterations=2), "pw") == acct.key
chain = EmbeddedChain.open(None)
# BLS12-381 G1ADD precompile (0x0b) of two points at infinity: 128 zero bytes out.
out = chain.rpc("eth_call", [{"to": "0x" + "00" * 19 + "0b", "data": "0x" + "00" * 256,
                              "gas": hex(100000)}, "latest"])
assert out == "0x" + "00" * 128, out
assert type(sys.modules["eth.precompiles.bls12_381"]).__name__ == "module"  # now real
print("ok")
"""


def test_deferred_modules_load_when_used_and_precompiles_still_work() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
