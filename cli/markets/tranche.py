"""Tranche sales (转让, DESIGN §6.3): delivery versus payment."""

from __future__ import annotations

import click

from cli.context import (
    AMOUNT,
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


def _index(value: str) -> int:
    from ledger.errors import BadInput

    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise BadInput(f"{value!r} is not a tranche index (0, 1, … in tranche order)")
    return int(text)


@click.group()
def tranche() -> None:
    """Sell a tranche of a disbursed or defaulted loan: delivery versus payment."""


@tranche.command(
    "offer",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as bank tranche offer 1 0 --to fund --price 400,000 --days 7",
)
@click.argument("loan_id", metavar="LOAN")
@click.argument("index", metavar="INDEX")
@click.option("--to", "buyer", required=True, metavar="NAME", help="The one member who may buy.")
@click.option("--price", required=True, type=AMOUNT, metavar="AMT", help="Price in yuan.")
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=int,
    metavar="N",
    help="The offer stands this many days (1 to 365).",
)
@json_option
@pass_app
def offer(
    app: App, loan_id: str, index: str, buyer: str, price: int, days: int, as_json: bool
) -> None:
    """Offer tranche INDEX (0-based, in tranche order) of loan LOAN, whole, to one buyer.

    Only the tranche's holder. The buyer must be an active LENDER (not a tech partner) within
    its exposure limit; the loan's originator must keep min_originator_share_bps of the
    loan's outstanding; a tranche in a securitisation deal cannot be offered.
    """
    from ledger.engine.markets.tranches import check_offer
    from ledger.money import format_fen, format_time

    with bad_input_as_usage():
        number = parse_id(loan_id, "loan")
        position = _index(index)
        check_offer(position, price, days)
    ledger = app.ledger()
    with bad_input_as_usage():
        to = ledger.resolve(buyer)
    sent = ledger.tranches.offer(number, position, to, price, days)
    (view,) = [o for o in ledger.tranches.offers(number) if o.tx == sent.tx]
    if as_json:
        emit_json({"tx": sent.tx, **view.model_dump()})
        return
    say(
        f"offered tranche {position} of loan #{number} to {ledger.name_of(to)} for "
        f"{format_fen(price)} until {format_time(view.expires_at)} (tx {sent.tx})"
    )


@tranche.command("buy", epilog="Example: liandai --as fund tranche buy 1 0")
@click.argument("loan_id", metavar="LOAN")
@click.argument("index", metavar="INDEX")
@json_option
@pass_app
def buy(app: App, loan_id: str, index: str, as_json: bool) -> None:
    """Buy tranche INDEX of loan LOAN as offered to you: pay the seller and become the lender.

    Both happen in one transaction; the tranche's outstanding principal, unpaid coupon and
    every later receipt's share pass to you.
    """
    from ledger.money import format_fen

    with bad_input_as_usage():
        number = parse_id(loan_id, "loan")
        position = _index(index)
    ledger = app.ledger()
    sale = ledger.tranches.buy(number, position)
    if as_json:
        emit_json(sale)
        return
    say(
        f"bought tranche {position} of loan #{number} from {ledger.name_of(sale.seller)}: paid "
        f"{format_fen(sale.price_fen)}, took {format_fen(sale.outstanding_fen)} outstanding "
        f"and {format_fen(sale.coupon_due_fen)} unpaid coupon (tx {sale.tx})"
    )


@tranche.command("withdraw", epilog="Example: liandai --as bank tranche withdraw 1 0")
@click.argument("loan_id", metavar="LOAN")
@click.argument("index", metavar="INDEX")
@json_option
@pass_app
def withdraw(app: App, loan_id: str, index: str, as_json: bool) -> None:
    """Withdraw your open offer of tranche INDEX of loan LOAN."""
    with bad_input_as_usage():
        number = parse_id(loan_id, "loan")
        position = _index(index)
    ledger = app.ledger()
    sent = ledger.tranches.withdraw(number, position)
    if as_json:
        emit_json({"tx": sent.tx, "loan_id": number, "index": position})
    else:
        say(f"withdrew the offer of tranche {position} of loan #{number} (tx {sent.tx})")


@tranche.command("list", epilog="Example: liandai tranche list --loan 1 --json")
@click.option("--loan", "loan_id", metavar="ID", help="Only this loan's offers.")
@click.option("--open", "only_open", is_flag=True, help="Only offers that can still be taken.")
@json_option
@pass_app
def list_offers(app: App, loan_id: str | None, only_open: bool, as_json: bool) -> None:
    """Every tranche offer with what became of it (OPEN, EXPIRED, SOLD, WITHDRAWN, …)."""
    from ledger.money import format_fen, format_time

    with bad_input_as_usage():
        number = parse_id(loan_id, "loan") if loan_id is not None else None
    ledger = app.ledger()
    offers = ledger.tranches.offers(number)
    if only_open:
        offers = [o for o in offers if o.status == "OPEN"]
    if as_json:
        emit_json(offers)
        return
    table(
        "tranche offers",
        ["loan #", "tranche", "seller", "buyer", "price (¥)", "expires", "status"],
        [
            [
                str(o.loan_id),
                str(o.index),
                ledger.name_of(o.seller),
                ledger.name_of(o.buyer),
                format_fen(o.price_fen),
                format_time(o.expires_at),
                o.status,
            ]
            for o in offers
        ],
    )
