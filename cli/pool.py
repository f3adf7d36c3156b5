"""Who bears a loan's loss: the risk provision pool (风险补偿池), cover layers (分险: accept,
honour, breach, show — DESIGN §6.2), and the regulator's policy (合规即执行)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.engine.covers import CoverView


@click.group()
def pool() -> None:
    """The risk provision pool: provisions from receipts, contributions, default cover."""


@pool.command(
    "contribute",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as bank pool contribute 50,000",
)
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def contribute(app: App, amount: int, as_json: bool) -> None:
    """Contribute AMOUNT yuan of your e-CNY to the pool (any active member)."""
    from ledger.money import format_fen

    ledger = app.ledger()
    sent = ledger.loans.contribute(amount)
    if as_json:
        emit_json({"tx": sent.tx, "amount_fen": amount})
    else:
        say(f"contributed {format_fen(amount)} to the provision pool (tx {sent.tx})")


@pool.command("show", epilog="Example: liandai pool show --json")
@json_option
@pass_app
def show(app: App, as_json: bool) -> None:
    """The pool's balance and where it came from."""
    from ledger.money import format_fen
    from ledger.supervision.index import Index

    ledger = app.ledger()
    index = Index(ledger)
    index.sync()
    totals = {"PROVISION": 0, "CONTRIBUTION": 0, "COVER": 0, "REIMBURSED": 0}
    for kind, amount in index.db.execute("SELECT kind, amount_fen FROM pool"):
        totals[kind] += int(amount)
    balance = ledger.loans.pool_balance_fen()
    data = {
        "address": ledger.deployment.address("ProvisionPool"),
        "balance_fen": balance,
        "provisions_fen": totals["PROVISION"],
        "contributions_fen": totals["CONTRIBUTION"],
        "cover_paid_fen": totals["COVER"],
        "cover_reimbursed_fen": totals["REIMBURSED"],
    }
    if as_json:
        emit_json(data)
        return
    table(
        "provision pool",
        ["", "¥"],
        [
            ["balance", format_fen(balance)],
            ["provisions from receipts", format_fen(totals["PROVISION"])],
            ["contributions", format_fen(totals["CONTRIBUTION"])],
            ["cover paid on defaults", format_fen(totals["COVER"])],
            ["cover paid back by recoveries", format_fen(totals["REIMBURSED"])],
        ],
    )


@click.group()
def policy() -> None:
    """Compliance parameters the contracts enforce; regulators change them."""


@policy.command("show", epilog="Example: liandai policy show --json")
@json_option
@pass_app
def policy_show(app: App, as_json: bool) -> None:
    """Every policy parameter in force."""
    from ledger.money import format_bps

    p = app.ledger().loans.policy()
    if as_json:
        emit_json(p)
        return
    from ledger.money import format_fen

    def shown(name: str, value: int) -> str:
        if name.endswith("_days"):
            return f"{value} days"
        if name.endswith("_fen"):
            return format_fen(value)
        if name.endswith("_x100"):
            return f"{value / 100:g} × net assets ({value})"
        return format_bps(value)

    table(
        "policy",
        ["parameter", "value"],
        [[name, shown(name, value)] for name, value in p.model_dump().items()],
    )


@policy.command(
    "set",
    epilog="Examples: liandai --as regulator policy set max_apr_bps 20%\n\n"
    "\b\n  liandai --as regulator policy set max_online_individual_fen 300,000",
)
@click.argument("name")
@click.argument("value")
@json_option
@pass_app
def policy_set(app: App, name: str, value: str, as_json: bool) -> None:
    """Change one parameter (a national regulator only): rates as 10% or 1000bps,
    *_days a number of days, *_fen amounts in yuan, max_book_x100 hundredths."""
    from ledger.engine.loans import POLICY_NAMES
    from ledger.errors import BadInput
    from ledger.money import parse_rate

    ledger = app.ledger()
    with bad_input_as_usage():
        if name not in POLICY_NAMES:
            raise BadInput(f"unknown policy parameter {name!r} (one of {', '.join(POLICY_NAMES)})")
        if name.endswith("_days") or name == "max_book_x100":
            if not value.isascii() or not value.isdigit():
                unit = " of days" if name.endswith("_days") else ""
                raise BadInput(f"{name} {value!r} is not a whole number{unit}")
            number = int(value)
        elif name.endswith("_fen"):
            from ledger.money import parse_amount

            number = parse_amount(value, allow_zero=True)
        else:
            number = parse_rate(value)
    sent = ledger.loans.set_policy(name, number)
    if as_json:
        emit_json({"name": name, "value": number, "tx": sent.tx})
    else:
        say(f"policy {name} set to {value} (tx {sent.tx})")


# --- cover layers (DESIGN §6.2)


def _loan(value: str) -> int:
    return parse_id(value, "loan")


def _layer(ledger: Ledger, loan_id: int, value: str) -> int:
    """LAYER as its number in `cover show` (1 = first) or its provider's name → 0-based index."""
    from ledger.errors import BadInput

    raw = value.strip()
    if raw.isascii() and raw.isdigit():
        number = int(raw)
        if number < 1:
            raise BadInput(f"layer {value!r}: layers are numbered from 1 (`cover show`)")
        return number - 1
    provider = ledger.resolve(raw)
    layers = [x for x in ledger.covers.view(loan_id).layers if x.provider == provider]
    if not layers:
        raise BadInput(f"{raw} provides no cover layer of loan {loan_id}")
    unpaid = [x for x in layers if x.unpaid_fen > 0]
    return (unpaid or layers)[0].index


@click.group()
def cover() -> None:
    """Cover layers of a loan (分险): guarantee, insurance, core-enterprise repurchase."""


@cover.command("accept", epilog="Example: liandai --as guarantor cover accept 1")
@click.argument("lid", metavar="ID")
@click.option("--terms-hash", metavar="HEX", help="Accept only if the terms hash is this one.")
@json_option
@pass_app
def cover_accept(app: App, lid: str, terms_hash: str | None, as_json: bool) -> None:
    """Accept your cover layers of loan ID by its terms hash, depositing their margins.

    The loan cannot be funded until every layer is accepted; margins come back in full when
    the loan is repaid or cancelled, and pay first if it defaults.
    """
    from ledger.models import parse_bytes32
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _loan(lid)
        expected = parse_bytes32(terms_hash, "--terms-hash") if terms_hash else None
    sent = ledger.covers.accept(number, expected)
    me = ledger.sender.address
    mine = [x for x in ledger.covers.view(number).layers if x.provider == me]
    margin = sum(x.margin_fen for x in mine)
    if as_json:
        emit_json(
            {
                "id": number,
                "tx": sent.tx,
                "layers": [x.index + 1 for x in mine],
                "margin_fen": margin,
            }
        )
    else:
        layers = ", ".join(f"{x.index + 1} ({x.kind})" for x in mine)
        say(
            f"accepted cover layer(s) {layers} of loan #{number}; margin deposited "
            f"{format_fen(margin)} (tx {sent.tx})"
        )


@cover.command(
    "honour",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as guarantor cover honour 1 100,000",
)
@click.argument("lid", metavar="ID")
@click.argument("amount", type=AMOUNT, required=False)
@click.option(
    "--layer",
    metavar="N",
    help="Your layer's number in `cover show` (default: your first with a claim unpaid).",
)
@json_option
@pass_app
def cover_honour(app: App, lid: str, amount: int | None, layer: str | None, as_json: bool) -> None:
    """Pay AMOUNT yuan (default: all) of your claim on defaulted loan ID (代偿).

    A principal-only receipt, seniors first, capped at the loan's principal outstanding;
    any part, any time, before or after the due date.
    """
    from ledger.errors import BadInput
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _loan(lid)
        index = (
            _layer(ledger, number, layer) if layer is not None else ledger.covers.own_layer(number)
        )
        before = ledger.covers.view(number)
        if index >= len(before.layers):
            raise BadInput(f"loan {number} has {len(before.layers)} cover layer(s)")
        if amount is None:
            amount = before.layers[index].unpaid_fen
            if amount == 0:
                raise BadInput(f"layer {index + 1} of loan {number} has no claim unpaid")
    sent = ledger.covers.honour(number, index, amount)
    after = ledger.covers.view(number)
    x = after.layers[index]
    paid = x.paid_fen - before.layers[index].paid_fen
    settlement = ledger.loans.settlements(number)[-1]
    if as_json:
        emit_json(
            {
                "id": number,
                "tx": sent.tx,
                "layer": index + 1,
                "paid_fen": paid,
                "unpaid_fen": x.unpaid_fen,
                "settlement": settlement.model_dump(),
            }
        )
    else:
        split = ", ".join(
            f"t{i + 1} {format_fen(p)}" for i, p in enumerate(settlement.principal_fen) if p
        )
        say(
            f"honoured {format_fen(paid)} of layer {index + 1} on loan #{number} "
            f"(principal {split}); claim unpaid {format_fen(x.unpaid_fen)} (tx {sent.tx})"
        )


@cover.command("breach", epilog="Example: liandai --as bank cover breach 1 2")
@click.argument("lid", metavar="ID")
@click.argument("layer", metavar="LAYER")
@json_option
@pass_app
def cover_breach(app: App, lid: str, layer: str, as_json: bool) -> None:
    """Mark LAYER's claim on loan ID breached: unpaid after its due date (any member).

    LAYER is its number in `cover show` (1 = first) or its provider's name. The breach is an
    audit entry, an alert and a line in the provider's figures; the claim stays payable.
    """
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _loan(lid)
        index = _layer(ledger, number, layer)
    sent = ledger.covers.breach(number, index)
    x = ledger.covers.view(number).layers[index]
    if as_json:
        emit_json({"id": number, "tx": sent.tx, "layer": index + 1, "unpaid_fen": x.unpaid_fen})
    else:
        say(
            f"layer {index + 1} of loan #{number} ({x.kind} by {ledger.name_of(x.provider)}) "
            f"breached: {format_fen(x.unpaid_fen)} unpaid (tx {sent.tx})"
        )


@cover.command("show", epilog="Example: liandai cover show 1 --json")
@click.argument("lid", metavar="ID")
@json_option
@pass_app
def cover_show(app: App, lid: str, as_json: bool) -> None:
    """Loan ID's cover layers: terms, claims, payments, reimbursements; the pool's part."""
    ledger = app.ledger()
    with bad_input_as_usage():
        number = _loan(lid)
    view = ledger.covers.view(number)
    if as_json:
        emit_json(view.model_dump())
        return
    _table(ledger, view)


def _table(ledger: Ledger, view: CoverView) -> None:
    from ledger.money import format_bps, format_date, format_fen

    def fen(value: int) -> str:
        return format_fen(value, symbol=False)

    rows = []
    for x in view.layers:
        state = (
            "lapsed"
            if x.lapsed
            else "breached"
            if x.breached
            else "accepted"
            if x.accepted
            else "awaiting acceptance"
        )
        rows.append(
            [
                str(x.index + 1),
                x.kind,
                ledger.name_of(x.provider),
                format_bps(x.share_bps),
                fen(x.cap_fen),
                fen(x.margin_fen),
                fen(x.owed_fen),
                fen(x.paid_fen),
                fen(x.unpaid_fen),
                fen(x.reimbursed_fen),
                state,
            ]
        )
    table(
        f"loan #{view.loan} cover",
        [
            "#",
            "kind",
            "provider",
            "share",
            "cap (¥)",
            "margin (¥)",
            "owed (¥)",
            "paid (¥)",
            "unpaid (¥)",
            "reimbursed (¥)",
            "state",
        ],
        rows,
    )
    if view.defaulted_at:
        table(
            "at default",
            ["", ""],
            [
                ["defaulted", format_date(view.defaulted_at)],
                ["principal outstanding (D)", format_fen(view.principal_at_default_fen)],
                ["claims due", format_date(view.due_at)],
                ["provision pool paid", format_fen(view.pool_paid_fen)],
                ["provision pool reimbursed", format_fen(view.pool_reimbursed_fen)],
            ],
        )
