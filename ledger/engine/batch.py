"""`receivable import`: a batch of receivables from a spreadsheet export (CSV).

Every row is checked before anything is sent — supplier, amount, due date, document, a
document used twice in the file or already on the chain — and all problems are reported
together. Then the rows are issued one by one with a progress bar; a refusal of one row is
recorded and the batch goes on; Ctrl-C stops after the row being sent, and what was
issued stays issued and is reported.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import BadInput, LedgerError
from ledger.money import format_fen, format_time, parse_amount, parse_date
from ledger.roles import Role

# Receivable statuses (ledger.receivables.STATUS_NAMES) that free their document.
FREED_STATUSES = (6, 7)  # REJECTED, CANCELLED

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.engine.receivables import Receivables

COLUMNS = ("supplier", "amount", "due", "doc")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Row:
    """One checked row.

    Attributes:
        number: the row's line number in the file (header is line 1).
        supplier: the supplier as written.
        address: its address.
        amount_fen: face value.
        due_at: maturity (end of the day, CST).
        doc_hash: the document hash.
        issued_as: the receivable this row already is (resuming with `skip_issued`), or 0.
    """

    number: int
    supplier: str
    address: str
    amount_fen: int
    due_at: int
    doc_hash: bytes
    issued_as: int = 0


def _doc(value: str, base: Path) -> bytes:
    from eth_utils import keccak

    from ledger.models import parse_bytes32

    text = value.strip()
    if text.startswith("0x") and len(text) == 66:
        h = parse_bytes32(text, "doc")
    else:
        path = (base / text) if not Path(text).is_absolute() else Path(text)
        try:
            h = keccak(path.read_bytes())
        except OSError as exc:
            raise BadInput(f"document {text!r} cannot be read ({exc.strerror})") from None
    if h == b"\0" * 32:
        raise BadInput("the document hash is zero")
    return h


def read_rows(ledger: Ledger, path: Path, *, skip_issued: bool = False) -> list[Row]:
    """Parse and check every row; raise one BadInput naming every bad row.

    With `skip_issued`, a row whose document already backs a receivable the signer issued
    to the same supplier for the same amount is kept as done (`issued_as`), not refused:
    an interrupted import runs again to the end."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BadInput(
            f"{path.name}: missing column(s) {', '.join(missing)} (need {', '.join(COLUMNS)})"
        )
    signer = ledger.member(ledger.keyring.get(ledger.signer_name).address)
    if "CORE_ENTERPRISE" not in signer.roles or signer.status != "ACTIVE":
        raise BadInput(f"{ledger.signer_name} is not an active CORE_ENTERPRISE: it cannot issue")
    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    token = ledger.contract("ReceivableToken").functions
    rows: list[Row] = []
    problems: list[str] = []
    seen: dict[bytes, int] = {}
    for number, raw in enumerate(reader, start=2):
        values = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            address = ledger.resolve(values["supplier"])
            member = ledger.member(address)
            if member.status != "ACTIVE" or Role.SUPPLIER.name not in member.roles:
                raise BadInput(f"{values['supplier']} is not an active SUPPLIER")
            amount = parse_amount(values["amount"])
            due = parse_date(values["due"])
            if due <= now:
                raise BadInput(f"due date {values['due']} is not after {format_time(now)}")
            doc = _doc(values["doc"], path.parent)
            if doc in seen:
                raise BadInput(f"document also on row {seen[doc]}")
            existing = int(token.receivableOfDocument(signer.address, doc).call())
            # A rejected or cancelled receivable freed its document (DESIGN §4.3).
            if existing and int(token.statusOf(existing).call()) in FREED_STATUSES:
                existing = 0
            if existing and not (skip_issued and _same(ledger, existing, address, amount)):
                raise BadInput(
                    f"document already backs receivable #{existing}"
                    + ("" if skip_issued else " (resuming an import? --skip-issued)")
                )
            seen[doc] = number
            rows.append(Row(number, values["supplier"], address, amount, due, doc, existing))
        except BadInput as exc:
            problems.append(f"row {number}: {exc}")
        if number - 1 > MAX_ROWS:
            raise BadInput(f"{path.name} has more than {MAX_ROWS} rows; split it")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; … {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise BadInput(f"{len(problems)} bad row(s) in {path.name}, nothing sent: {shown}")
    if not rows:
        raise BadInput(f"{path.name} has no rows")
    return rows


def _same(ledger: Ledger, rid: int, supplier: str, amount_fen: int) -> bool:
    """Receivable #rid is the one this row would issue: this signer's, to that supplier, for
    that amount (its first holder: the receivable may have moved on since)."""
    view = ledger.receivables.get(rid)
    issued = ledger.events("ReceivableToken", "ReceivableIssued", argument_filters={"id": rid})
    first_holder = issued[0]["args"].get("supplier") if issued else None
    signer = ledger.keyring.get(ledger.signer_name).address
    return (
        view.debtor == signer
        and view.face_value_fen == amount_fen
        and (first_holder is None or first_holder == supplier)
    )


def issue_rows(ledger: Ledger, rows: list[Row], *, progress: bool = True) -> list[dict[str, Any]]:
    """Issue each row; per-row result dicts (id and tx, or error)."""
    results: list[dict[str, Any]] = [
        {
            "row": r.number,
            "supplier": r.supplier,
            "amount": format_fen(r.amount_fen, symbol=False),
            "amount_fen": r.amount_fen,
            "id": None,
            "tx": None,
            "error": "not sent",
        }
        for r in rows
    ]
    receivables = ledger.receivables
    bar = None
    if progress and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("issuing", total=len(rows))
    in_flight: tuple[dict[str, Any], Row] | None = None
    try:
        for result, row in zip(results, rows, strict=True):
            if row.issued_as:
                result.update(id=row.issued_as, error=None, skipped=True)
                if bar is not None:
                    bar.update(task, advance=1)
                continue
            in_flight = (result, row)
            try:
                issued = receivables.issue(row.address, row.amount_fen, row.due_at, row.doc_hash)
                result.update(id=issued.id, tx=issued.tx, error=None)
            except LedgerError as exc:
                result["error"] = str(exc).removeprefix("refused by the chain: ")
            in_flight = None
            if bar is not None:
                bar.update(task, advance=1)
    except KeyboardInterrupt:
        if in_flight is not None:
            _settle_in_flight(receivables, *in_flight)
        for result in results:
            if result["id"] is None and result["error"] == "not sent":
                result["error"] = "not sent (interrupted)"
    finally:
        if bar is not None:
            bar.stop()
    return results


def _settle_in_flight(receivables: Receivables, result: dict[str, Any], row: Row) -> None:
    """Ctrl-C came while a row's transaction was out: its document says whether it landed.

    Each document backs at most one receivable, so a receivable holding this row's document
    is this row's (a document used before would have been refused, not issued).
    """
    try:
        rid = receivables.of_document(row.doc_hash)
        if rid and receivables.get(rid).status in ("REJECTED", "CANCELLED"):
            rid = 0  # an earlier receivable on this document, not this row's
    except (LedgerError, KeyboardInterrupt):
        rid = 0
    if rid:
        result.update(id=rid, error=None)
    else:
        result["error"] = "interrupted before it was confirmed: not on the chain when checked"
