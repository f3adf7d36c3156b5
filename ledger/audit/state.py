"""What an auditor's home remembers: the last head it verified on each network.

`<home>/audit/<network>.json` holds the chain id, the trail's address, the position
(`seq`, `entryHash`) and the Merkle frontier after it (one hash per set bit of `seq`).
Every later verification checks that the chain still holds that entry, so a rewritten
history fails even when it is internally consistent; `--from-seq` starts from it and
continues the tree, so published checkpoints are still checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.audit.merkle import Frontier
from ledger.audit.trail import Trusted, Verdict
from ledger.home import write_json_atomic

if TYPE_CHECKING:
    from ledger.engine.client import Ledger


def state_file(ledger: Ledger) -> Path:
    return ledger.home.root / "audit" / f"{ledger.deployment.network}.json"


def load_verified(ledger: Ledger) -> Trusted | None:
    """The head this home verified last on this chain and trail, if any."""
    try:
        data = json.loads(state_file(ledger).read_text(encoding="utf-8"))
        if (
            int(data["chain_id"]) != ledger.deployment.chain_id
            or str(data["trail"]).lower() != ledger.deployment.address("AuditTrail").lower()
        ):
            return None  # another trail: nothing verified on this one yet
        seq = int(data["seq"])
        branch = data.get("frontier")
        frontier = None if branch is None else Frontier.restore(seq, branch)
        return Trusted(seq, bytes.fromhex(str(data["entry_hash"])[2:]), frontier)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        from ledger.errors import Refused

        raise Refused(f"{state_file(ledger)} is unreadable ({exc}); move it away") from None


def save_verified(ledger: Ledger, verdict: Verdict) -> None:
    """Remember a successful verification's head (and the tree after it)."""
    if not verdict.ok or verdict.seq == 0:
        return
    write_json_atomic(
        state_file(ledger),
        {
            "chain_id": ledger.deployment.chain_id,
            "trail": ledger.deployment.address("AuditTrail"),
            "seq": verdict.seq,
            "entry_hash": verdict.head,
            "root": verdict.root,
            "frontier": None if verdict.frontier is None else verdict.frontier.state(),
            "block": verdict.block,
        },
        mode=0o644,
    )
