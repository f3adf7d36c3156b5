"""Credit files with consent (征信链): a borrower's consent, a lender's query, the file, and
the borrower's data-usage log (查询记录)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.context import App, bad_input_as_usage, emit_json, json_option, pass_app, say, table

if TYPE_CHECKING:
    from ledger.engine.client import Ledger


@click.group()
def consent() -> None:
    """Consent to lenders reading your credit file, and the log of who read it."""


@consent.command(
    "grant",
    epilog="Example: liandai --as supplier1 consent grant bank --days 90 "
    '--purpose "working-capital loan"',
)
@click.argument("lender")
@click.option(
    "--days",
    type=int,
    default=365,
    show_default=True,
    help="How long the consent holds, 1 to 3650 days from now.",
)
@click.option(
    "--purpose",
    default="credit assessment",
    show_default=True,
    help="What the lender may read the file for (at most 32 bytes of UTF-8).",
)
@json_option
@pass_app
def grant(app: App, lender: str, days: int, purpose: str, as_json: bool) -> None:
    """Consent to LENDER reading your credit file (you sign as the borrower). Granting
    again renews the consent with the new term and purpose."""
    from ledger.engine.consent import check_days, encode_purpose
    from ledger.money import format_time

    with bad_input_as_usage():
        check_days(days)
        encode_purpose(purpose)
    ledger = app.ledger()
    with bad_input_as_usage():
        lender_address = ledger.resolve(lender)
    sent = ledger.consents.grant(lender_address, days, purpose)
    view = ledger.consents.get(ledger.sender.address, lender_address)
    if as_json:
        emit_json({"tx": sent.tx, "gas_used": sent.gas_used, **view.model_dump()})
        return
    say(
        f"{ledger.signer_name} consents to {ledger.name_of(lender_address)} reading its credit "
        f"file for {view.purpose!r} until {format_time(view.expires_at)} (tx {sent.tx})"
    )


@consent.command("revoke", epilog="Example: liandai --as supplier1 consent revoke bank")
@click.argument("lender")
@json_option
@pass_app
def revoke(app: App, lender: str, as_json: bool) -> None:
    """Withdraw the consent you granted LENDER; its later queries are refused."""
    ledger = app.ledger()
    with bad_input_as_usage():
        lender_address = ledger.resolve(lender)
    sent = ledger.consents.revoke(lender_address)
    view = ledger.consents.get(ledger.sender.address, lender_address)
    if as_json:
        emit_json({"tx": sent.tx, "gas_used": sent.gas_used, **view.model_dump()})
        return
    say(
        f"{ledger.signer_name} revoked its consent to {ledger.name_of(lender_address)} "
        f"(tx {sent.tx})"
    )


@consent.command(
    "log",
    epilog="Examples: liandai --as supplier1 consent log · liandai consent log supplier1 --json",
)
@click.argument("borrower", required=False)
@json_option
@pass_app
def log(app: App, borrower: str | None, as_json: bool) -> None:
    """Every query of BORROWER's credit file (default: yours): who read it, when, and for
    what purpose. The table also lists the consents BORROWER granted."""
    from ledger.money import format_time

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(borrower) if borrower else ledger.resolve(ledger.signer_name)
    queries = ledger.consents.log(address)
    if as_json:
        emit_json(queries)
        return
    who = ledger.name_of(address)
    table(
        f"queries of {who}'s credit file",
        ["#", "time", "lender", "purpose", "consent of", "tx"],
        [
            [
                str(n),
                format_time(q.at),
                ledger.name_of(q.lender),
                q.purpose,
                format_time(q.granted_at),
                q.tx,
            ]
            for n, q in enumerate(queries, 1)
        ],
    )
    consents = ledger.consents.granted_by(address)
    if consents:
        table(
            f"consents {who} granted",
            ["lender", "state", "purpose", "granted", "expires", "queries"],
            [
                [
                    ledger.name_of(c.lender),
                    c.state,
                    c.purpose,
                    format_time(c.granted_at),
                    format_time(c.expires_at),
                    str(c.queries),
                ]
                for c in consents
            ],
        )


@click.group()
def credit() -> None:
    """Credit files (征信报告): a borrower's history, queried under its consent."""


@credit.command(
    "file",
    epilog="Example: liandai --as bank credit file supplier1 supplier1-credit.jsonl ; "
    "liandai audit verify --evidence supplier1-credit.jsonl",
)
@click.argument("borrower")
@click.argument("out", type=click.Path(path_type=Path))
@json_option
@pass_app
def credit_file(app: App, borrower: str, out: Path, as_json: bool) -> None:
    """Query BORROWER's credit file (you sign as a LENDER holding its live consent) and
    write it to OUT: every loan as borrower with each repayment's days past due, defaults
    and cover, every receivable as debtor paid on time or how late, summary figures, and
    the audit entries with inclusion proofs, so `audit verify --evidence OUT` checks it
    offline.

    The query is a transaction, sent first: refused without a live consent (then no file
    and no entry), otherwise recorded as a CREDIT_QUERIED entry in BORROWER's data-usage log.
    """
    from ledger.credit.file import write_credit_file
    from ledger.errors import BadInput

    with bad_input_as_usage():
        if out.is_dir():
            raise BadInput(f"{out} is a directory; give a file to write")
        if not out.parent.is_dir():
            raise BadInput(f"{out.parent} is not a directory")
    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(borrower)
    queried = ledger.consents.query(address)
    done = write_credit_file(ledger, queried, out)
    if as_json:
        emit_json(
            {
                "path": str(done.path),
                "tx": queried.tx,
                "gas_used": queried.gas_used,
                "query_seq": queried.seq,
                "entries": done.entries,
                "checkpoint_size": done.size,
                "checkpoint_root": done.root,
                "bytes": done.bytes,
                "file": done.file,
            }
        )
        return
    _print_file(ledger, done.file)
    say(
        f"query recorded as audit entry #{queried.seq} (tx {queried.tx}); wrote "
        f"{done.entries} entries with inclusion proofs to {out} ({done.bytes:,} bytes)"
    )
    say(f"verify offline: liandai audit verify --evidence {out}")


def _dpd(days: int | None) -> str:
    if days is None:
        return "-"
    return "on time" if days == 0 else f"{days} days late"


def _print_file(ledger: Ledger, f: dict[str, Any]) -> None:
    from ledger.money import format_bps, format_date, format_fen

    s = f["summary"]
    ratio = s["on_time_ratio_bps"]
    overdue = s["current_overdue"]
    table(
        f"credit file of {ledger.name_of(f['borrower'])} for {ledger.name_of(f['lender'])} "
        f"({f['purpose']})",
        ["figure", "value"],
        [
            ["loans as borrower", str(s["loans"])],
            ["borrowed (¥)", format_fen(s["borrowed_fen"])],
            ["outstanding (¥)", format_fen(s["outstanding_fen"])],
            ["repayments on time", f"{s['repayments_on_time']} of {s['repayments']}"],
            ["receivables as debtor", str(s["receivables"])],
            [
                "receivable payments on time",
                f"{s['receivable_payments_on_time']} of {s['receivable_payments']}",
            ],
            ["on-time ratio", "-" if ratio is None else format_bps(ratio)],
            ["worst days past due", str(s["worst_days_past_due"])],
            [
                "overdue now",
                f"{overdue['loans']} loan(s) {format_fen(overdue['outstanding_fen'])}, "
                f"{overdue['receivables']} receivable(s) {format_fen(overdue['unpaid_fen'])}",
            ],
            ["defaults", f"{s['defaults']} (loss {format_fen(s['default_loss_fen'])})"],
        ],
    )
    rows = []
    for loan in f["loans"]:
        for r in loan["repayments"]:
            rows.append(
                [
                    f"loan {loan['id']}",
                    format_date(r["at"]),
                    r["source"].lower(),
                    format_fen(r["amount_fen"]),
                    _dpd(r["days_past_due"]),
                ]
            )
        if loan["default"] is not None:
            d = loan["default"]
            rows.append(
                [
                    f"loan {loan['id']}",
                    format_date(d["at"]),
                    "DEFAULT",
                    format_fen(d["loss_fen"]),
                    _dpd(d["days_past_due"]),
                ]
            )
    for rec in f["receivables"]:
        for p in rec["payments"]:
            rows.append(
                [
                    f"receivable {p['id']}",
                    format_date(p["at"]),
                    "paid as debtor",
                    format_fen(p["amount_fen"]),
                    _dpd(p["days_late"]),
                ]
            )
    if rows:
        table("payment history", ["item", "date", "what", "¥", "days past due"], rows)
