"""Credit files (征信报告): written after the on-chain query, verified offline.

A credit file is an evidence bundle (`ledger.audit.evidence`) whose header also carries
the borrower's file: line 1 is the header, each further line one audit entry with its
bound business event and an RFC 9162 inclusion proof. The entries are the borrower's
loans (every LOAN_* entry of a loan proposed to it), its receivables as debtor (issue,
acceptance, splits, payments, rejection or cancellation, over the whole lineage), the
consent the query was made under, and last the CREDIT_QUERIED entry of the query itself.

The tree is the trail's first `n` entries, `n` being the query's own entry: the file is
written right after the query, before any auditor could publish a checkpoint covering
it, so the writer computes that root from the chain after verifying the whole trail up to
the query's block. Anyone with a node checks it against the chain (`AuditRecorded` #n is
the query's entry; the root of the first `n` entries recomputes from the logs); offline,
`audit verify --evidence FILE` checks every entry, event and proof, and then recomputes
the file's figures from the proved events (`ledger.credit.figures`): a figure that does
not follow from them fails, like any tampered field. As for any evidence bundle, proofs
show presence, not absence: anyone with a node can rebuild the listing and compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.audit.binding import by_name, kind_label, readable_fields
from ledger.audit.bundle import TREE
from ledger.audit.evidence import (
    EvidenceVerdict,
    _bytes,
    _entry_line,
    _EvidenceHeader,
    verify_evidence,
)
from ledger.audit.merkle import Frontier, Tree, leaf_hash
from ledger.audit.trail import Bad, Entry, Event, TrailCheck, chain_entries, chain_head, checkpoints
from ledger.credit.figures import (
    CONSENT_KINDS,
    FILE_KINDS,
    LOAN_KINDS,
    RECEIVABLE_KINDS,
    Inconsistent,
    Item,
    credit_file,
)
from ledger.errors import BadInput, Refused
from ledger.home import write_text_atomic

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.engine.consent import Queried

FORMAT = "liandai-credit-file/1"


@dataclass(frozen=True)
class CreditScope:
    """Which entries a credit file may hold (the figures check the rest)."""

    loans: frozenset[int]
    receivables: frozenset[int]
    borrower: int
    lender: int

    def covers(self, kind: str, subject: int, event_ids: Iterable[int] = ()) -> bool:
        if kind in LOAN_KINDS:
            return subject in self.loans
        if kind in RECEIVABLE_KINDS:
            return subject in self.receivables
        if kind == "CONSENT_GRANTED":
            return subject == self.lender
        if kind == "CREDIT_QUERIED":
            return subject == self.borrower
        return False


@dataclass(frozen=True)
class WrittenFile:
    """What `write_credit_file` wrote."""

    path: Path
    entries: int
    size: int
    root: str
    bytes: int
    file: dict[str, Any]


# --------------------------------------------------------------------------- writing


class _Selection:
    """Picks a borrower's entries from the trail in one pass, in order."""

    def __init__(self, borrower: str, queried: Queried) -> None:
        self.borrower = borrower
        self.queried = queried
        self.loans: set[int] = set()
        self.receivables: set[int] = set()
        self.chosen: list[tuple[Entry, Event | None, dict[str, Any]]] = []
        self.consent: tuple[Entry, Event | None, dict[str, Any]] | None = None

    def offer(self, entry: Entry, event: Event | None) -> None:
        kind = kind_label(entry.kind)
        if kind not in FILE_KINDS or event is None or entry.seq > self.queried.seq:
            return
        known = self.loans if kind in LOAN_KINDS else self.receivables
        opens = kind in CONSENT_KINDS or kind in ("LOAN_PROPOSED", "RECEIVABLE_ISSUED")
        if not opens and entry.subject not in known:
            return
        b = by_name()[kind]
        fields = readable_fields(b, event.topics, event.data)
        picked = (entry, event, fields)
        if kind == "LOAN_PROPOSED":
            if fields["borrower"] != self.borrower:
                return
            self.loans.add(entry.subject)
        elif kind == "RECEIVABLE_ISSUED":
            if fields["debtor"] != self.borrower:
                return
            self.receivables.add(entry.subject)
        elif kind == "RECEIVABLE_SPLIT":
            first = int(fields["firstChild"])
            self.receivables.update(range(first, first + len(fields["valuesFen"])))
        elif kind == "CONSENT_GRANTED":
            if (fields["borrower"], fields["lender"], fields["grantedAt"]) == (
                self.borrower,
                self.queried.lender,
                self.queried.granted_at,
            ):
                self.consent = picked
            return
        elif kind == "CREDIT_QUERIED" and entry.seq != self.queried.seq:
            return
        self.chosen.append(picked)

    def entries(self) -> list[tuple[Entry, Event | None, dict[str, Any]]]:
        if self.consent is None:
            raise Refused("the consent this query was made under is not in the trail")
        return sorted([*self.chosen, self.consent], key=lambda c: c[0].seq)


def write_credit_file(ledger: Ledger, queried: Queried, path: Path) -> WrittenFile:
    """Verify the trail up to the query's block, then write the borrower's credit file."""
    block = queried.block
    check = TrailCheck(
        ledger.deployment.contracts,
        chain_head(ledger, block),
        frontier=Frontier(),
        checkpoints={c.size: c.root for c in checkpoints(ledger, block)},
    )
    pick = _Selection(queried.borrower, queried)
    hashes: list[bytes] = []
    try:
        for entry, event in chain_entries(ledger, ledger.deployment.start_block, block):
            check.add_chain_entry(entry, event)
            hashes.append(entry.entry_hash)
            pick.offer(entry, event)
        check.finish()
    except Bad as bad:
        raise Refused(
            f"the trail does not verify at entry #{bad.seq} ({bad.problem}): no credit file written"
        ) from None
    size = queried.seq
    chosen = pick.entries()
    items = [
        Item(e.seq, kind_label(e.kind), e.actor, e.subject, e.at, fields) for e, _, fields in chosen
    ]
    try:
        figures = credit_file(items, queried.borrower)
    except Inconsistent as exc:  # the selection and the figures disagree: a bug, not input
        raise Refused(f"cannot build the credit file: entry #{exc.seq}: {exc.problem}") from None
    tree = Tree([leaf_hash(h) for h in hashes[:size]])
    root = "0x" + tree.root().hex()
    header = {
        "format": FORMAT,
        "subject": {"credit_query": size},
        "borrower": queried.borrower,
        "lender": queried.lender,
        "lineage": {
            "loans": sorted(pick.loans),
            "receivables": sorted(pick.receivables),
        },
        "chain_id": ledger.deployment.chain_id,
        "network": ledger.deployment.network,
        "contracts": dict(ledger.deployment.contracts),
        "tree": TREE,
        "checkpoint": {
            "size": size,
            "root": root,
            "published": False,
            "head": "0x" + hashes[size - 1].hex(),
            "block": block,
            "tx": queried.tx,
        },
        "entries": [e.seq for e, _, _ in chosen],
        "file": figures,
    }
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps(_entry_line(e, ev, tree, size), ensure_ascii=False) for e, ev, _ in chosen]
    text = "\n".join(lines) + "\n"
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise Refused(
            f"the query was recorded (entry #{size}) but {path} cannot be written: {exc.strerror}"
        ) from None
    return WrittenFile(path, len(chosen), size, root, len(text.encode()), figures)


# --------------------------------------------------------------------------- verifying


def _first_difference(shown: Any, expected: Any, where: str = "") -> str:
    """Where two JSON values first differ, e.g. `loans[0].repayments[1].days_past_due`."""
    if isinstance(shown, dict) and isinstance(expected, dict):
        for key in list(expected) + [k for k in shown if k not in expected]:
            if shown.get(key, ...) != expected.get(key, ...):
                return _first_difference(shown.get(key), expected.get(key), f"{where}.{key}")
    if isinstance(shown, list) and isinstance(expected, list) and len(shown) == len(expected):
        for i, (a, b) in enumerate(zip(shown, expected, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    path = where.lstrip(".") or "content"
    return f"{path} (shown {json.dumps(shown)[:60]}, recomputed {json.dumps(expected)[:60]})"


def read_header(data: dict[str, Any]) -> _EvidenceHeader:
    """A credit file's header, for the evidence checker; its `finish` recomputes the
    figures from the proved entries and compares them with the file's."""
    from eth_utils import to_checksum_address

    try:
        cp = data["checkpoint"]
        borrower = to_checksum_address(data["borrower"])
        lender = to_checksum_address(data["lender"])
        lineage = data["lineage"]
        scope = CreditScope(
            loans=frozenset(int(i) for i in lineage["loans"]),
            receivables=frozenset(int(i) for i in lineage["receivables"]),
            borrower=int(borrower, 16),
            lender=int(lender, 16),
        )
        shown = data["file"]
        if not isinstance(shown, dict):
            raise ValueError("its file is not an object")
        header = _EvidenceHeader(
            subject={"credit_query": int(data["subject"]["credit_query"])},
            lineage=scope,
            contracts={str(k): _bytes(v, 20) for k, v in data["contracts"].items()},
            size=int(cp["size"]),
            root=_bytes(cp["root"], 32),
            seqs=[int(s) for s in data["entries"]],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"not a credit file: its header is unreadable ({exc})") from None

    def finish(items: list[Item]) -> None:
        last = items[-1] if items else None
        if last is None or last.seq != header.size or header.subject["credit_query"] != last.seq:
            raise Bad(None, f"the file's last entry is not its query (entry #{header.size})")
        if to_checksum_address(last.actor) != lender:
            raise Bad(last.seq, f"the query was made by {last.actor}, not by {lender}")
        try:
            expected = credit_file(items, borrower)
        except Inconsistent as exc:
            raise Bad(exc.seq, exc.problem) from None
        parts = {p for r in expected["receivables"] for p in r["parts"]}
        if scope.loans != {loan["id"] for loan in expected["loans"]} or scope.receivables != parts:
            raise Bad(None, "the header's lineage is not the loans and receivables of its entries")
        if shown != expected:
            where = _first_difference(shown, expected)
            raise Bad(None, f"the credit file's {where} does not follow from its entries")

    return _EvidenceHeader(
        subject=header.subject,
        lineage=scope,
        contracts=header.contracts,
        size=header.size,
        root=header.root,
        seqs=header.seqs,
        finish=finish,
    )


def verify_file(path: Path, trusted_root: bytes | None = None) -> EvidenceVerdict:
    """Verify a credit file (or any evidence bundle) offline, figures included."""
    return verify_evidence(path, trusted_root, READERS)


READERS = {FORMAT: read_header}
