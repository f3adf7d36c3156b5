"""Securitisation (资产证券化, DESIGN §6.5): deals of pooled tranches with note classes."""

from __future__ import annotations

from typing import Any

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


def _deal(value: str) -> int:
    return parse_id(value, "deal")


def _tranche(text: str) -> tuple[int, int]:
    from ledger.errors import BadInput

    loan, sep, index = text.partition(":")
    if not sep or not index.strip().isdigit():
        raise BadInput(f"tranche {text!r} is not LOAN:INDEX (e.g. 3:0)")
    return parse_id(loan, "loan"), int(index)


def _fee(text: str) -> int:
    """`0.5%`, `50bps` or a bare number of basis points."""
    from ledger.money import parse_rate

    raw = text.strip()
    return int(raw) if raw.isascii() and raw.isdigit() else parse_rate(raw)


def _class(text: str) -> Any:
    from ledger.engine.markets.deals import ClassRequest
    from ledger.errors import BadInput
    from ledger.money import parse_amount, parse_rate

    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0].strip():
        raise BadInput(f"class {text!r} is not NAME:AMT[:COUPON] (e.g. A:800,000:5%)")
    coupon = parse_rate(parts[2]) if len(parts) == 3 else 0
    try:
        return ClassRequest(
            name=parts[0].strip(), amount_fen=parse_amount(parts[1]), coupon_bps=coupon
        )
    except ValueError as exc:
        raise BadInput(f"class {text!r}: {exc.errors()[0]['msg']}") from None  # type: ignore[attr-defined]


@click.group("abs")
def abs_() -> None:
    """Securitise tranches: deals, note classes, distributions, claims (DESIGN §6.5)."""


@abs_.command(
    "create",
    epilog="Example: liandai --as microloan abs create --tranche 1:1 --class A:180,000:5% "
    "--class J:60,000 --servicer tech --fee 0.5% --period-days 30",
)
@click.argument("listed", nargs=-1, metavar="[LOAN:INDEX]...")
@click.option("--tranche", "tranches", multiple=True, metavar="LOAN:INDEX",
              help="A tranche you hold, of a DISBURSED loan (repeatable; or list them as "
              "arguments).")  # fmt: skip
@click.option("--class", "classes", multiple=True, required=True, metavar="NAME:AMT[:COUPON]",
              help="A note class, senior first; the last is the junior, without coupon "
              "(2 to 5; amounts sum to the tranches' outstanding).")  # fmt: skip
@click.option("--servicer", required=True, metavar="NAME", help="You, or a TECH_PARTNER.")
@click.option("--fee", default="0", show_default=True, metavar="BPS|%",
              help="Servicing fee a year on the notes' balance (within the cap).")  # fmt: skip
@click.option("--period-days", default=30, show_default=True, type=int, metavar="N",
              help="After N days since the last distribution, anyone may distribute.")  # fmt: skip
@json_option
@pass_app
def create(
    app: App,
    listed: tuple[str, ...],
    tranches: tuple[str, ...],
    classes: tuple[str, ...],
    servicer: str,
    fee: str,
    period_days: int,
    as_json: bool,
) -> None:
    """Create a deal: lock the tranches, fix the classes, the servicer and its fee."""
    from ledger.engine.markets.deals import DealRequest
    from ledger.errors import BadInput
    from ledger.money import format_fen

    with bad_input_as_usage():
        if not listed and not tranches:
            raise BadInput("give the tranches to pool: --tranche LOAN:INDEX (repeatable)")
        pairs = [_tranche(t) for t in (*listed, *tranches)]
        notes = [_class(c) for c in classes]
        fee_bps = _fee(fee)
    ledger = app.ledger()
    with bad_input_as_usage():
        try:
            request = DealRequest(
                tranches=pairs,
                classes=notes,
                servicer=ledger.resolve(servicer),
                fee_bps=fee_bps,
                period_days=period_days,
            )
        except ValueError as exc:
            errors = exc.errors()  # type: ignore[attr-defined]
            raise BadInput(
                f"{errors[0]['loc'][0] if errors[0]['loc'] else 'deal'}: {errors[0]['msg']}"
            ) from None
    deal_id, sent = ledger.deals.create(request)
    view = ledger.deals.get(deal_id)
    if as_json:
        emit_json(
            {
                "id": deal_id,
                "tx": sent.tx,
                "pool_fen": view.pool_fen,
                "retention_fen": view.retention_fen,
            }
        )
        return
    say(
        f"deal #{deal_id}: pool {format_fen(view.pool_fen)} in {len(view.classes)} classes, "
        f"retention {format_fen(view.retention_fen)} of the junior (tx {sent.tx})"
    )


@abs_.command(
    "subscribe",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as investor abs subscribe 1 A 180,000",
)
@click.argument("deal_id", metavar="DEAL")
@click.argument("class_name", metavar="CLASS")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def subscribe(app: App, deal_id: str, class_name: str, amount: int, as_json: bool) -> None:
    """Subscribe AMOUNT yuan to class CLASS at par (INVESTOR or LENDER members)."""
    from ledger.money import format_fen

    with bad_input_as_usage():
        number = _deal(deal_id)
    ledger = app.ledger()
    with bad_input_as_usage():
        index = ledger.deals.class_index(number, class_name)
    sent = ledger.deals.subscribe(number, index, amount)
    if as_json:
        emit_json({"tx": sent.tx, "deal": number, "class": class_name, "amount_fen": amount})
    else:
        say(
            f"subscribed {format_fen(amount)} to class {class_name} of deal #{number} "
            f"(tx {sent.tx})"
        )


def _simple(name: str, method: str, done: str, doc: str, who: str) -> click.Command:
    @click.command(name, epilog=f"Example: liandai --as {who} abs {name} 1")
    @click.argument("deal_id", metavar="DEAL")
    @json_option
    @pass_app
    def command(app: App, deal_id: str, as_json: bool) -> None:
        with bad_input_as_usage():
            number = _deal(deal_id)
        ledger = app.ledger()
        sent = getattr(ledger.deals, method)(number)
        if as_json:
            emit_json({"tx": sent.tx, "deal": number})
        else:
            say(f"{done} deal #{number} (tx {sent.tx})")

    command.help = doc
    return command


abs_.add_command(
    _simple(
        "close",
        "close",
        "closed",
        "Close a fully subscribed deal: tranches to the deal, subscriptions to you, at once.",
        "microloan",
    )
)
abs_.add_command(
    _simple(
        "cancel",
        "cancel",
        "cancelled",
        "Cancel before close: refunds, tranches unlocked.",
        "microloan",
    )
)


@abs_.command("distribute", epilog="Example: liandai --as tech abs distribute 1 --json")
@click.argument("deal_id", metavar="DEAL")
@json_option
@pass_app
def distribute(app: App, deal_id: str, as_json: bool) -> None:
    """Pay out what the deal collected: fee, coupons, principal (senior first), excess.

    The servicer at any time; any member once period_days have passed since the last.
    """
    from ledger.money import format_fen

    with bad_input_as_usage():
        number = _deal(deal_id)
    ledger = app.ledger()
    sent = ledger.deals.distribute(number)
    view = ledger.deals.get(number)
    d = view.distributions[-1]
    if as_json:
        emit_json({"tx": sent.tx, "deal": number, "distribution": d})
        return
    rows = [["servicing fee", format_fen(d.fee_fen)]]
    for k in view.classes:
        rows.append([f"class {k.name} coupon", format_fen(d.coupon_fen[k.index])])
        rows.append([f"class {k.name} principal", format_fen(d.principal_fen[k.index])])
    rows.append(["excess to the junior", format_fen(d.excess_fen)])
    table(f"deal #{number}: distributed {format_fen(d.cash_fen)}", ["part", "amount (¥)"], rows)


@abs_.command("write-off", epilog="Example: liandai --as tech abs write-off 1 3:0")
@click.argument("deal_id", metavar="DEAL")
@click.argument("tranche", metavar="LOAN:INDEX")
@json_option
@pass_app
def write_off(app: App, deal_id: str, tranche: str, as_json: bool) -> None:
    """Write off a tranche of a loan DEFAULTED for claim_days: junior first (the servicer)."""
    from ledger.money import format_fen

    with bad_input_as_usage():
        number = _deal(deal_id)
        loan, index = _tranche(tranche)
    ledger = app.ledger()
    sent = ledger.deals.write_off(number, loan, index)
    off = ledger.deals.write_offs(number)[-1]
    if as_json:
        emit_json({"tx": sent.tx, "deal": number, "write_off": off})
    else:
        say(f"wrote off {format_fen(off.loss_fen)} of loan #{loan} tranche {index} (tx {sent.tx})")


@abs_.command("claim", epilog="Example: liandai --as investor abs claim 1")
@click.argument("deal_id", metavar="DEAL")
@json_option
@pass_app
def claim(app: App, deal_id: str, as_json: bool) -> None:
    """Take what your notes earned, every class at once."""
    from web3.logs import DISCARD

    from ledger.money import format_fen

    with bad_input_as_usage():
        number = _deal(deal_id)
    ledger = app.ledger()
    sent = ledger.deals.claim(number)
    (event,) = (
        ledger.contract("Securitisation")
        .events.Claimed()
        .process_receipt(sent.receipt, errors=DISCARD)
    )
    total = int(event["args"]["totalFen"])
    if as_json:
        emit_json(
            {
                "tx": sent.tx,
                "deal": number,
                "amounts_fen": list(event["args"]["amountsFen"]),
                "total_fen": total,
            }
        )
    else:
        say(f"claimed {format_fen(total)} from deal #{number} (tx {sent.tx})")


@abs_.command(
    "transfer",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as investor abs transfer 1 A fund 50,000",
)
@click.argument("deal_id", metavar="DEAL")
@click.argument("class_name", metavar="CLASS")
@click.argument("to", metavar="NAME")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def transfer(app: App, deal_id: str, class_name: str, to: str, amount: int, as_json: bool) -> None:
    """Move AMOUNT yuan of class CLASS notes (units) to an INVESTOR or LENDER member."""
    from ledger.money import format_fen

    with bad_input_as_usage():
        number = _deal(deal_id)
    ledger = app.ledger()
    with bad_input_as_usage():
        index = ledger.deals.class_index(number, class_name)
        recipient = ledger.resolve(to)
    sent = ledger.deals.transfer(number, index, recipient, amount)
    if as_json:
        emit_json(
            {"tx": sent.tx, "deal": number, "class": class_name, "to": recipient, "units": amount}
        )
    else:
        say(
            f"moved {format_fen(amount)} of class {class_name} notes to "
            f"{ledger.name_of(recipient)} (tx {sent.tx})"
        )


@abs_.command("show", epilog="Example: liandai abs show 1 --json")
@click.argument("deal_id", metavar="DEAL")
@json_option
@pass_app
def show(app: App, deal_id: str, as_json: bool) -> None:
    """A deal: its classes with their balances, tranches, distributions and write-offs."""
    with bad_input_as_usage():
        number = _deal(deal_id)
    ledger = app.ledger()
    view = ledger.deals.get(number)
    if as_json:
        emit_json(view)
        return
    _print(ledger, view)


@abs_.command("list", epilog="Example: liandai abs list --json")
@json_option
@pass_app
def list_deals(app: App, as_json: bool) -> None:
    """Every deal, as `abs show` prints it."""
    from ledger.money import format_fen

    ledger = app.ledger()
    views = [ledger.deals.get(d) for d in range(1, ledger.deals.count() + 1)]
    if as_json:
        emit_json(views)
        return
    table(
        "deals",
        ["deal #", "status", "originator", "pool (¥)", "classes", "cash (¥)"],
        [
            [
                str(v.id),
                v.status,
                ledger.name_of(v.originator),
                format_fen(v.pool_fen),
                " / ".join(f"{k.name} {format_fen(k.balance_fen)}" for k in v.classes),
                format_fen(v.cash_fen),
            ]
            for v in views
        ],
    )


def _print(ledger: Any, view: Any) -> None:
    from ledger.money import format_bps, format_fen, format_time

    say(
        f"deal #{view.id} {view.status}: originator {ledger.name_of(view.originator)}, servicer "
        f"{ledger.name_of(view.servicer)} at {format_bps(view.fee_bps)} a year, pool "
        f"{format_fen(view.pool_fen)}, retention {format_fen(view.retention_fen)} "
        f"(held {format_fen(view.originator_junior_fen)}), cash {format_fen(view.cash_fen)}"
    )
    table(
        "classes",
        [
            "class",
            "coupon",
            "amount (¥)",
            "balance (¥)",
            "coupon due (¥)",
            "subscribed (¥)",
            "paid (¥)",
        ],
        [
            [
                k.name,
                format_bps(k.coupon_bps),
                format_fen(k.amount_fen),
                format_fen(k.balance_fen),
                format_fen(k.coupon_due_fen),
                format_fen(k.subscribed_fen),
                format_fen(k.paid_fen),
            ]
            for k in view.classes
        ],
    )
    table(
        "tranches",
        ["loan #", "tranche", "outstanding (¥)", "written off"],
        [
            [
                str(t.loan_id),
                str(t.index),
                format_fen(t.outstanding_fen),
                "yes" if t.written_off else "",
            ]
            for t in view.tranches
        ],
    )
    if view.distributions:
        table(
            "distributions",
            ["at", "cash (¥)", "fee (¥)", "coupons (¥)", "principal (¥)", "excess (¥)"],
            [
                [
                    format_time(d.at),
                    format_fen(d.cash_fen),
                    format_fen(d.fee_fen),
                    " / ".join(format_fen(x) for x in d.coupon_fen),
                    " / ".join(format_fen(x) for x in d.principal_fen),
                    format_fen(d.excess_fen),
                ]
                for d in view.distributions
            ],
        )
