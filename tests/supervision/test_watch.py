"""`liandai watch` as a process of its own: it follows new blocks (and the home's refusal
record) while other commands write to the same embedded chain, and prints alerts as they
are raised and cleared."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ledger.home import Home
from tests.supervision.scenario import Facts
from tests.supervision.scenario import doc as document

ROOT = Path(__file__).resolve().parents[2]


class Watcher:
    def __init__(self, home: Home) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("LIANDAI_RPC", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "--home",
                str(home.root),
                "watch",
                "--json",
                "--interval",
                "0.2",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def take(self, n: int, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            try:
                out.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                stderr = self.proc.stderr.read() if self.proc.poll() is not None else ""  # type: ignore[union-attr]
                raise AssertionError(f"only {len(out)} of {n} lines: {out} {stderr}") from None
        return out

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def test_watch_follows_new_blocks_and_prints_alerts_as_they_happen(  # type: ignore[no-untyped-def]
    run, scenario_copy: tuple[Home, Facts]
) -> None:
    home, facts = scenario_copy
    watcher = Watcher(home)
    try:
        first = watcher.take(9)
        assert {x["event"] for x in first} == {"raised"}
        assert len({x["rule"] for x in first}) == 7

        # a refused duplicate reaches no block: the home's record is followed too
        r = run(
            home,
            "--as",
            "core",
            "receivable",
            "issue",
            "--to",
            "supplier1",
            "--amount",
            "5",
            "--due",
            "2099-12-31",
            "--doc-hash",
            "0x" + document(2).hex(),
        )
        assert r.code == 1 and "DocumentAlreadyUsed" in r.err
        (dup,) = watcher.take(1)
        assert (dup["event"], dup["rule"]) == ("raised", "duplicate_document")
        assert dup["subject"]["doc_hash"] == "0x" + document(2).hex()
        assert dup["numbers"]["existing_receivable"] == facts.r["R2"]

        # a new block clears an alert: more net assets, more room under the limit
        r = run(home, "--as", "regulator", "member", "set-net-assets", "microloan", "100,000,000")
        assert r.code == 0, r.err
        (cleared,) = watcher.take(1)
        assert (cleared["event"], cleared["rule"]) == ("cleared", "exposure_near_limit")

        # the guarantor honours its breached claim on L4 in full: its alert clears
        assert run(home, "--as", "issuer", "cny", "mint", "guarantor", "100,000").code == 0
        r = run(home, "--as", "guarantor", "cover", "honour", str(facts.loan["L4"]))
        assert r.code == 0, r.err
        (paid,) = watcher.take(1)
        assert (paid["event"], paid["rule"]) == ("cleared", "cover_breached")
        assert paid["subject"]["loan"] == facts.loan["L4"]

        # time passing on the chain raises one: R2a and R2b1 fall due on day 150
        assert run(home, "chain", "advance", "20").code == 0
        raised = watcher.take(2)
        assert {(x["event"], x["rule"], x["subject"]["id"]) for x in raised} == {
            ("raised", "receivable_overdue", facts.r["R2a"]),
            ("raised", "receivable_overdue", facts.r["R2b1"]),
        }
    finally:
        code = watcher.stop()
    assert code == 0
