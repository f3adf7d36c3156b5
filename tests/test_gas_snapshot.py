"""Gas is a number the tests record: any change must be made on purpose."""

from __future__ import annotations

import json

from bench.gas import SNAPSHOT, measure


def test_gas_matches_the_committed_snapshot() -> None:
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    measured = measure()
    changes = {
        k: (committed.get(k), measured.get(k))
        for k in sorted(set(committed) | set(measured))
        if committed.get(k) != measured.get(k)
    }
    assert not changes, (
        "gas changed (committed → measured): "
        + ", ".join(f"{k}: {a} → {b}" for k, (a, b) in changes.items())
        + "; if intended, run `python -m bench.gas --update` and explain it in the commit"
    )
