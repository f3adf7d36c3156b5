"""`make bench`: every benchmark, one report (bench-results/report.md and report.json).

Each part is its own module and can be run alone (`python -m bench.gas`, `bench.cli`,
`bench.throughput`, `bench.scale`, and `bench.audit` / `bench.report` where present). Timings
are medians with their spread over repeated runs; gas is exact.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-results"
PARTS = ("gas", "cli", "throughput", "scale", "audit", "report")


def _run(part: str) -> Any:
    try:
        module = importlib.import_module(f"bench.{part}")
    except ModuleNotFoundError:
        return None
    if part == "gas":
        return module.measure()
    return module.measure() if hasattr(module, "measure") else module.main([])


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        "# liandai benchmark report",
        "",
        f"Machine: {sys.platform}, Python {sys.version.split()[0]}; "
        f"generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `make bench`.",
        "",
    ]
    for part, data in results.items():
        lines += [f"## {part}", "", "| figure | value |", "|---|---|"]
        for key, value in (data or {}).items():
            lines.append(f"| {key} | {json.dumps(value) if isinstance(value, dict) else value} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    wanted = [a for a in sys.argv[1:] if a in PARTS] or list(PARTS)
    results: dict[str, Any] = {}
    for part in wanted:
        start = time.perf_counter()
        print(f"bench: {part} …", flush=True)
        data = _run(part)
        if data is not None:
            results[part] = data
            print(f"bench: {part} done in {time.perf_counter() - start:.0f} s", flush=True)
    (OUT / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / "report.md").write_text(_markdown(results) + "\n")
    print(f"wrote {OUT / 'report.md'}")


if __name__ == "__main__":
    main()
