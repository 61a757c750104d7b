"""Driving the server with wrk, a compiled load generator, so that the load takes little of the
CPU the server needs (a Python generator on two cores takes a large share of it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

#: Cycles through the requests given, one after another on each connection; prints the figures as JSON.
_SCRIPT = """
local requests = {%(requests)s}
local threads = 0
counter = 0
-- Each thread starts at its own place in the list: two threads must not change the same listing at once.
setup = function(thread)
  thread:set("counter", threads * 7919)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"bad_status":%%d,"socket_errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these characters


def run(base: str, requests: list[tuple[str, str, dict[str, str], str | None]], seconds: float, connections: int) -> dict[str, Any]:
    """``requests`` are (method, path with query, headers, body); the figures in the bench's shape."""
    entries = []
    for method, path, headers, body in requests:
        header_table = "{" + ",".join(f"[{_lua(k)}]={_lua(v)}" for k, v in headers.items()) + "}"
        entries.append("{" + ",".join([_lua(method), _lua(path), header_table, _lua(body) if body is not None else "nil"]) + "}")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(_SCRIPT % {"requests": ",\n".join(entries)})
        threads = min(2, connections)
        completed = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s", "-s", str(script), base],
            capture_output=True, text=True, timeout=seconds + 120, check=False,
        )  # fmt: skip
    line = next((line for line in completed.stdout.splitlines() if line.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {completed.stdout[-500:]} {completed.stderr[-500:]}")
    figures = json.loads(line[4:])
    seconds_run = figures["duration_us"] / 1e6
    errors = figures["bad_status"] + figures["socket_errors"]
    return {
        "rps": round((figures["requests"] - errors) / seconds_run, 1) if seconds_run else 0.0,
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "errors": errors,
        "requests": figures["requests"],
    }
