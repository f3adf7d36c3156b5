"""Entry kinds, their events and the hash that binds them; the generated kinds page."""

from __future__ import annotations

from ledger.audit.binding import _slow_data_hash, bindings, data_hash
from ledger.audit.docs import PAGE, render
from ledger.audit.trail import chain_entries
from ledger.engine.client import Ledger
from ledger.home import Home


def test_every_kind_rebuilds_its_encoding_without_decoding() -> None:
    assert all(b.head is not None for b in bindings().values())


def test_the_fast_data_hash_equals_decoding_and_re_encoding_on_every_story_event(
    story: Home,
) -> None:
    seen = set()
    with Ledger.open(story) as ledger:
        to = int(ledger.chain.w3.eth.block_number)
        for entry, event in chain_entries(ledger, ledger.deployment.start_block, to):
            assert event is not None
            b = bindings()[entry.kind]
            fast = data_hash(b, event.topics, event.data)
            assert fast == _slow_data_hash(b, event.topics, event.data) == entry.data_hash
            seen.add(b.kind)
    assert len(seen) >= 15


def test_a_malformed_log_has_no_data_hash() -> None:
    b = next(b for b in bindings().values() if b.kind == "LOAN_SETTLED")
    topics = [b.topic0] + [bytes(32)] * 3
    assert data_hash(b, topics[:-1], bytes(32 * 8)) is None
    assert data_hash(b, topics, bytes(32 * 7)) is None
    huge = bytes(32 * 3) + b"\xff" * 32 + bytes(32 * 4)
    assert data_hash(b, topics, huge) is None


def test_the_kinds_page_is_generated_from_the_table_and_the_abis() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run `python -m ledger.audit.docs`"
