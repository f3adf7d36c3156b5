"""Verify a large exported bundle on every CPU, with the verdict a single pass would give.

The file is cut into slices at line boundaries. A worker checks its slice as if its first
entry followed a verified one (order, links, hashes, bindings) and returns the entry
and leaf hashes; the parent checks each slice's first entry against the previous slice's last (the
seam), then follows the Merkle tree over the leaves in order and checks the checkpoints.
Slices are consumed in file order, so the first failure reported is the first in the file;
they are handed out in waves of two per process, so memory holds a few slices at most.
"""

from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.binding import by_name
from ledger.audit.bundle import MALFORMED, Header, Progress, malformed, row_args
from ledger.audit.merkle import Frontier, leaf_hash
from ledger.audit.trail import Bad, TrailCheck, Verdict

SLICE_BYTES = 16 << 20


@dataclass(frozen=True)
class _Slice:
    """What a worker found in its slice.

    Attributes:
        first: (seq, prevHash, entryHash) of its first entry; None when the slice has no
            entry or its first line is malformed.
        hashes: entry hashes of the entries that passed, 32 bytes each.
        leaves: their leaf hashes (computed here, where the work is parallel).
        bad: (seq, problem) of the first failure inside the slice.
        start_problem: the first line's problem when it does not even parse.
    """

    first: tuple[int, bytes, bytes] | None
    hashes: bytes
    leaves: bytes
    bad: tuple[int | None, str] | None
    start_problem: str | None = None


def _bounds(path: Path, start: int, size: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of about SLICE_BYTES, each ending after a newline."""
    cuts = [start]
    with path.open("rb") as f:
        at = start + SLICE_BYTES
        while at < size:
            f.seek(at)
            f.readline()
            if f.tell() >= size:
                break
            cuts.append(f.tell())
            at = f.tell() + SLICE_BYTES
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def _check_slice(job: tuple[str, int, int, dict[str, str], tuple[int, bytes]]) -> _Slice:
    path, start, end, contracts, head = job
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8")
    kinds = {name: b.kind_hash for name, b in by_name().items()}
    lines = text.splitlines()
    if not lines:
        return _Slice(None, b"", b"", None)
    try:
        args = row_args(lines[0], kinds)
    except MALFORMED as exc:
        return _Slice(None, b"", b"", None, f"is not a well-formed entry ({exc})")
    first = (int(args[0]), bytes(args[6]), bytes(args[7]))
    check = TrailCheck(contracts, head, start=(first[0] - 1, first[1]))
    hashes, leaves = bytearray(), bytearray()
    try:
        for line in lines:
            try:
                args = row_args(line, kinds)
                check.add(*args)
            except MALFORMED as exc:
                raise Bad(check.expected, malformed(check.expected, exc)) from None
            hashes += args[7]
            leaves += leaf_hash(args[7])
    except Bad as bad:
        return _Slice(first, bytes(hashes), bytes(leaves), (bad.seq, bad.problem))
    return _Slice(first, bytes(hashes), bytes(leaves), None)


def verify_parallel(path: Path, head: Header, jobs: int, progress: Progress | None) -> Verdict:
    with path.open("rb") as f:
        f.readline()
        start = f.tell()
    size = path.stat().st_size
    work = [(str(path), a, b, head.contracts, head.head) for a, b in _bounds(path, start, size)]
    check = TrailCheck(head.contracts, head.head, frontier=Frontier(), checkpoints=head.checkpoints)
    # forkserver, not fork: forking a process that runs other threads (a progress bar, a
    # web3 provider, a test's node) can leave a child holding a lock forever. An executor
    # rather than a Pool: a worker that dies raises BrokenProcessPool instead of hanging.
    context = multiprocessing.get_context("forkserver")
    try:
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            # In waves of two slices per process, so finished slices never pile up.
            for wave in range(0, len(work), 2 * jobs):
                for part in pool.map(_check_slice, work[wave : wave + 2 * jobs]):
                    _merge(check, part)
                    if progress is not None:
                        progress(check.count, head.head[0])
        check.finish()
    except Bad as bad:
        return check.failed(bad)
    return check.verdict()


def _merge(check: TrailCheck, part: _Slice) -> None:
    """Take a slice's result in file order; raise the first failure it holds."""
    if part.start_problem is not None:
        last = check.expected - 1
        raise Bad(check.expected, f"the line after entry #{last} {part.start_problem}")
    if part.first is None:
        return
    check.seam(*part.first)
    check.absorb(part.hashes, part.leaves)
    if part.bad is not None:
        raise Bad(*part.bad)
