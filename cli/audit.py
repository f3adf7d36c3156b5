"""The audit trail: verify it (from the chain, a bundle or evidence), export it, publish
checkpoints, prove consistency, and show it as a timeline."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.context import App, emit_json, json_option, pass_app, say, table

if TYPE_CHECKING:
    from ledger.audit.trail import Entry, Event, Trusted, Verdict
    from ledger.engine.client import Ledger


@click.group()
def audit() -> None:
    """The hash-chained audit trail (监管链) and its evidence (司法链)."""


@contextmanager
def progress_bar(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A transient progress bar on a terminal's stderr; nothing when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _hash32(text: str, option: str) -> bytes:
    from ledger.errors import BadInput

    try:
        value = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        value = b""
    if len(value) != 32:
        raise BadInput(f"{option} must be a 32-byte hash in hex, not {text!r}")
    return value


def _fail(verdict_ok: bool, seq: int | None, problem: str | None, what: str) -> None:
    from ledger.errors import Refused

    if not verdict_ok:
        where = "" if seq is None else f"entry #{seq}: "
        raise Refused(f"{what} does NOT verify: {where}{problem}")


@audit.command(
    "verify",
    epilog="Examples: liandai audit verify --json · liandai audit verify --from-seq 1200 · "
    "liandai audit verify --bundle trail.jsonl · "
    "liandai audit verify --evidence loan-1.jsonl --trusted-root 0x…",
)
@click.option(
    "--bundle", type=click.Path(path_type=Path), help="Verify an exported bundle offline."
)
@click.option(
    "--evidence", type=click.Path(path_type=Path), help="Verify an evidence bundle offline."
)
@click.option(
    "--trusted-root", metavar="HEX", help="With --evidence: the checkpoint root you trust."
)
@click.option(
    "--from-seq",
    type=click.IntRange(0),
    help="Verify only the entries after #N, trusting the head verified at #N "
    "(this home's, or --trusted-head).",
)
@click.option("--trusted-head", metavar="HEX", help="With --from-seq: entry #N's hash.")
@click.option(
    "--jobs", type=click.IntRange(1), help="With --bundle: processes (default: all CPUs if large)."
)
@json_option
@pass_app
def audit_verify(
    app: App,
    bundle: Path | None,
    evidence: Path | None,
    trusted_root: str | None,
    from_seq: int | None,
    trusted_head: str | None,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Verify the trail: every entryHash, link and seq, each dataHash against the business
    event of its transaction, every published checkpoint root, and head().

    From the chain by default (this home's last verified head must still be there); from
    an exported bundle or an evidence bundle offline. Exits 1 naming the first bad entry.
    """
    from ledger.errors import BadInput

    if bundle is not None and evidence is not None:
        raise BadInput("give --bundle or --evidence, not both")
    offline = bundle is not None or evidence is not None
    if offline and (from_seq is not None or trusted_head is not None):
        raise BadInput("--from-seq and --trusted-head apply to the chain, not to a file")
    if trusted_root is not None and evidence is None:
        raise BadInput("--trusted-root applies to --evidence")
    if jobs is not None and bundle is None:
        raise BadInput("--jobs applies to --bundle")
    if trusted_head is not None and from_seq is None:
        raise BadInput("--trusted-head needs --from-seq (the entry it is the hash of)")
    if evidence is not None:
        _verify_evidence(evidence, trusted_root, as_json)
    elif bundle is not None:
        _verify_bundle(bundle, jobs, as_json)
    else:
        _verify_chain(app, from_seq, trusted_head, as_json)


def _verify_chain(app: App, from_seq: int | None, trusted_head: str | None, as_json: bool) -> None:
    from ledger.audit.state import load_verified, save_verified
    from ledger.audit.trail import verify_trail

    ledger = app.ledger()
    saved = load_verified(ledger)
    start = _start(from_seq, trusted_head, saved)
    with progress_bar("verifying", as_json) as bar:
        verdict = verify_trail(ledger, bar, start=start, pinned=saved)
    if verdict.ok:
        save_verified(ledger, verdict)
    if as_json:
        emit_json(verdict.summary())
    elif verdict.ok:
        _say_verified(verdict, start.seq if start else 0)
    _fail(verdict.ok, verdict.first_bad_seq, verdict.problem, "trail")


def _start(from_seq: int | None, trusted_head: str | None, saved: Trusted | None) -> Trusted | None:
    from ledger.audit.trail import Trusted
    from ledger.errors import BadInput

    if not from_seq:
        return None
    if trusted_head is not None:
        head = _hash32(trusted_head, "--trusted-head")
        if saved is not None and (saved.seq, saved.entry_hash) == (from_seq, head):
            return saved
        return Trusted(from_seq, head)
    if saved is None:
        raise BadInput(f"no head verified before in this home: give --trusted-head for #{from_seq}")
    if saved.seq != from_seq:
        raise BadInput(
            f"this home verified up to #{saved.seq}, not #{from_seq}: use --from-seq "
            f"{saved.seq}, or give --trusted-head for #{from_seq}"
        )
    return saved


def _say_verified(verdict: Verdict, after: int) -> None:
    first = after + 1 if verdict.entries else after
    span = f"#{first}–#{verdict.seq}" if verdict.entries else "none new"
    say(f"trail verified: {verdict.entries} entries ({span}), head #{verdict.seq} {verdict.head}")
    if verdict.root is not None:
        say(
            f"Merkle root of the first {verdict.seq}: {verdict.root} "
            f"({verdict.checkpoints} published checkpoint(s) recomputed and matched)"
        )
    else:
        say("published checkpoints not checked: no saved tree state for the trusted head")


def _verify_bundle(path: Path, jobs: int | None, as_json: bool) -> None:
    from ledger.audit.offline import verify_bundle

    with progress_bar("verifying", as_json) as bar:
        verdict = verify_bundle(path, bar, jobs=jobs)
    if as_json:
        emit_json({**verdict.summary(), "root": verdict.root, "checkpoints": verdict.checkpoints})
    elif verdict.ok:
        say(f"bundle verified offline: {verdict.entries} entries, head {verdict.head}")
        say(
            f"Merkle root {verdict.root} ({verdict.checkpoints} checkpoint(s) matched); "
            "compare the head with AuditTrail.head() on the chain"
        )
    _fail(verdict.ok, verdict.first_bad_seq, verdict.problem, "bundle")


def _verify_evidence(path: Path, trusted_root: str | None, as_json: bool) -> None:
    from ledger.credit.file import verify_file

    root = None if trusted_root is None else _hash32(trusted_root, "--trusted-root")
    verdict = verify_file(path, root)
    if as_json:
        emit_json(verdict.summary())
    elif verdict.ok and "credit_query" in verdict.subject:
        size = verdict.size
        say(
            f"credit file verified offline: {verdict.entries} entries up to its query (entry "
            f"#{size}), each proved in the tree of the trail's first {size} entries (root "
            f"{verdict.root}); every figure recomputes from the proved events"
        )
        if verdict.anchored:
            say("the root is the trusted root")
        else:
            say(
                f"no --trusted-root given: compare {verdict.root} with the root of the first "
                f"{size} entries on the chain (`liandai audit root {size}`)"
            )
    elif verdict.ok:
        subject = ", ".join(f"{k} #{v}" for k, v in verdict.subject.items())
        say(
            f"evidence verified offline: {subject}, {verdict.entries} entries, each proved in "
            f"checkpoint #{verdict.size} (root {verdict.root})"
        )
        if verdict.anchored:
            say("the checkpoint root is the trusted root")
        else:
            say(
                f"no --trusted-root given: compare {verdict.root} with "
                f"AuditTrail.checkpointRoot({verdict.size}) on the chain"
            )
    _fail(verdict.ok, verdict.first_bad_seq, verdict.problem, "evidence")


@audit.command("export", epilog="Example: liandai audit export trail.jsonl")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def audit_export(app: App, file: Path, as_json: bool) -> None:
    """Write the whole trail, with the business events it binds, as a self-contained
    JSON-lines bundle that `audit verify --bundle` checks offline."""
    from ledger.audit.bundle import export

    with progress_bar("exporting", as_json) as bar:
        done = export(app.ledger(), file, bar)
    if as_json:
        emit_json(
            {
                "path": str(done.path),
                "entries": done.entries,
                "head": done.head,
                "block": done.block,
                "bytes": done.size,
            }
        )
        return
    say(f"exported {done.entries} entries (head {done.head}, block {done.block}) to {file}")


@audit.command(
    "evidence",
    epilog="Example: liandai audit evidence --loan 1 loan-1.jsonl",
)
@click.option("--loan", type=click.IntRange(1), help="A loan: its entries and its collateral's.")
@click.option("--receivable", type=click.IntRange(1), help="A receivable: its whole lineage.")
@click.option(
    "--checkpoint",
    "checkpoint_size",
    type=click.IntRange(1),
    help="Prove against this published checkpoint (default: the latest).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def audit_evidence(
    app: App,
    loan: int | None,
    receivable: int | None,
    checkpoint_size: int | None,
    file: Path,
    as_json: bool,
) -> None:
    """Write an evidence bundle for one loan or receivable: its entries and events, each
    with an inclusion proof against a published checkpoint, verifiable offline."""
    from ledger.audit.evidence import lineage_of, write_evidence
    from ledger.errors import BadInput

    if (loan is None) == (receivable is None):
        raise BadInput("give one of --loan ID or --receivable ID")
    ledger = app.ledger()
    subject = {"loan": loan} if loan is not None else {"receivable": receivable}
    lineage = lineage_of(ledger, loan=loan, receivable=receivable)
    done = write_evidence(
        ledger,
        lineage,
        {k: v for k, v in subject.items() if v is not None},
        file,
        checkpoint_size=checkpoint_size,
    )
    root = "0x" + done.checkpoint.root.hex()
    if as_json:
        emit_json(
            {
                "path": str(done.path),
                "subject": subject,
                "entries": done.entries,
                "checkpoint_size": done.checkpoint.size,
                "checkpoint_root": root,
                "bytes": done.size,
            }
        )
        return
    say(
        f"wrote {done.entries} entries with inclusion proofs against checkpoint "
        f"#{done.checkpoint.size} to {file} ({done.size:,} bytes)"
    )
    say(f"verify offline: liandai audit verify --evidence {file} --trusted-root {root}")


@audit.command(
    "checkpoint",
    epilog="Examples: liandai --as auditor audit checkpoint · "
    "root=$(liandai --as auditor audit checkpoint --quiet)",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the root (for scripts).")
@json_option
@pass_app
def audit_checkpoint(app: App, quiet: bool, as_json: bool) -> None:
    """Verify the whole trail, then fix its Merkle root on-chain (an AUDITOR signs)."""
    from ledger.audit.checkpoint import publish
    from ledger.audit.state import load_verified

    ledger = app.ledger()
    done = publish(ledger, load_verified(ledger))
    if as_json:
        emit_json({"size": done.size, "root": done.root, "tx": done.tx, "gas_used": done.gas_used})
        return
    if quiet:
        say(done.root)
        return
    say(f"checkpoint #{done.size} published: root {done.root} (tx {done.tx})")


@audit.command("root", epilog="Example: liandai audit root 120")
@click.argument("size", type=click.IntRange(1))
@json_option
@pass_app
def audit_root(app: App, size: int, as_json: bool) -> None:
    """Verify the trail, then print the Merkle root of its first SIZE entries: the trusted
    root for a credit file whose query is entry #SIZE."""
    from ledger.audit.checkpoint import root_of

    root = root_of(app.ledger(), size)
    if as_json:
        emit_json({"size": size, "root": root})
    else:
        say(root)


@audit.command("consistency", epilog="Example: liandai audit consistency 100 250")
@click.argument("old", type=click.IntRange(1))
@click.argument("new", type=click.IntRange(1), required=False)
@json_option
@pass_app
def audit_consistency(app: App, old: int, new: int | None, as_json: bool) -> None:
    """Prove that checkpoint NEW (default: the latest) extends checkpoint OLD (RFC 9162)."""
    from ledger.audit.checkpoint import consistency
    from ledger.errors import Refused

    proof = consistency(app.ledger(), old, new)
    if as_json:
        emit_json(
            {
                "old_size": proof.old_size,
                "old_root": proof.old_root,
                "new_size": proof.new_size,
                "new_root": proof.new_root,
                "proof": proof.proof,
                "ok": proof.ok,
            }
        )
    elif proof.ok:
        say(
            f"checkpoint #{proof.new_size} ({proof.new_root}) extends checkpoint "
            f"#{proof.old_size} ({proof.old_root}): {len(proof.proof)}-hash proof checks"
        )
    if not proof.ok:
        raise Refused(
            f"checkpoint #{proof.new_size} does NOT extend checkpoint #{proof.old_size}: "
            "the consistency proof fails"
        )


@audit.command("show", epilog="Example: liandai audit show --subject 1 --kind LOAN_SETTLED")
@click.option("--subject", help="Only entries about this loan/receivable id or member.")
@click.option("--kind", help="Only entries of this kind, e.g. MEMBER_ADMITTED.")
@click.option("--last", type=click.IntRange(1), help="Only the last N entries.")
@json_option
@pass_app
def audit_show(
    app: App, subject: str | None, kind: str | None, last: int | None, as_json: bool
) -> None:
    """The trail as a timeline: who did what to which subject, with the event's fields."""
    from ledger.audit.kinds import AUDIT_KINDS
    from ledger.audit.trail import chain_entries
    from ledger.errors import BadInput

    ledger = app.ledger()
    if kind is not None and kind.upper() not in AUDIT_KINDS:
        raise BadInput(f"unknown kind {kind!r} (kinds: {', '.join(AUDIT_KINDS)})")
    wanted = None if subject is None else _subject_value(ledger, subject)
    to_block = int(ledger.chain.w3.eth.block_number)
    rows = [
        (e, ev)
        for e, ev in chain_entries(ledger, ledger.deployment.start_block, to_block)
        if (kind is None or e.kind_name == kind.upper()) and (wanted is None or e.subject == wanted)
    ]
    if last is not None:
        rows = rows[-last:]
    if as_json:
        emit_json([_entry_json(e, ev) for e, ev in rows])
        return
    table(
        "audit trail",
        ["seq", "time", "kind", "actor", "subject", "what", "entry hash"],
        [_entry_row(ledger, e, ev) for e, ev in rows],
    )


def _subject_value(ledger: Ledger, text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(ledger.resolve(text), 16)


def _entry_json(e: Entry, ev: Event | None) -> dict[str, Any]:
    from ledger.audit.binding import by_name, readable_fields

    b = by_name().get(e.kind_name)
    return {
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
        "event": None
        if b is None or ev is None
        else {"name": b.label, "fields": readable_fields(b, ev.topics, ev.data)},
    }


def _entry_row(ledger: Ledger, e: Entry, ev: Event | None) -> list[str]:
    from ledger.money import format_time

    return [
        str(e.seq),
        format_time(e.at),
        e.kind_name,
        ledger.name_of(e.actor),
        _subject_text(ledger, e.subject),
        _what(ledger, e, ev),
        "0x" + e.entry_hash.hex()[:16] + "…",
    ]


def _subject_text(ledger: Ledger, value: int) -> str:
    if 1 << 40 <= value < 1 << 160:
        return ledger.name_of("0x" + value.to_bytes(20, "big").hex())
    return str(value)


def _what(ledger: Ledger, e: Entry, ev: Event | None) -> str:
    """The event's fields in a few words: names for addresses, yuan for fen."""
    from ledger.audit.binding import by_name, readable_fields

    b = by_name().get(e.kind_name)
    if b is None or ev is None:
        return "(no event)"
    parts = [
        f"{name}={_value(ledger, name, value)}"
        for name, value in readable_fields(b, ev.topics, ev.data).items()
        if name not in ("id", "loanId")
    ]
    text = " ".join(parts)
    return text if len(text) <= 90 else text[:89] + "…"


def _value(ledger: Ledger, name: str, value: Any) -> str:
    from ledger.money import format_fen, format_time

    if isinstance(value, list):
        return "[" + ",".join(_value(ledger, name, v) for v in value) + "]"
    if isinstance(value, str) and value.startswith("0x"):
        return ledger.name_of(value) if len(value) == 42 else value[:10] + "…"
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    if name.endswith(("Fen", "FenList")) or name in ("value",):
        return format_fen(value)
    if name.endswith("At"):
        return format_time(value)
    return str(value)
