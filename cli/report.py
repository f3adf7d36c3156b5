"""Supervision: `report` (the book at a glance, as of any date) and `watch` (alerts as they
happen)."""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.context import DATE, RATE, App, bad_input_as_usage, pass_app, say, table

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.supervision.alerts import Alert
    from ledger.supervision.figures import Book, Options

F = TypeVar("F", bound=Callable[..., Any])


def rule_options(fn: F) -> F:
    """The thresholds of the early-warning rules, shared by `report` and `watch`."""
    options = [
        click.option("--lender", metavar="NAME", help="Only this lender's book and its alerts."),
        click.option(
            "--region",
            metavar="CODE",
            help="Look through to the loans whose borrower is in this GB/T 2260 region "
            "(440100 Guangzhou, 440000 Guangdong); alerts name it [default: a regional "
            "regulator's own region].",
        ),
        click.option(
            "--coverage-threshold",
            type=RATE,
            default="150%",
            show_default=True,
            help="Alert when pool balance ÷ NPL balance is below this.",
        ),
        click.option(
            "--exposure-warning",
            type=RATE,
            default="80%",
            show_default=True,
            help="Alert when a lender's exposure to one borrower is above this share of its limit.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _lender(ledger: Ledger, book: Book, name: str | None) -> str | None:
    """The lender NAME names, refused (exit 2) unless it is a lender of this ledger."""
    from ledger.errors import BadInput
    from ledger.roles import Role

    if name is None:
        return None
    address = ledger.resolve(name)
    member = book.members.get(address)
    funds = any(address in loan.lenders for loan in book.loans.values())
    if not funds and (member is None or not member.roles & Role.LENDER):
        raise BadInput(f"{name} is not a lender on this ledger (no LENDER role, no tranche)")
    return address


@click.command(
    "report",
    epilog="Examples:\n\n\b\n  liandai report\n  liandai report --as-of 2027-03-31 --json\n"
    "  liandai report --lender bank --html bank.html\n"
    "  liandai report --html book.html --loan 3\n"
    "  liandai report --region 440100\n"
    "  liandai --as regulator-gz report   (a city regulator: its city by default)",
)
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    metavar="DATE",
    help="Figures as they stood at the end of DATE (CST) [default: the chain's latest block].",
)
@rule_options
@click.option("--loan", type=click.IntRange(1), metavar="ID", help="Loan whose waterfall to chart.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: every figure with its definition."
)
@click.option(
    "--html",
    "html_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write a self-contained HTML page with charts.",
)
@pass_app
def report(
    app: App,
    as_of: int | None,
    lender: str | None,
    region: str | None,
    coverage_threshold: int,
    exposure_warning: int,
    loan: int | None,
    as_json: bool,
    html_file: str | None,
) -> None:
    """The loan book, provision pool, concentration, pricing and receivables, for the whole
    ledger and per lender, with the early warnings; all from chain events (local index)."""
    if as_json and html_file:
        raise click.BadParameter("give --json or --html FILE, not both")
    # One pass over a large, acyclic book: the cycle collector would only rescan it again
    # and again (a third of the time at 10,000 loans). Restored afterwards (tests run the
    # CLI in-process).
    collecting = gc.isenabled()
    gc.disable()
    try:
        doc = _document(app, as_of, lender, loan, coverage_threshold, exposure_warning, region)
    finally:
        if collecting:
            gc.enable()
    if as_json:
        # One line: at 10,000 loans the report is megabytes, and indenting it would take
        # longer than computing it (`| jq .` for people).
        click.echo(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    elif html_file:
        write_html(doc, Path(html_file))
        say(f"wrote {html_file}: as of {doc['as_of']}, {len(doc['alerts'])} alert(s)")
    else:
        _print(doc)


def _document(
    app: App,
    as_of: int | None,
    lender: str | None,
    loan: int | None,
    coverage_threshold: int,
    exposure_warning: int,
    region: str | None = None,
) -> dict[str, Any]:
    from ledger.errors import NotFound
    from ledger.supervision.figures import Options, Report, book_of, document, local_names

    with bad_input_as_usage():
        if region is not None:
            from ledger.models import parse_region

            region = parse_region(region)
    ledger = app.ledger()
    with bad_input_as_usage():
        region = _scope_region(ledger, region)
    book = book_of(ledger)
    with bad_input_as_usage():
        address = _lender(ledger, book, lender)
        if loan is not None and loan not in book.loans:
            raise NotFound(f"no loan #{loan}")
    options = Options(
        as_of=book.head_at if as_of is None else as_of,
        lender=address,
        region=region,
        loan=loan,
        coverage_threshold_bps=coverage_threshold,
        exposure_warning_bps=exposure_warning,
    )
    return document(Report(book, options, local_names(ledger)), network=ledger.chain.network)


def _scope_region(ledger: Ledger, region: str | None) -> str | None:
    """The region a report looks through to: the one asked for, or — for a regulator of a
    province or city — its own jurisdiction. A regional regulator cannot ask for a region
    outside its own (DESIGN §6.6)."""
    from ledger.errors import BadInput
    from ledger.models import NATIONAL, covers

    me = ledger.member(ledger.sender.address)
    if me.status == "NONE" or "REGULATOR" not in me.roles or me.region == NATIONAL:
        return None if region == NATIONAL else region
    if region is None:
        return me.region
    if not covers(me.region, region):
        raise BadInput(
            f"region {region} is outside the jurisdiction of {ledger.name_of(me.address)} "
            f"(region {me.region})"
        )
    return region


def write_html(doc: dict[str, Any], path: Path) -> None:
    from ledger.errors import Refused
    from ledger.supervision.figures import definitions
    from ledger.supervision.html import render

    page = render(doc, definitions())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise Refused(f"cannot write {path}: {exc.strerror}") from None


def _print(doc: dict[str, Any]) -> None:
    from ledger.money import format_bps, format_fen

    def v(fig: Any) -> int:
        return int(fig["value"])

    def pct(fig: Any) -> str:
        return "—" if fig["bps"] is None else format_bps(fig["bps"])

    def who(party: Any) -> str:
        return str(party.get("name") or party["address"])

    say(f"supervision report as of {doc['as_of']} (block {doc['block']})")
    ids = ", ".join(f"#{i}" for i in doc["loan_ids"]) or "none"
    if doc.get("region"):
        say(f"region {doc['region']} (loans whose borrower is there): loans {ids}")
    else:
        say(f"loans {ids}")
    scopes = ([("whole ledger", doc["ledger"])] if "ledger" in doc else []) + [
        (f"lender {who(s['lender'])}", s) for s in doc["lenders"]
    ]
    rows = []
    for name, s in scopes:
        book, pricing = s["loan_book"], s["pricing"]
        buckets = " / ".join(
            format_fen(v(b["outstanding_fen"]), symbol=False) for b in book["overdue"]
        )
        rows.append(
            [
                name,
                str(v(book["count"])),
                format_fen(v(book["outstanding_fen"]), symbol=False),
                buckets,
                pct(book["npl_ratio"]),
                format_fen(v(book["loss_after_cover_fen"]), symbol=False),
                pct(pricing["average_rate"]),
            ]
        )
    table(
        "loan book",
        [
            "scope",
            "loans #",
            "outstanding (¥)",
            "overdue 1–30 / 31–90 / 90+ (¥)",
            "NPL ratio",
            "loss after cover (¥)",
            "avg rate",
        ],
        rows,
    )
    if "ledger" in doc:
        pool = doc["ledger"]["pool"]
        table(
            "provision pool",
            ["", "¥"],
            [
                ["balance", format_fen(v(pool["balance_fen"]), symbol=False)],
                ["receipt provisions", format_fen(v(pool["provisions_fen"]), symbol=False)],
                ["contributions", format_fen(v(pool["contributions_fen"]), symbol=False)],
                ["cover paid", format_fen(v(pool["cover_paid_fen"]), symbol=False)],
                ["cover paid back", format_fen(v(pool["cover_reimbursed_fen"]), symbol=False)],
                ["coverage ratio", pct(pool["coverage_ratio"])],
            ],
        )
        cover = doc["ledger"]["cover"]
        if cover["providers"]:
            money = ("owed_fen", "paid_fen", "unpaid_fen", "reimbursed_fen")
            table(
                "cover providers (分险)",
                [
                    "provider",
                    "claims #",
                    "owed (¥)",
                    "paid (¥)",
                    "unpaid (¥)",
                    "paid back (¥)",
                    "breached #",
                    "unpaid breached (¥)",
                ],
                [
                    [who(p["provider"]), str(v(p["claim_count"]))]
                    + [format_fen(v(p[k]), symbol=False) for k in money]
                    + [
                        str(v(p["breached_count"])),
                        format_fen(v(p["breached_unpaid_fen"]), symbol=False),
                    ]
                    for p in cover["providers"]
                ],
            )
    table(
        f"early warnings ({len(doc['alerts'])})",
        ["rule", "alert"],
        [[a["rule"], a["message"]] for a in doc["alerts"]],
    )
    say("every figure, with its definition: liandai report --json; charts: --html FILE")


# --------------------------------------------------------------------------- watch


def _signature(app: App) -> tuple[Any, ...] | None:
    """What changes when the embedded chain mines a block or a refusal is recorded; None
    when the chain is a node (then the block number is polled)."""
    from ledger.chain.backend import running_node
    from ledger.engine.attempts import refused_path

    home = app.home
    if app.rpc or running_node(home) is not None:
        return None
    files = [*sorted(home.chain_file.parent.glob("chain.sqlite*")), refused_path(home)]
    out = []
    for f in files:
        try:
            st = f.stat()
            out.append((f.name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((f.name, 0, 0))
    return tuple(out)


def _line(event: str, alert: Alert, as_json: bool, at: int) -> str:
    from ledger.money import format_time

    if as_json:
        return json.dumps({"event": event, "at": at, **alert.as_json()}, ensure_ascii=False)
    mark = "ALERT  " if event == "raised" else "cleared"
    return f"{format_time(at)}  {mark} {alert.rule}: {alert.message}"


def watch_once(app: App, options: Options, lender: str | None) -> tuple[list[Alert], int]:
    """One evaluation at the chain's latest block: (alerts, chain time)."""
    from dataclasses import replace

    from ledger.supervision.alerts import evaluate
    from ledger.supervision.figures import Report, book_of, local_names

    ledger = app.ledger()
    book = book_of(ledger)
    address = _lender(ledger, book, lender) if lender else None
    report = Report(book, replace(options, as_of=book.head_at, lender=address), local_names(ledger))
    return evaluate(report), book.head_at


@click.command(
    "watch",
    epilog="Example: liandai watch --json --interval 5   (stop with Ctrl-C)",
)
@rule_options
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=2.0,
    show_default=True,
    help="Seconds between looks at the chain.",
)
@click.option(
    "--polls",
    type=click.IntRange(1),
    metavar="N",
    help="Stop after N looks [default: until interrupted].",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def watch(
    app: App,
    lender: str | None,
    region: str | None,
    coverage_threshold: int,
    exposure_warning: int,
    interval: float,
    polls: int | None,
    as_json: bool,
) -> None:
    """Follow new blocks and print early warnings as they are raised (and cleared).

    On the embedded chain the chain is opened only when it changed and closed between
    looks, so other commands can write to it meanwhile.
    """
    from ledger.errors import ChainUnavailable
    from ledger.supervision.figures import Options

    with bad_input_as_usage():
        if region is not None:
            from ledger.models import parse_region

            region = parse_region(region)
        region = _scope_region(app.ledger(), region)
    options = Options(
        as_of=0,
        region=region,
        coverage_threshold_bps=coverage_threshold,
        exposure_warning_bps=exposure_warning,
    )
    where = app.rpc or ("its node" if _signature(app) is None else "the embedded chain")
    click.echo(
        f"watching {app.home.root} on {where} for early warnings, looking every {interval:g} s"
        + (f", {polls} time(s)" if polls else " until Ctrl-C"),
        err=as_json,  # stdout stays one JSON object per line
    )
    active: dict[str, Alert] = {}
    last: tuple[Any, ...] | None = None
    first = True
    unavailable = False
    done = 0
    try:
        while polls is None or done < polls:
            signature = _signature(app)
            if first or signature is None or signature != last:
                try:
                    alerts, at = watch_once(app, options, lender)
                except ChainUnavailable as exc:
                    if not unavailable:  # say it once, then keep looking
                        click.echo(f"liandai: {exc}; looking again every {interval} s", err=True)
                    unavailable = True
                    signature = last
                else:
                    unavailable = False
                    now = {a.key: a for a in alerts}
                    for key, alert in now.items():
                        if key not in active:
                            click.echo(_line("raised", alert, as_json, at))
                    for key, alert in active.items():
                        if key not in now:
                            click.echo(_line("cleared", alert, as_json, at))
                    if first and not now and not as_json:
                        from ledger.money import format_time

                        click.echo(f"{format_time(at)}  no alerts")
                    active = now
                    sys.stdout.flush()
                finally:
                    if signature is not None:
                        app.close()  # release the embedded chain between looks
                last = signature
                first = False
            done += 1
            if polls is None or done < polls:
                time.sleep(interval)
    except KeyboardInterrupt:
        return
