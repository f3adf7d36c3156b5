"""Receivables (数字债权凭证): issue, accept, reject, cancel, split, transfer, pay, show, list,
import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.context import (
    AMOUNT,
    DATE,
    NEGATIVE_OK,
    App,
    bad_input_as_usage,
    emit_json,
    json_option,
    parse_id,
    pass_app,
    say,
    table,
)

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.engine.receivables import ReceivableView

STATUSES = ["PENDING", "ACTIVE", "PLEDGED", "PAID", "SPLIT", "REJECTED", "CANCELLED", "OVERDUE"]


def document_hash(doc: str | None, doc_hash: str | None) -> bytes:
    """keccak-256 of the document file's bytes, or the given 32-byte hex hash."""
    from ledger.errors import BadInput
    from ledger.models import parse_bytes32

    if (doc is None) == (doc_hash is None):
        raise BadInput("give exactly one of --doc FILE or --doc-hash HEX")
    if doc_hash is not None:
        h = parse_bytes32(doc_hash, "--doc-hash")
    else:
        from eth_utils import keccak

        path = Path(str(doc))
        try:
            h = keccak(path.read_bytes())
        except OSError as exc:
            raise BadInput(f"cannot read document {doc}: {exc.strerror}") from None
    if h == b"\0" * 32:
        raise BadInput("the document hash must not be zero")
    return h


def _id(value: str) -> int:
    return parse_id(value, "receivable")


def _chain_now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def _check_due(ledger: Ledger, due: int) -> None:
    from ledger.errors import BadInput
    from ledger.money import format_time

    now = _chain_now(ledger)
    if due <= now:
        raise BadInput(
            f"due date {format_time(due)} is not after the chain's time {format_time(now)}"
        )


def _out(as_json: bool, data: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json(data)
    else:
        say(text)


@click.group()
def receivable() -> None:
    """Digital debt certificates: confirm, split, pass on, pledge, pay."""


@receivable.command(
    "issue",
    epilog="Example: liandai --as core receivable issue --to supplier1 "
    "--amount 1,000,000.00 --due 2027-03-01 --doc invoice.pdf",
)
@click.option("--to", "to", required=True, metavar="NAME", help="The supplier (first holder).")
@click.option("--amount", type=AMOUNT, required=True, metavar="AMT", help="Face value in yuan.")
@click.option("--due", type=DATE, required=True, metavar="DATE", help="Maturity, YYYY-MM-DD (CST).")
@click.option("--doc", metavar="FILE", help="Document backing it (hashed with keccak-256).")
@click.option("--doc-hash", metavar="HEX", help="Or the document's 32-byte hash.")
@json_option
@pass_app
def issue(
    app: App, to: str, amount: int, due: int, doc: str | None, doc_hash: str | None, as_json: bool
) -> None:
    """Issue a receivable to a supplier (core enterprises only). A document backs one only."""
    ledger = app.ledger()
    with bad_input_as_usage():
        h = document_hash(doc, doc_hash)
        supplier = ledger.resolve(to)
        _check_due(ledger, due)
    result = ledger.receivables.issue(supplier, amount, due, h)
    _out(as_json, result.model_dump(), f"issued receivable #{result.id} (tx {result.tx})")


def _simple(name: str, verb: str, doc: str) -> click.Command:
    @click.command(name, help=doc, epilog=f"Example: liandai receivable {name} 7")
    @click.argument("rid", metavar="ID")
    @json_option
    @pass_app
    def command(app: App, rid: str, as_json: bool) -> None:
        ledger = app.ledger()
        with bad_input_as_usage():
            number = _id(rid)
        sent = getattr(ledger.receivables, name)(number)
        _out(as_json, {"id": number, "tx": sent.tx}, f"{verb} receivable #{number} (tx {sent.tx})")

    return command


receivable.add_command(_simple("accept", "accepted", "Confirm a pending receivable issued to you."))
receivable.add_command(_simple("reject", "rejected", "Reject a pending receivable issued to you."))
receivable.add_command(_simple("cancel", "cancelled", "Withdraw a pending receivable you issued."))


@receivable.command(
    "split",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as supplier1 receivable split 1 600,000 400,000",
)
@click.argument("rid", metavar="ID")
@click.argument("amounts", nargs=-1, required=True, type=AMOUNT, metavar="AMT...")
@json_option
@pass_app
def split(app: App, rid: str, amounts: tuple[int, ...], as_json: bool) -> None:
    """Split a receivable you hold into parts that sum exactly to its unpaid value."""
    from ledger.errors import BadInput
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(rid)
        if not 2 <= len(amounts) <= 20:
            raise BadInput(f"a split needs 2 to 20 parts, not {len(amounts)}")
        unpaid = ledger.receivables.unpaid(number)
        if sum(amounts) != unpaid:
            raise BadInput(
                f"the parts sum to {format_fen(sum(amounts))}, not to the unpaid value "
                f"{format_fen(unpaid)} of receivable #{number}"
            )
    result = ledger.receivables.split(number, list(amounts))
    _out(
        as_json,
        result.model_dump(),
        f"split #{number} into {', '.join(f'#{c}' for c in result.children)} (tx {result.tx})",
    )


@receivable.command(
    "transfer", epilog="Example: liandai --as supplier1 receivable transfer 3 --to supplier2"
)
@click.argument("rid", metavar="ID")
@click.option("--to", "to", required=True, metavar="NAME", help="The new holder.")
@json_option
@pass_app
def transfer(app: App, rid: str, to: str, as_json: bool) -> None:
    """Pass a receivable you hold to another active member."""
    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(rid)
        address = ledger.resolve(to)
    sent = ledger.receivables.transfer(number, address)
    _out(
        as_json,
        {"id": number, "tx": sent.tx},
        f"receivable #{number} now held by {ledger.name_of(address)} (tx {sent.tx})",
    )


@receivable.command(
    "pay",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as core receivable pay 2 --amount 100,000",
)
@click.argument("rid", metavar="ID")
@click.option("--amount", type=AMOUNT, metavar="AMT", help="Amount in yuan (default: all unpaid).")
@json_option
@pass_app
def pay(app: App, rid: str, amount: int | None, as_json: bool) -> None:
    """Pay a receivable you owe, in e-CNY; while pledged, the loan's waterfall splits it."""
    from cli.loan import explain_short, say_settled
    from ledger.errors import ContractRefusal
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(rid)
        paid = amount if amount is not None else ledger.receivables.unpaid(number)
    try:
        sent = ledger.receivables.pay(number, amount)
    except ContractRefusal as exc:
        raise explain_short(ledger, exc, paid, f"receivable #{number}") from None
    if as_json:
        emit_json({"id": number, "tx": sent.tx})
        return
    settled = say_settled(
        ledger,
        sent,
        lambda n, s, v: (
            f"paid {format_fen(paid)} on receivable #{number}, pledged to loan "
            f"#{n}: the loan's waterfall split it (tx {sent.tx}):"
        ),
    )
    if not settled:
        holder = ledger.receivables.get(number).holder
        say(
            f"paid {format_fen(paid)} on receivable #{number} to its holder "
            f"{ledger.name_of(holder) if holder else '—'} (tx {sent.tx})"
        )


def _view(ledger: Ledger, row: Any, now: int) -> ReceivableView:
    from ledger.engine.receivables import ReceivableView
    from ledger.supervision.index import derived_status

    first, count = row["first_child"], row["child_count"]
    return ReceivableView(
        id=row["id"],
        debtor=row["debtor"],
        holder=row["holder"],
        face_value_fen=int(row["face_value_fen"]),
        paid_fen=int(row["paid_fen"]),
        maturity_at=row["maturity_at"],
        status=derived_status(row, now),
        doc_hash=row["doc_hash"],
        parent=row["parent"],
        children=list(range(first, first + count)) if first else [],
        pledged_to=row["pledged_to"],
        root=row["root"],
    )


def _index(ledger: Ledger) -> Any:
    from ledger.supervision.index import Index

    index = Index(ledger)
    index.sync()
    return index


@receivable.command("show", epilog="Example: liandai receivable show 2 --json")
@click.argument("rid", metavar="ID")
@json_option
@pass_app
def show(app: App, rid: str, as_json: bool) -> None:
    """One receivable with its lineage (parent and children, to the issued root)."""
    from ledger.errors import NotFound

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(rid)
    index = _index(ledger)
    row = index.receivable(number)
    if row is None:
        raise NotFound(f"no receivable #{number}")
    now = _chain_now(ledger)
    view = _view(ledger, row, now)
    if as_json:
        emit_json(view)
        return
    _print_receivable(ledger, index, view, now)


def _print_receivable(ledger: Ledger, index: Any, v: ReceivableView, now: int) -> None:
    from rich.console import Console
    from rich.tree import Tree

    from ledger.money import format_date, format_fen
    from ledger.supervision.index import derived_status

    rows = [
        ["id", f"#{v.id}"],
        ["status", v.status],
        ["debtor", ledger.name_of(v.debtor)],
        ["holder", ledger.name_of(v.holder) if v.holder else "—"],
        ["face value", format_fen(v.face_value_fen)],
        ["paid", format_fen(v.paid_fen)],
        ["unpaid", format_fen(v.face_value_fen - v.paid_fen)],
        ["maturity", format_date(v.maturity_at)],
        ["document", v.doc_hash],
        ["pledged to", f"loan #{v.pledged_to}" if v.pledged_to else "—"],
    ]
    table(None, ["", ""], rows)

    def label(r: Any) -> str:
        mark = "→ " if r["id"] == v.id else ""
        holder = ledger.name_of(r["holder"]) if r["holder"] else "—"
        return (
            f"{mark}#{r['id']}  {format_fen(int(r['face_value_fen']))}  "
            f"{derived_status(r, now)}  {holder}"
        )

    def grow(node: Tree, rid: int) -> None:
        r = index.receivable(rid)
        branch = node.add(label(r))
        if r["first_child"]:
            for child in range(r["first_child"], r["first_child"] + r["child_count"]):
                grow(branch, child)

    tree = Tree("lineage")
    grow(tree, v.root)
    Console().print(tree)


@receivable.command(
    "list", epilog="Example: liandai receivable list --holder supplier1 --status ACTIVE"
)
@click.option("--holder", metavar="NAME", help="Only receivables held by NAME.")
@click.option(
    "--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only this status."
)
@json_option
@pass_app
def list_(app: App, holder: str | None, status: str | None, as_json: bool) -> None:
    """Receivables from the local index (rebuilt from chain events when missing or stale)."""
    from ledger.money import format_date, format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(holder) if holder else None
    index = _index(ledger)
    now = _chain_now(ledger)
    views = [
        _view(ledger, r, now)
        for r in index.receivables(
            holder=address, status=status.upper() if status else None, now=now
        )
    ]
    if as_json:
        emit_json(views)
        return
    table(
        f"receivables ({len(views)})",
        [
            "id",
            "status",
            "debtor",
            "holder",
            "face (¥)",
            "unpaid (¥)",
            "maturity",
            "parent",
            "loan",
        ],
        [
            [
                f"#{v.id}",
                v.status,
                ledger.name_of(v.debtor),
                ledger.name_of(v.holder) if v.holder else "—",
                format_fen(v.face_value_fen, symbol=False),
                format_fen(v.face_value_fen - v.paid_fen, symbol=False),
                format_date(v.maturity_at),
                f"#{v.parent}" if v.parent else "",
                f"#{v.pledged_to}" if v.pledged_to else "",
            ]
            for v in views
        ],
    )


@receivable.command(
    "import",
    epilog="Example: liandai --as core receivable import invoices.csv\n\n"
    "CSV columns: supplier, amount, due, doc (a 0x hash or a file path).",
)
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option(
    "--skip-issued",
    is_flag=True,
    help="Rows already issued by you (same document, supplier and amount) count as done: "
    "run an interrupted import again.",
)
@json_option
@pass_app
def import_(app: App, csv_file: str, skip_issued: bool, as_json: bool) -> None:
    """Issue a batch from a spreadsheet export; every row is checked before anything is sent."""
    from ledger.engine.batch import issue_rows, read_rows

    ledger = app.ledger()
    rows = read_rows(ledger, Path(csv_file), skip_issued=skip_issued)  # BadInput: every bad row
    results = issue_rows(ledger, rows, progress=not as_json)
    if as_json:
        emit_json(results)
    else:
        table(
            f"import of {Path(csv_file).name}",
            ["row", "supplier", "amount (¥)", "result"],
            [
                [
                    str(r["row"]),
                    r["supplier"],
                    r["amount"],
                    f"#{r['id']} already issued"
                    if r.get("skipped")
                    else f"#{r['id']} {r['tx'][:12]}…"
                    if r.get("id")
                    else str(r.get("error")),
                ]
                for r in results
            ],
        )
    failed = [r for r in results if not r.get("id")]
    if failed:
        from ledger.errors import Refused

        raise Refused(f"{len(failed)} of {len(results)} rows were not issued (see above)")
