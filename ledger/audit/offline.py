"""Verify an exported bundle offline: one pass, or slices checked in parallel processes.

The bundle's format (header, rows) is `ledger.audit.bundle`; the parallel check is
`ledger.audit.parallel`; both give the same verdict.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

from ledger.audit.binding import by_name
from ledger.audit.bundle import (
    MALFORMED,
    PROGRESS_EVERY,
    Progress,
    malformed,
    read_header,
    row_args,
)
from ledger.audit.merkle import Frontier
from ledger.audit.parallel import verify_parallel
from ledger.audit.trail import Bad, TrailCheck, Verdict
from ledger.errors import BadInput


def _lines(path: Path) -> Generator[str, None, None]:
    try:
        with path.open("r", encoding="utf-8") as f:
            yield from f
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None


# Files above this size are verified in parallel by default (a process pool costs ~0.1 s).
PARALLEL_BYTES = 64 << 20


def verify_bundle(
    path: Path, progress: Progress | None = None, *, jobs: int | None = None
) -> Verdict:
    """Verify an exported bundle offline. `jobs` > 1 checks slices of the file in parallel
    processes (the verdict is the same); None uses every CPU for large files."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        raise BadInput(f"{path} is empty")
    head = read_header(first)
    if jobs is None:
        jobs = (os.cpu_count() or 1) if path.stat().st_size > PARALLEL_BYTES else 1
    if jobs > 1:
        lines.close()
        return verify_parallel(path, head, jobs, progress)
    check = TrailCheck(head.contracts, head.head, frontier=Frontier(), checkpoints=head.checkpoints)
    kinds = {name: b.kind_hash for name, b in by_name().items()}
    add = check.add
    try:
        for line in lines:
            try:
                add(*row_args(line, kinds))
            except MALFORMED as exc:
                raise Bad(check.expected, malformed(check.expected, exc)) from None
            if progress is not None and check.count % PROGRESS_EVERY == 0:
                progress(check.count, head.head[0])
        check.finish()
    except Bad as bad:
        return check.failed(bad)
    return check.verdict()
