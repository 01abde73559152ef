"""Fault and multi-server checks (docs/operations.md). 127.0.0.1 only.

    make faultcheck          # = .venv/bin/python scripts/faultcheck.py

It creates a throwaway PostgreSQL cluster under /tmp on its own port and a redis-server of
its own (so stopping either disturbs nobody), loads the demo, starts two gunicorn instances
on two ports sharing that database and that Redis, and checks:

1. sessions are shared: a login on one instance is valid on the other;
2. publishing changes show at once on the other instance (unpublish, publish);
3. cached data is invalidated for both (site settings edited on one, seen on the other);
4. admin login lockout is shared: failures spread over both instances lock the account;
5. hostile raw HTTP (over-long request line and headers) gets 4xx from gunicorn;
6. comments across servers: posted on one, approved on the other, rate limit shared;
7. an import killed with SIGKILL half-way leaves its empty database empty, and can rerun;
8. nginx with deploy/nginx.conf in front of one instance holds 20 slow clients (/healthz
   within 1 s) and passes the forwarding headers the application trusts
   (scripts/proxycheck.py);
9. mixed traffic (pages, lists, searches, feeds and the API, comment posts, a moderator
   approving them so pages are rendered again) answers without an error;
10. the database restarted under that traffic: errors only while it is down, each a 503;
11. the database stopped 3 s under that traffic, the page cache emptied as it stops so no
    page can come from it: every request needing the database answers 503 with
    Retry-After (lists and search included), /healthz 503, then all recovers by itself;
12. Redis killed 3 s, then frozen 5 s (SIGSTOP: connections hang), under that traffic: every
    answer as usual (from the database), /healthz 200 "degraded", then the cache works again
    by itself;
13. no comment lost: every comment answered "posted" is in the database.
"""

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxycheck  # noqa: E402
from stack import (  # noqa: E402
    NEEDS_DATABASE,
    PYTHON,
    READ_KINDS,
    ROOT,
    Gunicorn,
    Http,
    Nginx,
    PrivateCluster,
    PrivateRedis,
    between,
    find_binary,
    fine,
    free_port,
    manage,
    say,
    site_urls,
    statuses,
    stored_comments,
    summary,
    under_traffic,
)

PASSWORD = "fault-check-only-Pw-8812"
RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok, detail))
    say(f"{'PASS' if ok else 'FAIL'}: {name}{' — ' + detail if detail else ''}")


def admin_changelist_publish(client: Http, digest_id: int, action: str) -> int:
    return client.post(
        "/admin/papers/digest/", {"action": action, "_selected_action": [str(digest_id)]}
    ).status


def first_digest(env) -> tuple[int, str]:
    out = (
        manage(
            "shell",
            "-c",
            "from papers.models import Digest; d = Digest.objects.listed().first(); "
            "print(d.pk, d.get_absolute_url())",
            env=env,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split()
    )
    return int(out[0]), out[1]


def raw_http(port: int, payload: bytes) -> str:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        return sock.recv(200).decode("latin-1").split("\r\n", 1)[0]


def multi_server(env, a: Gunicorn, b: Gunicorn) -> None:
    on_a, on_b = Http(a.port), Http(b.port)
    check("login on A", on_a.login("chief", PASSWORD).status == 302)
    on_b.cookies = dict(on_a.cookies)
    page = on_b.get("/admin/")
    check("session made on A is valid on B", page.status == 200 and "chief" in page.body)

    digest_id, url = first_digest(env)
    reader_b = Http(b.port)
    check("digest readable on B", reader_b.get(url).status == 200)
    admin_changelist_publish(on_a, digest_id, "unpublish_selected")
    status = reader_b.get(url).status
    check("unpublished on A -> gone from B at once", status == 404, f"B answered {status}")
    home = reader_b.get("/").body
    check("... and from B's home page", url not in home)
    admin_changelist_publish(on_a, digest_id, "publish_selected")
    status = reader_b.get(url).status
    check("published again on A -> back on B at once", status == 200, f"B answered {status}")

    marker = f"Fault-check footer {time.time():.0f}"
    reader_b.get("/")  # B caches the site settings now
    form = {"site_name": "AI前沿推介", "tagline": "每日精选", "footer_text": marker}
    saved = on_a.post("/admin/papers/sitesettings/1/change/", form).status
    shown = marker in reader_b.get("/").body
    check(
        "site settings saved on A are shown by B at once (shared cache invalidated)",
        saved == 302 and shown,
        f"save {saved}",
    )

    manage("axes_reset", env=env)
    statuses = []
    for attempt in range(5):
        server = (a if attempt % 2 == 0 else b).port
        statuses.append(Http(server).login("chief", "wrong-password").status)
    final = Http(b.port).login("chief", PASSWORD).status
    check(
        "5 failed logins spread over A and B lock the account on B",
        final == 429,
        f"failures {statuses}, then the right password -> {final}",
    )
    manage("axes_reset_username", "chief", env=env)
    check("axes_reset_username unlocks it", Http(a.port).login("chief", PASSWORD).status == 302)

    line = raw_http(a.port, b"GET /" + b"a" * 6000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    check("a 6 KB request line is refused by gunicorn", " 4" in line, line)
    header = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n"
    line = raw_http(a.port, header)
    check("a 10 KB header is refused by gunicorn", " 4" in line, line)
    many = (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
        + b"\r\n"
    )
    line = raw_http(a.port, many)
    check("150 headers are refused by gunicorn", " 4" in line, line)
    line = raw_http(a.port, b"GET /%ff%fe%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    check("NUL and invalid UTF-8 in a raw path get a 4xx", " 4" in line, line)

    comments_across_servers(env, on_a, a, b)


def comments_across_servers(env, on_a: Http, a: Gunicorn, b: Gunicorn) -> None:
    """A comment posted through B, approved in A's admin, shows on B at once; the comment
    rate limit (1 per 15 s per address) counts posts made through either server (Redis)."""
    _digest_id, url = first_digest(env)
    reader_b = Http(b.port)
    form = reader_b.comment_form(url)
    time.sleep(3.2)  # the form's minimum fill time
    body = f"Fault-check comment {time.time():.0f}"
    reader = {"website": "", "name": "Reader", "email": "reader@example.com", "body": body}
    posted = reader_b.post("/comments/", {**form, **reader}).status
    check(
        "a comment posted through B waits for moderation (not shown yet)",
        posted in (200, 302, 303) and body not in Http(b.port).get(url).body,
        f"post answered {posted}",
    )
    found = manage(
        "shell",
        "-c",
        f"from comments.models import Comment; print(Comment.objects.get(body={body!r}).pk)",
        env=env,
    )
    comment_id = found.stdout.strip().splitlines()[-1]
    approved = on_a.post(
        "/admin/comments/comment/",
        {"action": "approve_selected", "_selected_action": [comment_id]},
    ).status
    check(
        "approved in A's admin -> shown on B's page at once",
        approved == 302 and body in Http(b.port).get(url).body,
        f"approve answered {approved}",
    )
    reader_a = Http(a.port)
    form = reader_a.comment_form(url)
    time.sleep(3.2)
    again = reader_a.post("/comments/", {**form, **reader, "body": body + " again"}).status
    check(
        "a second comment within 15 s through A hits the limit counted on B (429)",
        again == 429,
        f"A answered {again}",
    )


HOLD = """
import sys, time
import django
django.setup()
from editorial import backup

def hold(label, rows):
    if label == "papers.section":
        print("HOLDING", rows, flush=True)
        time.sleep(600)

backup.after_model_loaded.append(hold)
backup.import_site(sys.argv[1])
"""

COUNT = (
    "import json; from editorial import backup; print(json.dumps({m._meta.label_lower: "
    "m._base_manager.count() for m in backup.backup_models()}))"
)


def counts(env) -> dict[str, int]:
    # The last line: log records (JSON lines on stdout) may come before it.
    return json.loads(manage("shell", "-c", COUNT, env=env).stdout.strip().splitlines()[-1])


def killed_import(env, cluster: PrivateCluster, workdir: Path) -> None:
    archive = workdir / "site.zip"
    manage("export_site", str(archive), env=env)
    source = counts(env)
    target = dict(env, DATABASE_URL=cluster.createdb("digest_restore"))
    manage("migrate", "--noinput", env=target)
    child = subprocess.Popen(
        [PYTHON, "-c", HOLD, str(archive)],
        cwd=ROOT,
        env=target,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    after = counts(target)
    content = {
        k: after[k]
        for k in ("papers.digest", "papers.entry", "papers.section", "papers.paper", "auth.user")
    }
    check(
        "import_site killed (SIGKILL) after writing sections leaves no content",
        line.startswith("HOLDING") and not any(content.values()),
        f"child said {line.strip()!r}, rows now {content}",
    )
    rerun = manage("import_site", str(archive), env=target, check=False)
    restored = counts(target)
    check(
        "the import then simply runs again and restores every row",
        rerun.returncode == 0 and restored == source,
        rerun.stderr[-300:],
    )


# --- nginx in front -----------------------------------------------------------------------------


def behind_nginx(env, a: Gunicorn) -> None:
    """scripts/proxycheck.py's checks, with nginx in front of A."""
    if find_binary("nginx", "nginx-light") is None:
        check("nginx is installed (Debian: apt-get install nginx-light)", False)
        return
    proxy = Nginx(free_port(), a.port).start()
    try:
        say(f"nginx with deploy/nginx.conf on {proxy.port} in front of A")
        proxycheck.pages_and_static(check, proxy.port)
        proxycheck.run_checks(check, a.port, proxy.port)
    finally:
        proxy.stop()
        manage("axes_reset", env=env)  # the forwarded-address check locked 127.0.0.1 out


# --- traffic and outages ------------------------------------------------------------------------

ALL_POSTED: list[str] = []
DROPPED: list[tuple[str, float, str, str]] = []  # (phase, seconds into it, page, body)


def keep_comments(label: str, traffic, marks) -> None:
    ALL_POSTED.extend(traffic.posted)
    for at, page, _stamp, body in traffic.dropped:
        DROPPED.append((label, round(at - marks.get("down", marks["start"]), 2), page, body))


def normal_traffic(ports, urls, moderator) -> None:
    traffic, _health, marks = under_traffic(ports, urls, moderator, None, seconds=12)
    keep_comments("no fault", traffic, marks)
    hits = traffic.hits
    say(f"mixed traffic, no fault: {summary(hits, marks['end'] - marks['start'])}")
    kinds = {h.kind for h in hits}
    check(
        "mixed traffic: every page, list, search, feed, comment post and approval answered "
        "as it should",
        all(fine(h) for h in hits) and {*READ_KINDS, "comment"} <= kinds,
        f"{statuses(hits)}",
    )
    after_approval = [h for h in hits if h.kind == "page" and h.cache == "miss"]
    check(
        "approvals under traffic make pages render again (page cache misses), hits between",
        traffic.approved > 0 and after_approval and any(h.cache == "hit" for h in hits),
        f"{traffic.approved} comments approved; page answers by X-Page-Cache "
        f"{dict(Counter(h.cache for h in hits if h.kind == 'page'))}",
    )


def database_restart(cluster, redis, ports, urls, moderator, *, outage: float) -> None:
    """The database goes away under traffic: a fast restart (``outage`` 0) or stopped for
    ``outage`` seconds with the page cache emptied as it stops."""

    def fault():
        marks = {"down": time.monotonic()}
        if outage:
            say(f"stopping PostgreSQL for {outage:.0f}s under traffic, emptying the page cache")
            cluster.stop()
            marks["stopped"] = time.monotonic()
            redis.flush()  # every page must now come from the database
            marks["flushed"] = time.monotonic()
            time.sleep(outage)
            marks["restart"] = time.monotonic()
            cluster.start_again()
        else:
            say("pg_ctl restart -m fast under traffic")
            cluster.restart()
            marks["restart"] = time.monotonic()
        marks["up"] = time.monotonic()
        return marks

    traffic, health, marks = under_traffic(ports, urls, moderator, fault, seconds=18)
    hits, down, up = traffic.hits, marks["down"], marks["up"]
    label = f"database stopped {outage:.0f}s" if outage else "database fast restart"
    keep_comments(label, traffic, marks)
    errors = [h for h in hits if not fine(h)]
    first = min((h.ended for h in errors), default=None)
    last = max((h.ended for h in errors), default=None)
    window = f" between +{first - down:.2f}s and +{last - down:.2f}s" if errors else ""
    say(
        f"{label}: database down {up - down:.2f}s; {len(errors)} answers not as usual{window}\n"
        f"  all: {summary(hits, marks['end'] - marks['start'])}"
    )
    check(f"{label}: no errors before", all(fine(h) for h in hits if h.ended < down))
    check(
        f"{label}: errors only while the database was down, each a 503 (none a 500 or 404)",
        not errors
        or (first >= down - 0.5 and last <= up + 1.0 and {h.status for h in errors} == {503}),
        f"{statuses(errors)}",
    )
    if outage:
        during = between(hits, marks["flushed"], marks["restart"])
        needing = [h for h in during if h.kind in NEEDS_DATABASE]
        say(f"  during the outage (page cache empty): {statuses(during)}")
        check(
            f"{label}: every request needing the database answered 503 with Retry-After "
            "(pages, lists, search, feeds, API, comment posts, admin)",
            bool(needing) and all(h.status == 503 and h.retry_after for h in needing),
            f"{statuses(needing)}",
        )
        exercised = {h.kind for h in needing}
        check(
            f"{label}: pages, lists, searches, feeds and comment posts were all requested "
            "while it was down",
            {*READ_KINDS, "comment"} <= exercised,
            f"requested: {sorted(exercised)}",
        )
        static = [h for h in during if h.kind == "static"]
        if static:
            check(
                f"{label}: static files are still served (whitenoise, no database)",
                all(h.status == 200 for h in static),
                f"{statuses(static)}",
            )
        probes = [s for s, _ in health.between(marks["stopped"] + 0.3, marks["restart"])]
        check(
            f"{label}: /healthz answered 503 while down",
            bool(probes) and set(probes) == {503},
            f"{dict(Counter(probes))}",
        )
    after = [h for h in hits if h.started > up + 1]
    check(
        f"{label}: recovered by itself (every request after the restart as usual)",
        bool(after) and all(fine(h) for h in after),
        f"{len(after)} requests after: {statuses(after)}",
    )
    back = health.first_after(up, 200)
    check(
        f"{label}: /healthz is 200 again within 2 s",
        back is not None and back < 2,
        f"after {back:.2f}s" if back is not None else "never",
    )


def redis_outage(redis, ports, urls, moderator, *, freeze: bool, outage: float = 3) -> None:
    """Redis killed (a crash) or frozen (SIGSTOP: connections hang) for ``outage`` seconds
    under traffic: the site answers from the database."""

    def fault():
        say(f"{'freezing' if freeze else 'killing'} Redis for {outage:.0f}s under traffic")
        redis.freeze() if freeze else redis.kill()
        marks = {"down": time.monotonic()}
        time.sleep(outage)
        marks["restart"] = time.monotonic()
        redis.thaw() if freeze else redis.start()
        marks["up"] = time.monotonic()
        return marks

    traffic, health, marks = under_traffic(ports, urls, moderator, fault, seconds=15)
    hits, down, up = traffic.hits, marks["down"], marks["up"]
    label = f"Redis {'frozen' if freeze else 'killed'} {outage:.0f}s"
    keep_comments(label, traffic, marks)
    # Requests begun while Redis was away (a frozen Redis makes some end after it is back).
    during = [h for h in hits if down <= h.started <= marks["restart"]]
    say(f"{label}: requests begun during it: {summary(during, marks['restart'] - down)}")
    check(
        f"{label}: every request answered as usual from the database (pages, lists, search, "
        "feeds, comment posts, admin), none timed out",
        bool(during) and all(fine(h) for h in during),
        f"{statuses(during)}",
    )
    if not freeze:  # a frozen Redis costs each cache call its 0.25 s timeout: figures only
        check(
            f"{label}: every request begun during it answered within 5 s",
            bool(during) and max(h.seconds for h in during) < 5,
            f"slowest {max((h.seconds for h in during), default=0):.2f}s",
        )
    probes = health.between(down, marks["restart"])
    check(
        f'{label}: /healthz answered 200 "degraded" while it was down',
        bool(probes) and set(probes) == {(200, "degraded")},
        f"{dict(Counter(probes))}",
    )
    back = health.first_after(up, 200, "ok")
    check(
        f'{label}: the cache works again by itself (/healthz "ok" within 2 s)',
        back is not None and back < 2,
        f"after {back:.2f}s" if back is not None else "never",
    )
    hits_after = [h for h in hits if h.started > up + 1 and h.cache == "hit"]
    check(
        f"{label}: pages are served from the cache again afterwards",
        bool(hits_after),
        f"{len(hits_after)} cache hits after",
    )
    after = [h for h in hits if h.started > up]
    check(f"{label}: every request after it as usual", all(fine(h) for h in after))


def no_comment_lost(env) -> None:
    bodies = stored_comments(env)
    lost = [body for body in ALL_POSTED if body not in bodies]
    check(
        'no comment lost: every comment answered "stored" under traffic and faults is stored',
        bool(ALL_POSTED) and not lost,
        f"{len(ALL_POSTED)} posted, {len(lost)} missing",
    )
    check(
        "no reader's comment taken for a bot's (answered as stored, silently dropped)",
        not DROPPED,
        f"{len(DROPPED)} dropped: {DROPPED[:6]}",
    )


def main() -> int:
    cluster = PrivateCluster().start()
    redis = PrivateRedis().start()
    workdir = cluster.dir
    servers: list[Gunicorn] = []
    try:
        say(f"private PostgreSQL cluster in {cluster.dir} on port {cluster.port}")
        say(f"private redis-server on port {redis.port}")
        # As behind deploy/nginx.conf: one proxy's X-Forwarded-For entry and Proto trusted.
        env = proxycheck.proxy_env(
            DATABASE_URL=cluster.createdb("digest"),
            REDIS_URL=redis.url,
            VAR_DIR=str(workdir / "var"),
            MEDIA_ROOT=str(workdir / "media"),
            STATIC_ROOT=str(workdir / "static"),
        )
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", env=env)
        manage("load_demo", env=env)
        manage(
            "createsuperuser",
            "--noinput",
            "--username",
            "chief",
            "--email",
            "c@example.com",
            env=dict(env, DJANGO_SUPERUSER_PASSWORD=PASSWORD),
        )
        servers = [Gunicorn(8821, env).start(), Gunicorn(8822, env).start()]
        say("two gunicorn instances: A on 8821, B on 8822")
        multi_server(env, *servers)
        killed_import(env, cluster, workdir)
        behind_nginx(env, servers[0])
        urls = site_urls(servers[0].port)
        say(
            "traffic URLs: "
            + ", ".join(f"{len(v)} {k}" for k, v in urls.items())
            + f" (e.g. {urls['list'][:3]}, {urls['search'][:2]})"
        )
        moderator = Http(servers[1].port, timeout=15)
        check("moderator logs in on B", moderator.login("chief", PASSWORD).status == 302)
        ports = [server.port for server in servers]
        normal_traffic(ports, urls, moderator)
        database_restart(cluster, redis, ports, urls, moderator, outage=0)
        database_restart(cluster, redis, ports, urls, moderator, outage=3)
        redis_outage(redis, ports, urls, moderator, freeze=False)
        redis_outage(redis, ports, urls, moderator, freeze=True, outage=5)
        no_comment_lost(env)
    finally:
        for server in servers:
            server.stop()
        cluster.destroy()
        redis.stop()
    failed = [name for name, ok, _ in RESULTS if not ok]
    say(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed")
    for name in failed:
        say(f"failed: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
