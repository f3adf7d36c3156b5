"""The tamper suite: every single change to an exported bundle or an evidence bundle — each
field of each entry and of its event, a drop, a copy, a swap, a forged insertion — fails
verification and names the first bad entry.

Block numbers, transaction hashes and log indexes are locators (where to find the data on
a node), not part of what the hashes bind, so they are not mutated here (docs/audit.md).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.audit.binding import by_name, data_hash, keccak
from ledger.audit.evidence import verify_evidence
from ledger.audit.merkle import Tree, leaf_hash, verify_inclusion
from ledger.audit.offline import verify_bundle

# (what was done, the file's lines after it, the first bad seq expected)
Mutation = tuple[str, list[str], int | None]

# Mutations tried by each test, for the record (printed with -s, checked below).
COUNTS: dict[str, int] = {}


def _flip(text: str) -> str:
    """The same 0x-hex with its last digit changed."""
    last = text[-1]
    return text[:-1] + ("0" if last != "0" else "1")


def _hex_flips(value: str) -> list[str]:
    return [_flip(value), value[:-2], value + "00"]


# --------------------------------------------------------------------------- bundles


def _bundle_rows(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def _dump(header: dict[str, Any], rows: list[Any]) -> list[str]:
    return [json.dumps(header)] + [json.dumps(r) for r in rows]


def _forged_row(header: dict[str, Any], seq: int, prev: str, at: int) -> list[Any]:
    """A self-consistent entry for a payment that never happened, linked to `prev`."""
    b = by_name()["ECNY_TRANSFERRED"]
    thief = "0x" + "ee" * 20
    topics = [b.topic0, bytes(12) + bytes.fromhex("11" * 20), bytes(12) + bytes.fromhex("ee" * 20)]
    payload = (10**12).to_bytes(32, "big")
    dh = data_hash(b, topics, payload)
    assert dh is not None
    subject = int("ee" * 20, 16)
    pre = b"".join(
        (
            bytes.fromhex(prev[2:]),
            seq.to_bytes(32, "big"),
            b.kind_hash,
            bytes(12) + bytes.fromhex(thief[2:]),
            subject.to_bytes(32, "big"),
            dh,
            at.to_bytes(32, "big"),
        )
    )
    address = header["contracts"]["DigitalRMB"].lower()
    return [
        seq,
        "ECNY_TRANSFERRED",
        thief,
        str(subject),
        "0x" + dh.hex(),
        at,
        prev,
        "0x" + keccak(pre).hex(),
        1,
        "0x" + "ab" * 32,
        1,
        [address, ["0x" + t.hex() for t in topics], "0x" + payload.hex(), 0],
    ]


def _row_field_mutations(row: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    seq = row[0]
    for delta in (1, -1, 1000):
        yield f"seq {seq}→{seq + delta}", [seq + delta, *row[1:]]
    yield "seq as a string", [str(seq), *row[1:]]
    other = "MEMBER_SUSPENDED" if row[1] != "MEMBER_SUSPENDED" else "MEMBER_ADMITTED"
    yield "kind changed", [row[0], other, *row[2:]]
    yield "kind unknown", [row[0], "NOT_A_KIND", *row[2:]]
    for i, name in ((2, "actor"), (4, "dataHash"), (6, "prevHash"), (7, "entryHash")):
        for value in _hex_flips(row[i]):
            yield f"{name} changed", [*row[:i], value, *row[i + 1 :]]
    yield "subject changed", [*row[:3], str(int(row[3]) + 1), *row[4:]]
    yield "time changed", [*row[:5], row[5] + 1, *row[6:]]
    yield "time earlier", [*row[:5], row[5] - 1, *row[6:]]
    event = row[11]
    yield "event dropped", [*row[:11], None]
    address, topics, payload, index = event
    yield "event address changed", [*row[:11], [_flip(address), topics, payload, index]]
    for j in range(len(topics)):
        bent = [*topics[:j], _flip(topics[j]), *topics[j + 1 :]]
        yield f"event topic {j} changed", [*row[:11], [address, bent, payload, index]]
    yield "event topic dropped", [*row[:11], [address, topics[:-1], payload, index]]
    yield "event topic added", [*row[:11], [address, [*topics, topics[-1]], payload, index]]
    if len(payload) > 2:
        yield "event data changed", [*row[:11], [address, topics, _flip(payload), index]]
        yield "event data cut", [*row[:11], [address, topics, payload[:-64], index]]
    yield "event data extended", [*row[:11], [address, topics, payload + "00" * 32, index]]


def bundle_mutations(path: Path) -> Iterator[Mutation]:
    header, rows = _bundle_rows(path)
    n = len(rows)
    for i, row in enumerate(rows):
        seq = row[0]
        for what, bent in _row_field_mutations(row):
            yield f"#{seq}: {what}", _dump(header, [*rows[:i], bent, *rows[i + 1 :]]), seq
        yield f"#{seq}: dropped", _dump(header, rows[:i] + rows[i + 1 :]), seq
        yield f"#{seq}: copied", _dump(header, [*rows[: i + 1], row, *rows[i + 1 :]]), seq + 1
        if i + 1 < n:
            swapped = [*rows[:i], rows[i + 1], row, *rows[i + 2 :]]
            yield f"#{seq}: swapped with the next", _dump(header, swapped), seq
        forged = _forged_row(header, seq + 1, row[7], row[5])
        inserted = [*rows[: i + 1], forged, *rows[i + 1 :]]
        yield f"forged entry after #{seq}", _dump(header, inserted), seq + 1
        unlinked = copy.deepcopy(forged)
        unlinked[6] = _flip(unlinked[6])
        inserted = [*rows[: i + 1], unlinked, *rows[i + 1 :]]
        yield f"forged unlinked entry after #{seq}", _dump(header, inserted), seq + 1
    yield from _bundle_header_mutations(header, rows)


def _bundle_header_mutations(header: dict[str, Any], rows: list[list[Any]]) -> Iterator[Mutation]:
    n = len(rows)
    bent = copy.deepcopy(header)
    bent["head"]["entry_hash"] = _flip(bent["head"]["entry_hash"])
    yield "head hash changed", _dump(bent, rows), n
    for delta in (1, -1):
        bent = copy.deepcopy(header)
        bent["head"]["seq"] += delta
        yield f"head seq {delta:+}", _dump(bent, rows), n + 1 if delta > 0 else n
    for c in range(len(header["checkpoints"])):
        bent = copy.deepcopy(header)
        bent["checkpoints"][c]["root"] = _flip(bent["checkpoints"][c]["root"])
        yield f"checkpoint {c} root changed", _dump(bent, rows), bent["checkpoints"][c]["size"]
    bent = copy.deepcopy(header)
    bent["checkpoints"].append({"size": 3, "root": "0x" + "00" * 32})
    yield "checkpoint invented", _dump(bent, rows), 3
    for name in ("Membership", "DigitalRMB", "LoanBook"):
        bent = copy.deepcopy(header)
        bent["contracts"][name] = _flip(bent["contracts"][name])
        first = next(r[0] for r in rows if by_name()[r[1]].contract == name)
        yield f"{name} address changed", _dump(bent, rows), first
    yield "truncated to the header", _dump(header, []), 1


def _run_all(
    mutations: Iterator[Mutation], verify: Callable[[Path], Any], tmp_path: Path, name: str
) -> None:
    tried, missed, misnamed = 0, [], []
    path = tmp_path / "bent.jsonl"
    for what, lines, expected in mutations:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        verdict = verify(path)
        tried += 1
        if verdict.ok:
            missed.append(what)
        elif verdict.first_bad_seq != expected:
            misnamed.append(f"{what}: named #{verdict.first_bad_seq}, not #{expected}")
    COUNTS[name] = tried
    print(f"\n{name}: {tried} mutations, {tried - len(missed)} detected")
    assert not missed, f"{len(missed)} of {tried} mutations went undetected: {missed[:10]}"
    assert not misnamed, f"{len(misnamed)} of {tried} named the wrong entry: {misnamed[:10]}"


def test_the_story_bundle_verifies_before_it_is_touched(story_bundle: Path) -> None:
    verdict = verify_bundle(story_bundle, jobs=1)
    assert verdict.ok, verdict
    assert verdict.checkpoints == 1


def test_every_single_change_to_an_exported_bundle_fails_and_names_the_first_bad_entry(
    story_bundle: Path, tmp_path: Path
) -> None:
    _run_all(
        bundle_mutations(story_bundle),
        lambda p: verify_bundle(p, jobs=1),
        tmp_path,
        "bundle",
    )
    assert COUNTS["bundle"] > 1_000


def test_the_parallel_verifier_gives_the_same_verdicts_as_one_process(
    story_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ledger.audit.parallel as parallel

    monkeypatch.setattr(parallel, "SLICE_BYTES", 2_000)  # a few entries per slice
    path = tmp_path / "bent.jsonl"
    for n, (_what, lines, _expected) in enumerate(bundle_mutations(story_bundle)):
        if n % 37:
            continue  # a sample of every kind of change: a process pool takes ~0.1 s to start
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert verify_bundle(path, jobs=2) == verify_bundle(path, jobs=1)


# --------------------------------------------------------------------------- evidence


def _evidence(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def _edump(header: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(header)] + [json.dumps(i) for i in items]


def _with(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(item)
    out.update(changes)
    return out


def _with_event(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(item)
    out["event"].update(changes)
    return out


def _item_mutations(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    seq = item["seq"]
    for delta in (1, -1):
        yield f"seq {delta:+}", _with(item, seq=seq + delta)
    yield (
        "kind changed",
        _with(item, kind="LOAN_FUNDED" if item["kind"] != "LOAN_FUNDED" else "LOAN_ACCEPTED"),
    )
    yield "kind unknown", _with(item, kind="NOT_A_KIND")
    for key in ("actor", "data_hash", "prev_hash", "entry_hash"):
        for value in _hex_flips(item[key]):
            yield f"{key} changed", _with(item, **{key: value})
    yield "subject changed", _with(item, subject=str(int(item["subject"]) + 1))
    yield "time changed", _with(item, at=item["at"] + 1)
    yield "event dropped", _with(item, event=None)
    event = item["event"]
    yield "event contract renamed", _with_event(item, contract="Policy")
    yield "event renamed", _with_event(item, name="Transfer")
    yield "event address changed", _with_event(item, address=_flip(event["address"]))
    for j, topic in enumerate(event["topics"]):
        bent = [*event["topics"][:j], _flip(topic), *event["topics"][j + 1 :]]
        yield f"event topic {j} changed", _with_event(item, topics=bent)
    yield "event data extended", _with_event(item, data=event["data"] + "00" * 32)
    if len(event["data"]) > 2:
        yield "event data changed", _with_event(item, data=_flip(event["data"]))
    for name, value in event["fields"].items():
        changed = copy.deepcopy(event["fields"])
        changed[name] = _bent_value(value)
        yield f"event field {name} changed", _with_event(item, fields=changed)
    fewer = dict(list(event["fields"].items())[:-1])
    yield "event field dropped", _with_event(item, fields=fewer)
    proof = item["proof"]
    for j, node in enumerate(proof):
        changed = [*proof[:j], _flip(node), *proof[j + 1 :]]
        yield f"proof node {j} changed", _with(item, proof=changed)
        yield f"proof node {j} dropped", _with(item, proof=proof[:j] + proof[j + 1 :])
        doubled = [*proof[: j + 1], node, *proof[j + 1 :]]
        yield f"proof node {j} doubled", _with(item, proof=doubled)
        if j + 1 < len(proof):
            swapped = [*proof[:j], proof[j + 1], node, *proof[j + 2 :]]
            yield f"proof nodes {j} and {j + 1} swapped", _with(item, proof=swapped)


def _bent_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return _flip(value)
    if isinstance(value, list):
        return [*value, value[0] if value else 1]
    return None


def _forged_item(header: dict[str, Any], model: dict[str, Any], seq: int) -> dict[str, Any]:
    """A payment that never happened, with a self-consistent hash and a made-up proof."""
    b = by_name()[model["kind"]]
    topics = [bytes.fromhex(t[2:]) for t in model["event"]["topics"]]
    payload = bytes.fromhex(model["event"]["data"][2:])
    dh = data_hash(b, topics, payload)
    assert dh is not None
    pre = b"".join(
        (
            bytes.fromhex(model["prev_hash"][2:]),
            seq.to_bytes(32, "big"),
            b.kind_hash,
            bytes(12) + bytes.fromhex(model["actor"][2:]),
            int(model["subject"]).to_bytes(32, "big"),
            dh,
            int(model["at"]).to_bytes(32, "big"),
        )
    )
    entry = keccak(pre)
    fake = Tree([leaf_hash(entry)] * header["checkpoint"]["size"])
    proof = fake.inclusion_proof(seq - 1, header["checkpoint"]["size"])
    return _with(
        model,
        seq=seq,
        entry_hash="0x" + entry.hex(),
        proof=["0x" + p.hex() for p in proof],
    )


def evidence_mutations(path: Path) -> Iterator[Mutation]:
    header, items = _evidence(path)
    seqs = [i["seq"] for i in items]
    n = len(items)
    free = [s for s in range(1, header["checkpoint"]["size"] + 1) if s not in seqs]
    for i, item in enumerate(items):
        seq = item["seq"]
        for what, bent in _item_mutations(item):
            yield f"#{seq}: {what}", _edump(header, [*items[:i], bent, *items[i + 1 :]]), seq
        yield f"#{seq}: dropped", _edump(header, items[:i] + items[i + 1 :]), seq
        after = seqs[i + 1] if i + 1 < n else seq
        yield f"#{seq}: copied", _edump(header, [*items[: i + 1], item, *items[i + 1 :]]), after
        if i + 1 < n:
            swapped = [*items[:i], items[i + 1], item, *items[i + 2 :]]
            yield f"#{seq}: swapped with the next", _edump(header, swapped), seq
        forged_seq = next((s for s in free if s > seq), None)
        if forged_seq is not None and (i + 1 == n or forged_seq < seqs[i + 1]):
            forged = _forged_item(header, item, forged_seq)
            inserted = [*items[: i + 1], forged, *items[i + 1 :]]
            unlisted = seqs[i + 1] if i + 1 < n else forged_seq
            yield f"forged #{forged_seq} after #{seq}", _edump(header, inserted), unlisted
            listed = copy.deepcopy(header)
            listed["entries"] = sorted([*seqs, forged_seq])
            yield f"forged and listed #{forged_seq}", _edump(listed, inserted), forged_seq
    yield from _evidence_header_mutations(header, items)


def _evidence_header_mutations(
    header: dict[str, Any], items: list[dict[str, Any]]
) -> Iterator[Mutation]:
    first = items[0]["seq"]
    bent = copy.deepcopy(header)
    bent["checkpoint"]["root"] = _flip(bent["checkpoint"]["root"])
    yield "checkpoint root changed", _edump(bent, items), first
    sizes = 0
    size = header["checkpoint"]["size"]
    # One more, one fewer, and a size that leaves out the last listed entry.
    for new_size in (size + 1, size - 1, header["entries"][-1] - 1):
        bent = copy.deepcopy(header)
        bent["checkpoint"]["size"] = new_size
        first_bad = _first_unproved(bent, items)
        if first_bad is None:
            # Every listed entry's path fits this size too (it lies in a complete subtree
            # the two trees share): only the chain's checkpointRoot(size) tells them apart.
            continue
        sizes += 1
        yield f"checkpoint size {new_size - size:+}", _edump(bent, items), first_bad
    assert sizes, "no size change that the proofs themselves reveal"
    bent = copy.deepcopy(header)
    bent["entries"] = header["entries"][1:]
    yield "first entry unlisted", _edump(bent, items), header["entries"][1]
    bent = copy.deepcopy(header)
    bent["entries"] = header["entries"][:-1]
    yield "last entry unlisted", _edump(bent, items), header["entries"][-1]
    for key in ("loans", "receivables"):
        bent = copy.deepcopy(header)
        bent["lineage"][key] = []
        kinds = ("LOAN_",) if key == "loans" else ("RECEIVABLE_",)
        hit = next(i["seq"] for i in items if i["kind"].startswith(kinds))
        yield f"lineage {key} emptied", _edump(bent, items), hit
    for name in ("LoanBook", "ReceivableToken"):
        bent = copy.deepcopy(header)
        bent["contracts"][name] = _flip(bent["contracts"][name])
        hit = next(i["seq"] for i in items if i["event"]["contract"] == name)
        yield f"{name} address changed", _edump(bent, items), hit
    yield "entries removed", _edump(header, []), header["entries"][0]


def _first_unproved(header: dict[str, Any], items: list[dict[str, Any]]) -> int | None:
    """The first entry a proof does not place under the header's (size, root); None when
    every proof fits.

    An inclusion proof fixes the root, not the size: a path can fit two sizes (RFC 9162
    trusts the size from the signed tree head, here `checkpointRoot(size)` on-chain)."""
    size, root = header["checkpoint"]["size"], bytes.fromhex(header["checkpoint"]["root"][2:])
    for item in items:
        leaf = leaf_hash(bytes.fromhex(item["entry_hash"][2:]))
        proof = [bytes.fromhex(p[2:]) for p in item["proof"]]
        if item["seq"] > size or not verify_inclusion(leaf, item["seq"] - 1, size, proof, root):
            return int(item["seq"])
    return None


def test_the_loan_evidence_verifies_before_it_is_touched(story_evidence: Path) -> None:
    verdict = verify_evidence(story_evidence)
    assert verdict.ok, verdict


def test_every_single_change_to_an_evidence_bundle_fails_and_names_the_first_bad_entry(
    story_evidence: Path, tmp_path: Path
) -> None:
    _run_all(evidence_mutations(story_evidence), verify_evidence, tmp_path, "evidence")
    assert COUNTS["evidence"] > 500


def test_evidence_whose_root_is_not_the_trusted_one_fails_before_any_entry(
    story_evidence: Path,
) -> None:
    header, _ = _evidence(story_evidence)
    root = bytes.fromhex(header["checkpoint"]["root"][2:])
    assert verify_evidence(story_evidence, root).anchored
    verdict = verify_evidence(story_evidence, bytes(32))
    assert not verdict.ok and verdict.first_bad_seq is None
    assert "not the trusted root" in (verdict.problem or "")
