"""Load run (docs/operations.md): what the standard deployment sustains, per kind of request,
and what readers get while the database or Redis is down.

    make loadtest            # = .venv/bin/python scripts/loadtest.py
    .venv/bin/python scripts/loadtest.py --duration 20 --connections 32 --papers 1000

Everything runs on 127.0.0.1 and is started here: a throwaway PostgreSQL cluster (its own
port) and a redis-server of its own, both of which the run stops on purpose; the demo plus
--papers synthetic papers (generate_bench_data); gunicorn with gunicorn.conf.py (--workers
sync workers) behind nginx with deploy/nginx.conf, as in production; and a second gunicorn,
also behind nginx, with the page cache off. Phases of --duration seconds each:

1. cached: wrk over every page, list, feed and the stylesheet, page cache on (hits);
2. uncached: wrk over the same URLs with the page cache off: every page rendered (template
   fragments cached, as in production);
3. search: wrk over searches, comparisons and filtered lists (never or rarely stored);
4. mixed: Python clients: 8 readers over all of the above, 2 commenters posting comments,
   a moderator approving them every 4 s (each approval makes the pages render again);
5. database outage: the mixed traffic, PostgreSQL stopped for --outage seconds;
6. Redis outage: the mixed traffic, redis-server killed for --outage seconds.

It fails on any socket error or non-2xx answer in phases 1-4 (a comment post answers 303,
an approval 302); in 5 on any error but a 503 with Retry-After while the database is down
(pages the page cache holds are still served) and any error after it; in 6 on any error at
all; and if a comment answered "stored" is not in the database. The figures are what it is
for.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import (  # noqa: E402
    NEEDS_DATABASE,
    ROOT,
    Gunicorn,
    Http,
    Nginx,
    PrivateCluster,
    PrivateRedis,
    find_binary,
    fine,
    free_port,
    manage,
    production_env,
    quote_path,
    say,
    site_urls,
    statuses,
    stored_comments,
    summary,
    under_traffic,
)

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

PASSWORD = "load-check-only-Pw-4471"
FAILURES: list[str] = []
FIGURES: list[str] = []
POSTED: list[str] = []


def wrk_phase(wrk: str, args, label: str, port: int, urls: list[str]) -> None:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % {"paths": ", ".join(json.dumps(quote_path(u)) for u in urls)})
    say(f"{label}: wrk -t{args.threads} -c{args.connections} -d{args.duration}s over {len(urls)}")
    say(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    run = subprocess.run(
        [
            wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--timeout",
            args.timeout,
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        cwd=ROOT,
    )
    script.unlink()
    if "STATUSES" not in run.stdout:
        FAILURES.append(f"{label}: wrk failed: {run.stderr[-500:]}")
        say(f"{label}: wrk failed:\n{run.stdout[-1000:]}\n{run.stderr[-1000:]}")
        return
    codes = json.loads(re.search(r"STATUSES (\{.*\})", run.stdout).group(1))
    totals = dict(re.findall(r"(\w+)=(\d+)", re.search(r"TOTALS (.*)", run.stdout).group(1)))
    latency = re.search(r"LATENCY_MS (.*)", run.stdout).group(1)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1)
    bad = {code: n for code, n in codes.items() if not code.startswith("2")}
    socket_errors = sum(int(v) for k, v in totals.items() if k.startswith("errors_"))
    line = (
        f"{label}: {totals['requests']} requests, {rps} req/s, statuses {codes}, "
        f"socket errors {socket_errors}, latency ms {latency}"
    )
    FIGURES.append(line)
    say(line)
    if bad or socket_errors:
        FAILURES.append(f"{label}: non-2xx {bad}, socket errors {socket_errors}")


def mixed_phase(label: str, port: int, urls, moderator, seconds: float, fault=None) -> dict:
    traffic, health, marks = under_traffic([port], urls, moderator, fault, seconds=seconds)
    hits = traffic.hits
    POSTED.extend(traffic.posted)
    total = summary(hits, marks["end"] - marks["start"])
    FIGURES.append(f"{label}: {total}")
    say(f"{label}: {total}")
    say(f"{label}: {len(traffic.posted)} comments posted, {traffic.approved} approved")
    return {"traffic": traffic, "health": health, "marks": marks, "hits": hits}


def windows(label: str, run: dict, start_key: str, end_key: str) -> list:
    """Figures before, during and after the outage; returns the requests begun during it."""
    hits, marks = run["hits"], run["marks"]
    down, back = marks[start_key], marks[end_key]
    parts = {
        "before": [h for h in hits if h.ended < marks["down"]],
        "during": [h for h in hits if down <= h.started <= back],
        "after": [h for h in hits if h.started > marks["up"] + 1],
    }
    spans = {"before": marks["down"] - marks["start"], "during": back - down}
    spans["after"] = marks["end"] - marks["up"] - 1
    for name, part in parts.items():
        line = f"{label}, {name} ({spans[name]:.1f} s): {summary(part, spans[name])}"
        FIGURES.append(line)
        say(line)
    say(f"{label}, during, by kind: {statuses(parts['during'])}")
    return parts["during"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds a phase (20)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--papers", type=int, default=1000, help="synthetic papers (1000)")
    parser.add_argument("--outage", type=float, default=5, help="seconds of each outage (5)")
    parser.add_argument(
        "--timeout",
        default="10s",
        help="wrk's per-request timeout (its default, 2s, counts a slow answer on a busy "
        "shared machine as an error; a browser waits much longer)",
    )
    args = parser.parse_args()
    wrk = find_binary("wrk", "wrk")
    if wrk is None:
        sys.exit("error: wrk is needed (Debian: apt-get install wrk)")
    if find_binary("nginx", "nginx-light") is None:
        sys.exit("error: nginx is needed (Debian: apt-get install nginx-light)")

    cluster = PrivateCluster().start()
    redis = PrivateRedis().start()
    work = cluster.dir
    started: list = []
    try:
        # As behind a load balancer and nginx: the client is the second address from the
        # right of X-Forwarded-For (the commenters each claim one of their own).
        env = production_env(
            DATABASE_URL=cluster.createdb("digest"),
            REDIS_URL=redis.url,
            VAR_DIR=work / "var",
            MEDIA_ROOT=work / "media",
            STATIC_ROOT=work / "static",
            TRUSTED_PROXY_COUNT="2",
        )
        say(f"private PostgreSQL on {cluster.port}, redis-server on {redis.port}")
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", env=env)
        manage("load_demo", env=env)
        if args.papers:
            digests = max(1, args.papers // 5)
            say(f"generate_bench_data --papers {args.papers} --digests {digests}")
            manage(
                "generate_bench_data",
                f"--papers={args.papers}",
                f"--digests={digests}",
                "--force",
                env=env,
                timeout=1800,
            )
        manage(
            "createsuperuser",
            "--noinput",
            "--username=moderator",
            "--email=m@example.com",
            env=dict(env, DJANGO_SUPERUSER_PASSWORD=PASSWORD),
        )
        cached = Gunicorn(free_port(), env, workers=args.workers).start()
        started.append(cached)
        front = Nginx(free_port(), cached.port).start()
        started.append(front)
        urls = site_urls(front.port)
        say("URLs: " + ", ".join(f"{len(v)} {k}" for k, v in urls.items()))
        readable = urls["page"] + urls["list"] + urls["feed"]
        for url in readable:
            Http(front.port).get(url)  # stored in the page cache
        wrk_phase(wrk, args, "cached", front.port, readable + urls["static"])

        plain = Gunicorn(free_port(), dict(env, PAGE_CACHE_ENABLED="0"), workers=args.workers)
        started.append(plain.start())
        plain_front = Nginx(free_port(), plain.port).start()
        started.append(plain_front)
        wrk_phase(wrk, args, "uncached", plain_front.port, readable)
        plain_front.stop()
        plain.stop()

        wrk_phase(wrk, args, "search", front.port, urls["search"])

        moderator = Http(front.port, timeout=15)
        if moderator.login("moderator", PASSWORD).status != 302:
            FAILURES.append("the moderator could not log in")
        run = mixed_phase("mixed", front.port, urls, moderator, args.duration)
        bad = [h for h in run["hits"] if not fine(h)]
        if bad:
            FAILURES.append(f"mixed: answers not as usual {statuses(bad)}")

        def database_down():
            marks = {"down": time.monotonic()}
            say(f"stopping PostgreSQL for {args.outage:.0f}s")
            cluster.stop()
            marks["stopped"] = time.monotonic()
            time.sleep(args.outage)
            marks["restart"] = time.monotonic()
            cluster.start_again()
            marks["up"] = time.monotonic()
            return marks

        seconds = max(args.duration, 3 * args.outage)
        run = mixed_phase("database outage", front.port, urls, moderator, seconds, database_down)
        during = windows("database outage", run, "stopped", "restart")
        wrong = [
            h
            for h in during
            if not fine(h)
            and (h.kind not in NEEDS_DATABASE or h.status != 503 or not h.retry_after)
        ]
        after = [h for h in run["hits"] if h.started > run["marks"]["up"] + 1]
        if wrong or not all(fine(h) for h in after):
            FAILURES.append(
                f"database outage: answers other than 503 with Retry-After {statuses(wrong)}, "
                f"after {statuses([h for h in after if not fine(h)])}"
            )

        def redis_down():
            marks = {"down": time.monotonic()}
            say(f"killing Redis for {args.outage:.0f}s")
            redis.kill()
            time.sleep(args.outage)
            marks["restart"] = time.monotonic()
            redis.start()
            marks["up"] = time.monotonic()
            return marks

        run = mixed_phase("Redis outage", front.port, urls, moderator, seconds, redis_down)
        during = windows("Redis outage", run, "down", "restart")
        bad = [h for h in run["hits"] if not fine(h)]
        if bad:
            FAILURES.append(f"Redis outage: answers not as usual {statuses(bad)}")
        check_lost(env)
    finally:
        for server in reversed(started):
            server.stop()
        cluster.destroy()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)

    say(f"load average after: {os.getloadavg()[0]:.2f}")
    say("figures:\n" + "\n".join(FIGURES))
    if FAILURES:
        say("FAIL:\n" + "\n".join(FAILURES))
        return 1
    say("PASS: no socket error, no unexpected answer")
    return 0


def check_lost(env) -> None:
    """Every comment answered 303 is stored (none lost to an outage)."""
    bodies = stored_comments(env)
    lost = [body for body in POSTED if body not in bodies]
    line = f"comments: {len(POSTED)} answered 303 in all phases, {len(lost)} of them not stored"
    FIGURES.append(line)
    say(line)
    if lost or not POSTED:
        FAILURES.append(line)


if __name__ == "__main__":
    sys.exit(main())
