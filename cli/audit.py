"""The audit trail: verify it from chain data, show it as a timeline."""

from __future__ import annotations

import sys

import click

from cli.context import App, emit_json, json_option, pass_app, say, table


@click.group()
def audit() -> None:
    """The hash-chained audit trail (监管链)."""


@audit.command("verify", epilog="Example: liandai audit verify --json")
@json_option
@pass_app
def audit_verify(app: App, as_json: bool) -> None:
    """Recompute every entry from chain logs, check links, seq, head() and event bindings.

    Exits 1 when the trail does not verify, naming the first bad entry.
    """
    from ledger.audit import verify_trail
    from ledger.errors import Refused

    ledger = app.ledger()
    total, _ = ledger.audit_head()
    if sys.stderr.isatty() and not as_json:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("verifying", total=total)
            verdict = verify_trail(ledger, lambda n: bar.update(task, completed=n))
    else:
        verdict = verify_trail(ledger)
    if as_json:
        emit_json(
            {
                "ok": verdict.ok,
                "entries": verdict.entries,
                "head": verdict.head,
                "first_bad_seq": verdict.first_bad_seq,
                "problem": verdict.problem,
            }
        )
    elif verdict.ok:
        say(f"trail verified: {verdict.entries} entries, head {verdict.head}")
    if not verdict.ok:
        raise Refused(f"trail does NOT verify: entry #{verdict.first_bad_seq}: {verdict.problem}")


@audit.command("show", epilog="Example: liandai audit show --kind ECNY_TRANSFERRED")
@click.option("--kind", help="Only entries of this kind, e.g. MEMBER_ADMITTED.")
@click.option("--last", type=click.IntRange(1), help="Only the last N entries.")
@json_option
@pass_app
def audit_show(app: App, kind: str | None, last: int | None, as_json: bool) -> None:
    """The trail as a timeline."""
    from ledger.audit import read_entries
    from ledger.money import format_time

    ledger = app.ledger()
    entries = [e for e in read_entries(ledger) if kind is None or e.kind_name == kind.upper()]
    if last is not None:
        entries = entries[-last:]
    if as_json:
        emit_json(
            [
                {
                    "seq": e.seq,
                    "kind": e.kind_name,
                    "actor": e.actor,
                    "subject": str(e.subject),
                    "data_hash": "0x" + e.data_hash.hex(),
                    "at": e.at,
                    "prev_hash": "0x" + e.prev_hash.hex(),
                    "entry_hash": "0x" + e.entry_hash.hex(),
                    "block": e.block,
                    "tx": e.tx,
                }
                for e in entries
            ]
        )
        return

    def subject(value: int) -> str:
        if value >= 1 << 40 and value < 1 << 160:
            return ledger.name_of("0x" + value.to_bytes(20, "big").hex())
        return str(value)

    table(
        "audit trail",
        ["seq", "time", "kind", "actor", "subject", "entry hash"],
        [
            [
                str(e.seq),
                format_time(e.at),
                e.kind_name,
                ledger.name_of(e.actor),
                subject(e.subject),
                "0x" + e.entry_hash.hex()[:16] + "…",
            ]
            for e in entries
        ],
    )
