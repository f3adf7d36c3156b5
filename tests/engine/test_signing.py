"""The hot-path signer produces exactly eth-account's bytes and hash."""

from __future__ import annotations

from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.engine.signing import LegacySigner

KEYS = [Account.from_key(bytes([i]) * 32) for i in range(1, 4)]

transaction = st.fixed_dictionaries(
    {
        "nonce": st.integers(0, 2**64 - 2),
        "gasPrice": st.integers(0, 2**128),
        "gas": st.integers(21_000, 2**63),
        "to": st.one_of(st.none(), st.binary(min_size=20, max_size=20).map(to_checksum_address)),
        "value": st.integers(0, 2**200),
        "data": st.binary(max_size=300).map(lambda b: "0x" + b.hex()),
    }
)


@settings(max_examples=300, deadline=None)
@given(tx=transaction, key=st.sampled_from(KEYS), chain_id=st.integers(1, 2**40))
def test_the_fast_signer_equals_eth_account(tx: dict, key, chain_id: int) -> None:  # type: ignore[no-untyped-def, type-arg]
    raw, tx_hash = LegacySigner(key.key, chain_id).sign(tx)
    reference = dict(tx, chainId=chain_id)
    if reference["to"] is None:
        del reference["to"]
    signed = key.sign_transaction(reference)
    assert raw == bytes(signed.raw_transaction)
    assert tx_hash == bytes(signed.hash)
    assert Account.recover_transaction(raw) == key.address
