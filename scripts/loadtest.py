"""Load run: wrk against gunicorn over the demo's public pages (docs/operations.md).

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/N make loadtest
    .venv/bin/python scripts/loadtest.py --duration 60 --connections 32

Migrates the database, loads the demo (idempotent), starts gunicorn with the repository's
gunicorn.conf.py on 127.0.0.1, runs wrk over every public page of the demo in turn, and
fails unless there were zero socket errors and zero non-2xx answers. Only 127.0.0.1.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, Gunicorn, demo_urls, manage, production_env, say  # noqa: E402

LUA = r"""
local paths = {%(paths)s}
local threads = {}
local counter = 0
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, string.format('"%%s": %%d', code, n)) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
  io.write(string.format("LATENCY_MS p50=%%.2f p90=%%.2f p99=%%.2f max=%%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("TOTALS requests=%%d errors_connect=%%d errors_read=%%d " ..
    "errors_write=%%d errors_timeout=%%d errors_status=%%d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wrk from Debian's packages")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
    if not found:
        sys.exit("error: wrk is needed (Debian: apt-get install wrk)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds (default 60)")
    parser.add_argument("--connections", type=int, default=32, help="default 32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument(
        "--timeout",
        default="10s",
        help="wrk's per-request timeout (its default, 2s, counts a slow answer on a busy "
        "shared machine as an error; a browser waits much longer)",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()

    env = production_env()
    say(f"database {env.get('DATABASE_URL', 'sqlite (var/db.sqlite3)')}")
    say(f"cache {env.get('REDIS_URL') or 'per-process memory'}")
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)
    manage("load_demo", env=env)
    server = Gunicorn(args.port, env, workers=args.workers).start()
    try:
        urls = demo_urls(args.port)
        say(f"{len(urls)} public URLs: {', '.join(urls[:4])}, ...")
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(LUA % {"paths": ", ".join(json.dumps(u) for u in urls)})
        say(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --timeout {args.timeout}"
        )
        say(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        run = subprocess.run(
            [
                wrk,
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{args.port}/",
            ],
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
            cwd=ROOT,
        )
        print(run.stdout, run.stderr, sep="\n")
        script.unlink()
    finally:
        server.stop()

    statuses = json.loads(re.search(r"STATUSES (\{.*\})", run.stdout).group(1))
    totals = dict(re.findall(r"(\w+)=(\d+)", re.search(r"TOTALS (.*)", run.stdout).group(1)))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1)
    bad = {code: n for code, n in statuses.items() if not code.startswith("2")}
    socket_errors = sum(int(v) for k, v in totals.items() if k.startswith("errors_"))
    say(f"requests {totals['requests']}, {rps} req/s, statuses {statuses}")
    say(f"load average after: {os.getloadavg()[0]:.2f}")
    if bad or socket_errors:
        say(f"FAIL: non-2xx {bad}, socket/status errors {socket_errors}")
        return 1
    say("PASS: zero errors, zero non-2xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
