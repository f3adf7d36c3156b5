"""Joint loans: quote, propose, accept, fund, disburse, draw, lapse, repay, default, cancel,
show, list."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.context import (
    AMOUNT,
    NEGATIVE_OK,
    RATE,
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
    from ledger.engine.loans import CoverRequest, LoanRequest, LoanView

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = [
    "PROPOSED",
    "ACCEPTED",
    "FUNDING",
    "FUNDED",
    "DISBURSED",
    "REPAID",
    "DEFAULTED",
    "CANCELLED",
]


def _id(value: str) -> int:
    return parse_id(value, "loan")


def terms_options(fn: F) -> F:
    """The options `loan quote` and `loan propose` share."""
    options = [
        click.option("--borrower", required=True, metavar="NAME", help="The borrower."),
        click.option(
            "--receivable",
            "receivables",
            multiple=True,
            required=True,
            metavar="ID",
            help="A receivable the borrower holds, pledged on acceptance; repeat.",
        ),
        click.option(
            "--tranche",
            "tranches",
            multiple=True,
            required=True,
            metavar="SPEC",
            help="LENDER:senior:AMT:COUPON or LENDER:junior:AMT, in seniority order; repeat.",
        ),
        click.option("--rate", type=RATE, required=True, help="Borrower rate (the APR), e.g. 10%."),
        click.option("--days", type=click.IntRange(1, 3650), required=True, help="Term in days."),
        click.option(
            "--penalty",
            type=RATE,
            default="0bps",
            show_default=True,
            help="Penalty rate after maturity + grace.",
        ),
        click.option(
            "--grace",
            type=click.IntRange(0, 3650),
            default=0,
            show_default=True,
            help="Grace days after maturity.",
        ),
        click.option(
            "--fee-share",
            type=RATE,
            default="0bps",
            show_default=True,
            help="Tech partner's share of interest collected.",
        ),
        click.option(
            "--provision-share",
            type=RATE,
            default="0bps",
            show_default=True,
            help="Provision pool's share of interest collected.",
        ),
        click.option(
            "--mode",
            type=click.Choice(["sequential", "pro-rata"]),
            default="sequential",
            show_default=True,
            help="Principal: seniors first, or all pro rata.",
        ),
        click.option(
            "--payee",
            "payees",
            multiple=True,
            metavar="NAME:AMT[:STAGE]",
            help="Targeted disbursement (default: the borrower gets everything); repeat. "
            "STAGE 0 (the default) is paid at disbursement, a later stage when the borrower "
            "draws it (`loan draw`).",
        ),
        click.option(
            "--stage-day",
            "stage_days",
            multiple=True,
            metavar="STAGE:DAYS",
            help="The earliest day of stage STAGE ≥ 1, in days after disbursement and before "
            "maturity; every later stage needs one. Repeat.",
        ),
        click.option(
            "--sweep",
            type=RATE,
            default="0bps",
            show_default=True,
            help="Share of payments into the borrower's wallet routed to this loan.",
        ),
        click.option("--tech", metavar="NAME", help="Tech partner receiving the fee share."),
        click.option(
            "--cover",
            "covers",
            multiple=True,
            metavar="KIND:NAME:SHARE:CAP[:MARGIN]",
            help="A cover layer (分险): GUARANTEE, INSURANCE or REPURCHASE by NAME, covering "
            "SHARE (e.g. 40%) of the principal at default up to CAP, with a MARGIN deposited "
            "at acceptance (default 0); at most 4, in order; repeat.",
        ),
        click.option(
            "--expiry-days",
            type=click.IntRange(1, 65535),
            default=30,
            show_default=True,
            help="Days the proposal stays open: after them it is neither accepted, funded nor "
            "disbursed, and any of its lenders may cancel it (refunds for all).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_request(ledger: Ledger, o: dict[str, Any]) -> LoanRequest:
    """CLI options → a validated LoanRequest (raises BadInput)."""
    from pydantic import ValidationError

    from ledger.engine.loans import LoanRequest, TrancheRequest
    from ledger.errors import BadInput
    from ledger.money import parse_amount, parse_rate

    tranches = []
    for spec in o["tranches"]:
        parts = spec.split(":")
        if len(parts) not in (3, 4) or parts[1].lower() not in ("senior", "junior"):
            raise BadInput(f"tranche {spec!r} is not LENDER:senior:AMT:COUPON or LENDER:junior:AMT")
        senior = parts[1].lower() == "senior"
        if senior and len(parts) != 4:
            raise BadInput(f"senior tranche {spec!r} needs its coupon: LENDER:senior:AMT:COUPON")
        if not senior and len(parts) != 3:
            raise BadInput(f"junior tranche {spec!r} takes no coupon: LENDER:junior:AMT")
        tranches.append(
            TrancheRequest(
                lender=ledger.resolve(parts[0]),
                senior=senior,
                amount_fen=parse_amount(parts[2]),
                coupon_bps=parse_rate(parts[3]) if senior else 0,
            )
        )
    payees, payee_stages = [], []
    for spec in o["payees"]:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[0]:
            raise BadInput(f"payee {spec!r} is not NAME:AMT or NAME:AMT:STAGE")
        payees.append((ledger.resolve(parts[0]), parse_amount(parts[1])))
        payee_stages.append(
            _small_int(parts[2], f"the stage of payee {spec!r}") if parts[2:] else 0
        )
    stage_days: dict[int, int] = {}
    for spec in o.get("stage_days", ()):
        stage, sep, days = spec.partition(":")
        if not sep:
            raise BadInput(f"stage day {spec!r} is not STAGE:DAYS")
        k = _small_int(stage, f"the stage of --stage-day {spec!r}")
        if k in stage_days:
            raise BadInput(f"stage {k} has two days (--stage-day given twice)")
        stage_days[k] = _small_int(days, f"the days of --stage-day {spec!r}")
    if payees and sum(a for _, a in payees) != sum(t.amount_fen for t in tranches):
        from ledger.money import format_fen

        raise BadInput(
            f"payees take {format_fen(sum(a for _, a in payees))} but the principal is "
            f"{format_fen(sum(t.amount_fen for t in tranches))}"
        )
    covers = [parse_cover(ledger, spec) for spec in o["covers"]]
    if o["fee_share"] and not o["tech"]:
        raise BadInput("a fee share needs --tech NAME (the tech partner it goes to)")
    try:
        return LoanRequest(
            borrower=ledger.resolve(o["borrower"]),
            tranches=tranches,
            receivable_ids=[parse_id(r, "receivable") for r in o["receivables"]],
            rate_bps=o["rate"],
            term_days=o["days"],
            penalty_bps=o["penalty"],
            grace_days=o["grace"],
            fee_share_bps=o["fee_share"],
            provision_share_bps=o["provision_share"],
            mode=o["mode"],
            expiry_days=o["expiry_days"],
            tech_partner=ledger.resolve(o["tech"]) if o["tech"] else None,
            payees=payees,
            payee_stages=payee_stages if any(payee_stages) else [],
            stage_days=stage_days,
            sweep_bps=o["sweep"],
            covers=covers,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadInput(f"loan terms: {where}: {err['msg']}") from None


def _small_int(text: str, what: str) -> int:
    """A whole number 0 to 65535 typed at the command line (a stage, a number of days)."""
    from ledger.errors import BadInput

    if not text.strip().isdigit() or int(text) > 65535:
        raise BadInput(f"{what} must be a whole number from 0 to 65535, not {text!r}")
    return int(text)


def parse_cover(ledger: Ledger, spec: str) -> CoverRequest:
    """`KIND:NAME:SHARE:CAP[:MARGIN]` → a cover layer (raises BadInput)."""
    from pydantic import ValidationError

    from ledger.engine.covers import COVER_KINDS
    from ledger.engine.loans import CoverRequest
    from ledger.errors import BadInput
    from ledger.money import parse_amount, parse_rate

    parts = spec.split(":")
    if len(parts) not in (4, 5):
        raise BadInput(f"cover {spec!r} is not KIND:NAME:SHARE:CAP[:MARGIN]")
    kind = parts[0].strip().upper()
    if kind not in COVER_KINDS:
        raise BadInput(f"cover {spec!r}: kind {parts[0]!r} is not one of {', '.join(COVER_KINDS)}")
    try:
        return CoverRequest(
            provider=ledger.resolve(parts[1]),
            kind=kind,
            share_bps=parse_rate(parts[2]),
            cap_fen=parse_amount(parts[3]),
            margin_fen=parse_amount(parts[4]) if len(parts) == 5 else 0,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise BadInput(f"cover {spec!r}: {where + ': ' if where else ''}{msg}") from None


def _disclosure(ledger: Ledger, request: LoanRequest) -> list[list[str]]:
    """APR disclosure and a repayment preview: everything repaid at maturity in one receipt."""
    from ledger.money import format_bps, format_fen
    from ledger.reference import waterfall

    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    terms = request.model_terms(now)
    state = preview_state(request, terms)
    owed = waterfall.accrue(terms, state, terms.maturity_at)
    total = terms.principal_fen + owed.interest_due_fen
    s, _ = waterfall.settle(terms, state, total, terms.maturity_at)
    interest_note = " (each stage drawn on its day)" if request.staged else ""
    rows = [
        ["APR (borrower rate, simple, ACT/365)", format_bps(request.rate_bps)],
        [
            "penalty rate after maturity + grace",
            f"{format_bps(request.penalty_bps)} after {request.grace_days} day(s)",
        ],
        ["principal", format_fen(terms.principal_fen)],
        ["term", f"{request.term_days} days"],
        ["interest if repaid at maturity" + interest_note, format_fen(owed.interest_due_fen)],
        ["total repayment at maturity", format_fen(total)],
        ["  tech-partner fee", format_fen(s.fee_fen)],
        ["  risk provision", format_fen(s.provision_fen)],
    ]
    for i, t in enumerate(request.tranches):
        rows.append(
            [
                f"  tranche {i + 1} {ledger.name_of(t.lender)} "
                f"({'senior ' + format_bps(t.coupon_bps) if t.senior else 'junior'})",
                f"interest {format_fen(s.interest_fen[i])}, "
                f"principal {format_fen(s.principal_fen[i])}",
            ]
        )
    for k in range(request.stage_count()):
        lead = "disbursed to" if k == 0 else f"stage {k}, from day {request.stage_days[k]}, to"
        rows.append(
            [
                lead,
                ", ".join(
                    f"{ledger.name_of(p)} {format_fen(a)}" for p, a in request.stage_payees(k)
                ),
            ]
        )
    if request.sweep_bps:
        rows.append(["sweep of incoming payments", format_bps(request.sweep_bps)])
    for i, c in enumerate(request.covers):
        rows.append(
            [
                f"cover layer {i + 1}",
                f"{c.kind} by {ledger.name_of(c.provider)}: {format_bps(c.share_bps)} of the "
                f"principal at default, cap {format_fen(c.cap_fen)}, margin "
                f"{format_fen(c.margin_fen)}",
            ]
        )
    return rows


def preview_state(request: LoanRequest, terms: Any) -> Any:
    """The reference state for a preview: all principal at disbursement, or for a staged loan
    each stage drawn on its earliest day (the most interest the terms allow before maturity)."""
    from ledger.reference import stages, waterfall

    if not request.staged:
        return waterfall.LoanState.initial(terms)
    amounts = request.stage_amounts()
    _, state, undrawn = stages.start(terms, amounts[0])
    for k in sorted(range(1, len(amounts)), key=lambda k: request.stage_days[k]):
        at = terms.disbursed_at + request.stage_days[k] * waterfall.DAY
        _, state, undrawn = stages.draw(terms, state, undrawn, amounts[k], at)
    return state


def warnings_for(ledger: Ledger, request: LoanRequest) -> list[str]:
    """What the chain would refuse in these terms (policy, each lender's exposure), and a
    principal above its collateral's value; from the chain's state now, nothing sent."""
    from ledger.engine.refusals import explain
    from ledger.money import format_fen
    from ledger.reference import compliance

    policy = ledger.loans.policy()
    lenders = {t.lender for t in request.tranches}
    proposal = compliance.Proposal(
        originator=ledger.keyring.get(ledger.signer_name).address,
        borrower=request.borrower,
        tranches=tuple((t.lender, t.amount_fen) for t in request.tranches),
        rate_bps=request.rate_bps,
        penalty_bps=request.penalty_bps,
        fee_share_bps=request.fee_share_bps,
    )
    findings = compliance.check(
        proposal,
        compliance.Policy(
            min_originator_share_bps=policy.min_originator_share_bps,
            max_apr_bps=policy.max_apr_bps,
            max_fee_share_bps=policy.max_fee_share_bps,
            max_single_borrower_bps=policy.max_single_borrower_bps,
        ),
        {a: ledger.member(a).net_assets_fen for a in lenders},
        {a: ledger.loans.exposure_of(a, request.borrower) for a in lenders},
        sum(ledger.receivables.unpaid(r) for r in request.receivable_ids),
    )
    out = []
    for f in findings:
        if f.refused:
            out.append(f"the chain will refuse it: {explain(f.rule, f.numbers, ledger.name_of)}")
        else:
            out.append(
                f"the principal {format_fen(int(str(f.numbers['principalFen'])))} is above the "
                f"pledged receivables' unpaid value "
                f"{format_fen(int(str(f.numbers['collateralFen'])))}"
            )
    return out


@click.group()
def loan() -> None:
    """Joint loans (联合贷款) against pledged receivables, with automatic repayment."""


@loan.command(
    "quote",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai loan quote --borrower supplier1 --receivable 2 "
    "--tranche bank:senior:420,000:5% --tranche microloan:junior:180,000 "
    "--rate 10% --days 90",
)
@terms_options
@json_option
@pass_app
def quote(app: App, as_json: bool, **o: Any) -> None:
    """APR disclosure and repayment preview of proposed terms; nothing is sent."""
    ledger = app.ledger()
    with bad_input_as_usage():
        request = build_request(ledger, o)
    rows = _disclosure(ledger, request)
    warnings = warnings_for(ledger, request)
    if as_json:
        emit_json({"terms": request.model_dump(), "disclosure": dict(rows), "warnings": warnings})
        return
    table("loan quote", ["", ""], rows)
    for w in warnings:
        say(f"warning: {w}")
    if not warnings:
        say(
            "checked against the policy, each lender's exposure to the borrower and the "
            "collateral's value: the chain should accept it"
        )


@loan.command(
    "propose",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as microloan loan propose --borrower supplier1 "
    "--receivable 2 --tranche bank:senior:420,000:5% --tranche "
    "microloan:junior:180,000 --rate 10% --days 90 --fee-share 20% --tech tech "
    "--cover GUARANTEE:guarantor:40%:300,000:50,000 --cover INSURANCE:insurer:30%:1,000,000",
)
@terms_options
@json_option
@pass_app
def propose(app: App, as_json: bool, **o: Any) -> None:
    """Propose a loan as its originating lender; the borrower then reviews and accepts."""
    ledger = app.ledger()
    with bad_input_as_usage():
        request = build_request(ledger, o)
    for w in warnings_for(ledger, request):
        if not w.startswith("the chain will refuse"):  # the chain says those itself
            click.echo(f"liandai: warning: {w}", err=True)
    result = ledger.loans.propose(request)
    if as_json:
        emit_json(result.model_dump())
    else:
        say(f"proposed loan #{result.id} (tx {result.tx}); terms hash {result.terms_hash}")


@loan.command("accept", epilog="Example: liandai --as supplier1 loan accept 1 --yes")
@click.argument("lid", metavar="ID")
@click.option("--terms-hash", metavar="HEX", help="Accept only if the terms hash is this one.")
@click.option("--yes", is_flag=True, help="Accept without asking (after reading the terms).")
@json_option
@pass_app
def accept(app: App, lid: str, terms_hash: str | None, yes: bool, as_json: bool) -> None:
    """Review the terms (APR disclosed) and accept as the borrower; pledges the receivables."""
    import sys

    from ledger.errors import BadInput
    from ledger.models import parse_bytes32

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
        expected = parse_bytes32(terms_hash, "--terms-hash") if terms_hash else None
        request = ledger.loans.request_of(number)
        if not yes and not sys.stdin.isatty():
            raise BadInput(
                "review the terms with `loan show` and pass --yes to accept non-interactively"
            )
    if not as_json:
        table(f"loan #{number}: terms to accept", ["", ""], _disclosure(ledger, request))
    if not yes and not click.confirm("Accept these terms and pledge the receivables?"):
        raise click.Abort()
    sent = ledger.loans.accept(number, expected)
    if as_json:
        emit_json({"id": number, "tx": sent.tx})
    else:
        say(f"accepted loan #{number}; receivables pledged (tx {sent.tx})")


def _action(name: str, method: str, verb: str, doc: str, who: str) -> click.Command:
    @click.command(name, help=doc, epilog=f"Example: liandai --as {who} loan {name} 1")
    @click.argument("lid", metavar="ID")
    @json_option
    @pass_app
    def command(app: App, lid: str, as_json: bool) -> None:
        ledger = app.ledger()
        with bad_input_as_usage():
            number = _id(lid)
        sent = getattr(ledger.loans, method)(number)
        if as_json:
            emit_json({"id": number, "tx": sent.tx})
        else:
            say(f"{verb} loan #{number} (tx {sent.tx}, gas {sent.gas_used:,})")

    return command


loan.add_command(
    _action("fund", "fund", "funded your tranches of", "Fund your tranches (lenders).", "bank")
)


@loan.command("disburse", epilog="Example: liandai --as microloan loan disburse 1")
@click.argument("lid", metavar="ID")
@json_option
@pass_app
def disburse(app: App, lid: str, as_json: bool) -> None:
    """Pay the principal to the loan's fixed payees (originator)."""
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
    sent = ledger.loans.disburse(number)
    if as_json:
        emit_json({"id": number, "tx": sent.tx})
        return
    request = ledger.loans.request_of(number)
    payees = request.stage_payees(0)
    later = sum(request.stage_amounts()[1:])
    say(
        f"disbursed loan #{number}: "
        + ", ".join(f"{format_fen(a)} to {ledger.name_of(p)}" for p, a in payees)
        + f" (tx {sent.tx}, gas {sent.gas_used:,})"
    )
    if later:
        say(f"  {format_fen(later)} stays undrawn in the loan book until its stages are drawn")


@loan.command("draw", epilog="Example: liandai --as supplier1 loan draw 1 1")
@click.argument("lid", metavar="ID")
@click.argument("stage", metavar="STAGE")
@json_option
@pass_app
def draw(app: App, lid: str, stage: str, as_json: bool) -> None:
    """Draw stage STAGE (1, 2, …) of a staged loan, from its day on and before maturity, as the
    borrower: its amount is drawn from the tranches pro rata by commitment and paid to the
    stage's payees; interest runs on it from now."""
    from ledger.engine.loans import MAX_STAGES
    from ledger.errors import BadInput
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
        k = _small_int(stage, "STAGE")
        if k >= MAX_STAGES:  # stage 0 is the chain's to refuse: it was drawn at disbursement
            raise BadInput(f"a loan has stages 0 to {MAX_STAGES - 1}, not {k}")
    sent = ledger.loans.draw(number, k)
    view = next(s for s in ledger.loans.stages(number) if s.stage == k)
    if as_json:
        emit_json({"id": number, "tx": sent.tx, "stage": view.model_dump()})
        return
    say(
        f"drew stage {k} of loan #{number}: "
        + ", ".join(f"{format_fen(a)} to {ledger.name_of(p)}" for p, a in view.payees)
        + f" (tx {sent.tx}, gas {sent.gas_used:,})"
    )
    say(
        "  from the tranches: "
        + ", ".join(f"t{i + 1} {format_fen(p)}" for i, p in enumerate(view.principal_fen))
    )


@loan.command("lapse", epilog="Example: liandai --as bank loan lapse 1")
@click.argument("lid", metavar="ID")
@json_option
@pass_app
def lapse(app: App, lid: str, as_json: bool) -> None:
    """From maturity on, lapse a staged loan's undrawn stages: each lender gets its undrawn
    money back (the borrower, a lender of the loan or an operator). They lapse by themselves
    when the loan is repaid or defaulted."""
    from web3.logs import DISCARD

    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
    sent = ledger.loans.lapse(number)
    (event,) = (
        ledger.contract("LoanBook")
        .events.StagesLapsed()
        .process_receipt(sent.receipt, errors=DISCARD)
    )
    stages, refunds = list(event["args"]["stages"]), list(event["args"]["refundsFen"])
    lenders = [t.lender for t in ledger.loans.get(number).tranches]
    if as_json:
        emit_json({"id": number, "tx": sent.tx, "stages": stages, "refunds_fen": refunds})
        return
    say(
        f"lapsed stage(s) {', '.join(str(k) for k in stages)} of loan #{number}: "
        + ", ".join(
            f"{format_fen(r)} back to {ledger.name_of(p)}"
            for p, r in zip(lenders, refunds, strict=True)
            if r
        )
        + f" (tx {sent.tx}, gas {sent.gas_used:,})"
    )


loan.add_command(
    _action(
        "cancel",
        "cancel",
        "cancelled",
        "Cancel before disbursement: refunds lenders, releases receivables.",
        "microloan",
    )
)
loan.add_command(
    _action(
        "default",
        "declare_default",
        "declared default on",
        "Declare default past maturity + default_days; the cover layers' margins and "
        "the pool cover principal seniors first, the rest of each layer's claim falls due "
        "claim_days later (a lender of the loan or an operator).",
        "bank",
    )
)


@loan.command(
    "repay",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as supplier1 loan repay 1 100,000",
)
@click.argument("lid", metavar="ID")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def repay(app: App, lid: str, amount: int, as_json: bool) -> None:
    """Repay AMOUNT yuan; the waterfall splits it in the same transaction."""
    from ledger.errors import ContractRefusal
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
    try:
        sent = ledger.loans.repay(number, amount)
    except ContractRefusal as exc:
        raise explain_short(ledger, exc, amount, f"loan #{number}") from None
    settlement = ledger.loans.settlements(number)[-1]
    if as_json:
        emit_json({"id": number, "tx": sent.tx, "settlement": settlement.model_dump()})
    else:
        say_settled(
            ledger,
            sent,
            lambda n, s, v: f"repaid {format_fen(s.amount_fen)} on loan #{n} (tx {sent.tx}):",
        )


def _settlements_table(ledger: Ledger, view: LoanView, settlements: list[Any]) -> None:
    from ledger.money import format_date, format_fen

    columns = ["date", "source", "receipt (¥)", "fee", "provision"]
    for i, t in enumerate(view.tranches):
        who = ledger.name_of(t.lender)
        who = who if who != t.lender else t.lender[:10]
        columns += [f"t{i + 1} {who} interest", f"t{i + 1} {who} principal"]
    columns.append("residual")
    rows = []
    for s in settlements:
        row = [
            format_date(s.at),
            s.source,
            format_fen(s.amount_fen, symbol=False),
            format_fen(s.fee_fen, symbol=False),
            format_fen(s.provision_fen, symbol=False),
        ]
        for i in range(len(view.tranches)):
            row += [
                format_fen(s.interest_fen[i], symbol=False),
                format_fen(s.principal_fen[i], symbol=False),
            ]
        row.append(format_fen(s.residual_fen, symbol=False))
        rows.append(row)
    table(f"loan #{view.id} settlements", columns, rows)


def say_settled(ledger: Ledger, sent: Any, lead: Callable[[int, Any, LoanView], str]) -> list[int]:
    """Print each settlement `sent` ran, after a line `lead(loan id, settlement, loan)`,
    then where the loan stands; return the loans settled."""
    from ledger.money import format_fen

    done = []
    for loan_id, s in ledger.loans.settled_in(sent):
        view = ledger.loans.get(loan_id)
        say(lead(loan_id, s, view))
        _settlements_table(ledger, view, [s])
        if s.residual_fen and s.residual_to:
            say(f"  residual {format_fen(s.residual_fen)} paid to {ledger.name_of(s.residual_to)}")
        say(loan_standing(ledger, view))
        done.append(loan_id)
    return done


def loan_standing(ledger: Ledger, view: LoanView) -> str:
    """`loan #1 REPAID, receivable #2 released` / `loan #1 DISBURSED: ¥… outstanding`."""
    from ledger.money import format_fen

    if view.status == "REPAID":
        freed = ", ".join(f"#{r}" for r in view.receivables)
        plural = "s" if len(view.receivables) > 1 else ""
        return f"loan #{view.id} REPAID, receivable{plural} {freed} released"
    return (
        f"loan #{view.id} {view.status}: {format_fen(view.outstanding_fen)} principal "
        f"outstanding, {format_fen(view.interest_due_fen)} interest due"
    )


def explain_short(ledger: Ledger, exc: Exception, amount: int, what: str) -> Exception:
    """A payment refused for want of e-CNY: the chain's numbers are taken mid-split (after
    the first payees were paid), so say what the payer holds and what was typed."""
    from ledger.errors import ContractRefusal, Refused
    from ledger.money import format_fen

    if not isinstance(exc, ContractRefusal) or exc.name != "ERC20InsufficientBalance":
        return exc
    held = ledger.balance_fen(ledger.sender.address)
    return Refused(
        f"refused by the chain: ERC20InsufficientBalance — e-CNY: {ledger.signer_name} holds "
        f"{format_fen(held)}, less than the {format_fen(amount)} typed for {what}"
    )


@loan.command("show", epilog="Example: liandai loan show 1 --json")
@click.argument("lid", metavar="ID")
@json_option
@pass_app
def show(app: App, lid: str, as_json: bool) -> None:
    """A loan: terms, tranches, and every settlement's breakdown."""
    from ledger.money import format_bps, format_date, format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        number = _id(lid)
    v = ledger.loans.get(number)
    if as_json:
        emit_json(v.model_dump(by_alias=True))
        return
    rows = [
        ["status", v.status],
        ["borrower", ledger.name_of(v.borrower)],
        ["originator", ledger.name_of(v.originator)],
        ["principal", format_fen(v.principal_fen)],
        ["outstanding", format_fen(v.outstanding_fen)],
        ["interest due now", format_fen(v.interest_due_fen)],
        ["rate / penalty", f"{format_bps(v.rate_bps)} / {format_bps(v.penalty_bps)}"],
        ["term / grace", f"{v.term_days} days / {v.grace_days} days"],
        [
            "fee / provision share",
            f"{format_bps(v.fee_share_bps)} / {format_bps(v.provision_share_bps)}",
        ],
        ["mode", v.mode],
        ["sweep", format_bps(v.sweep_bps)],
        [
            "disbursed / maturity",
            f"{format_date(v.disbursed_at) if v.disbursed_at else '—'} / "
            f"{format_date(v.maturity_at) if v.maturity_at else '—'}",
        ],
        ["receivables", ", ".join(f"#{r}" for r in v.receivables)],
        ["terms hash", v.terms_hash],
    ]
    if v.status in ("PROPOSED", "ACCEPTED", "FUNDING", "FUNDED"):
        rows.append(["proposal lapses", format_date(v.expires_at)])
    table(f"loan #{v.id}", ["", ""], rows)
    table(
        "tranches",
        ["#", "lender", "class", "amount (¥)", "coupon", "outstanding (¥)", "funded"],
        [
            [
                str(i + 1),
                ledger.name_of(t.lender),
                t.class_,
                format_fen(t.amount_fen, symbol=False),
                format_bps(t.coupon_bps) if t.class_ == "senior" else "—",
                format_fen(t.outstanding_fen, symbol=False),
                "yes" if t.funded else "no",
            ]
            for i, t in enumerate(v.tranches)
        ],
    )
    if v.stages:
        table(
            f"stages ({format_fen(v.undrawn_fen)} undrawn)",
            ["stage", "day", "from", "amount (¥)", "payees", "drawn"],
            [
                [
                    str(s.stage),
                    str(s.day),
                    format_date(s.due_at) if s.due_at else "—",
                    format_fen(s.amount_fen, symbol=False),
                    ", ".join(f"{ledger.name_of(p)} {format_fen(a)}" for p, a in s.payees),
                    format_date(s.drawn_at) if s.drawn_at else ("lapsed" if s.lapsed else "—"),
                ]
                for s in v.stages
            ],
        )
    if v.settlements:
        _settlements_table(ledger, v, v.settlements)


@loan.command("list", epilog="Example: liandai loan list --status DISBURSED --json")
@click.option("--borrower", metavar="NAME", help="Only this borrower's loans.")
@click.option(
    "--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only this status."
)
@json_option
@pass_app
def list_loans(app: App, borrower: str | None, status: str | None, as_json: bool) -> None:
    """Loans from the local index (built from chain events)."""
    from ledger.money import format_bps, format_date, format_fen
    from ledger.supervision.index import Index

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(borrower) if borrower else None
    index = Index(ledger)
    index.sync()
    rows = index.loans(borrower=address, status=status.upper() if status else None)
    now = int(ledger.chain.w3.eth.get_block("latest")["timestamp"])
    views = [index.loan_view(r, now) for r in rows]
    if as_json:
        emit_json([v.model_dump(by_alias=True) for v in views])
        return
    table(
        f"loans ({len(views)})",
        [
            "id",
            "status",
            "borrower",
            "principal (¥)",
            "outstanding (¥)",
            "interest due (¥)",
            "rate",
            "maturity",
        ],
        [
            [
                f"#{v.id}",
                v.status,
                ledger.name_of(v.borrower),
                format_fen(v.principal_fen, symbol=False),
                format_fen(v.outstanding_fen, symbol=False),
                format_fen(v.interest_due_fen, symbol=False),
                format_bps(v.rate_bps),
                format_date(v.maturity_at) if v.maturity_at else "—",
            ]
            for v in views
        ],
    )
