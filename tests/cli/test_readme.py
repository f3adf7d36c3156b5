"""The README's "Using it" block, taken from the README itself and run as written by bash
through the installed `liandai` command, on a fresh home and the embedded chain."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, free_port


def using_it_block() -> str:
    """The first ```sh block under "## Using it"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using it\n") :]
    section = section[: section.index("\n## ", 1)]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "no ```sh block in the README's Using it section"
    return match.group(1)


def test_readme_names_only_files_that_exist() -> None:
    block = using_it_block()
    for path in re.findall(r"examples/[\w./-]+", block):
        assert (ROOT / path).is_file(), path
    for line in block.splitlines():
        assert "…" not in line.split("#")[0], f"a placeholder in the README: {line}"


def test_readme_using_it_runs_as_written_on_a_fresh_home(tmp_path: Path) -> None:
    block = using_it_block()
    # The one change: another port, in case 8545 is taken on the machine running the tests.
    port = str(free_port())
    script = block.replace("8545", port)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIANDAI_") and k not in ("VIRTUAL_ENV", "COLUMNS")
    }
    env["HOME"] = str(tmp_path / "user")  # the default home, ~/.liandai, is a fresh one
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    assert shutil.which("liandai", path=env["PATH"]), "the liandai command is not installed"
    try:
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:  # never leave the background node running
        subprocess.run(
            ["liandai", "node", "--stop"], env=env, capture_output=True, timeout=60, check=False
        )
    assert done.returncode == 0, f"stderr:\n{done.stderr}\nstdout (tail):\n{done.stdout[-3000:]}"
    assert done.stderr == "", done.stderr
    out = done.stdout
    home = tmp_path / "user" / ".liandai"
    assert (home / "deployments" / "embedded.json").is_file()
    # Every step said what it did; a few that matter, with their numbers.
    assert "admitted lender2 as LENDER" in out
    assert "issued receivable #1" in out
    assert "split #1 into #2, #3" in out
    assert "#4" in out and "#6" in out  # the CSV's three rows issued
    assert "the chain should accept it" in out and "proposed loan #1" in out
    assert re.search(r"│ status +│ REPAID", out)
    assert "bought tranche 0 of loan #1 from bank: paid ¥419,000.00, took ¥420,000.00" in out
    assert "closed deal #1" in out
    # the junior's receipts went to the deal, which paid class A's principal first
    assert re.search(r"deal #1: distributed ¥[1-9][\d,]*\.\d\d", out)
    assert re.search(r"class A principal +│ +¥[1-9]", out)
    assert "claimed" in out
    # the guaranteed loan: funding waited for both providers, a partial honour, a breach
    assert "accepted cover layer(s) 1 (GUARANTEE) of loan #2" in out
    assert "honoured ¥10,000.00 of layer 1 on loan #2" in out
    assert "layer 2 of loan #2 (INSURANCE by insurer) breached: ¥30,000.00 unpaid" in out
    # the staged loan: stage 1 drawn to its payee, stage 2 lapsed back to the lenders 70/30
    assert "drew stage 1 of loan #3: ¥70,000.00 to supplier2" in out
    assert "lapsed stage(s) 2 of loan #3: ¥35,000.00 back to bank, ¥15,000.00 back to" in out
    assert "the checkpoint root is the trusted root" in out
    assert "wrote book.html" in out and (work / "book.html").is_file()
    assert re.search(r"│ network +│ embedded", out)  # --rpc to the home's own node is this home
    assert "node (pid" in out and "stopped" in out
    assert not (home / "node.json").exists()
