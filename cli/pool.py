"""The risk provision pool (风险补偿池) and the regulator's policy (合规即执行)."""

from __future__ import annotations

import click

from cli.context import AMOUNT, NEGATIVE_OK, App, emit_json, json_option, pass_app, say, table


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
    totals = {"PROVISION": 0, "CONTRIBUTION": 0, "COVER": 0}
    for kind, amount in index.db.execute("SELECT kind, amount_fen FROM pool"):
        totals[kind] += int(amount)
    balance = ledger.loans.pool_balance_fen()
    data = {
        "address": ledger.deployment.address("ProvisionPool"),
        "balance_fen": balance,
        "provisions_fen": totals["PROVISION"],
        "contributions_fen": totals["CONTRIBUTION"],
        "cover_paid_fen": totals["COVER"],
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
    default_days and claim_days in days, *_fen amounts in yuan, max_book_x100 hundredths."""
    from cli.context import bad_input_as_usage
    from ledger.engine.loans import DAY_PARAMETERS, POLICY_NAMES
    from ledger.errors import BadInput
    from ledger.money import parse_rate

    ledger = app.ledger()
    with bad_input_as_usage():
        if name not in POLICY_NAMES:
            raise BadInput(f"unknown policy parameter {name!r} (one of {', '.join(POLICY_NAMES)})")
        if name in (*DAY_PARAMETERS, "max_book_x100"):
            if not value.isascii() or not value.isdigit():
                raise BadInput(f"{name} {value!r} is not a whole number")
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
