"""Fault and multi-server checks (docs/operations.md). Needs REDIS_URL; 127.0.0.1 only.

    REDIS_URL=redis://127.0.0.1:6379/N make faultcheck

It creates a throwaway PostgreSQL cluster under /tmp on its own port (so restarting it
disturbs nobody), loads the demo, starts two gunicorn instances on two ports sharing that
database and the Redis cache, and checks:

1. sessions are shared: a login on one instance is valid on the other;
2. publishing changes show at once on the other instance (unpublish, publish);
3. cached data is invalidated for both (site settings edited on one, seen on the other);
4. admin login lockout is shared: failures spread over both instances lock the account;
5. hostile raw HTTP (over-long request line and headers) gets 4xx from gunicorn;
6. an import killed with SIGKILL half-way leaves its empty database empty, and can rerun;
7. a database restart under load: errors only while it is down, /healthz says 503 then,
   and the site recovers by itself.

The Redis database in REDIS_URL is flushed first: give it one that nothing else uses.
"""

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import (  # noqa: E402
    PYTHON,
    ROOT,
    Gunicorn,
    Http,
    PrivateCluster,
    demo_urls,
    manage,
    production_env,
    say,
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


def _comment_form(http: Http, url: str) -> dict[str, str]:
    page = http.get(url).body
    fields = {}
    for name in ("target", "stamp"):
        match = re.search(rf'name="{name}" value="([^"]+)"', page)
        fields[name] = match.group(1) if match else ""
    return fields


def comments_across_servers(env, on_a: Http, a: Gunicorn, b: Gunicorn) -> None:
    """A comment posted through B, approved in A's admin, shows on B at once; the comment
    rate limit (1 per 15 s per address) counts posts made through either server (Redis)."""
    _digest_id, url = first_digest(env)
    reader_b = Http(b.port)
    form = _comment_form(reader_b, url)
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
    form = _comment_form(reader_a, url)
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
    "import json; from papers import backup; print(json.dumps({m._meta.label_lower: "
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


def restart_under_load(
    cluster: PrivateCluster, servers: list[Gunicorn], *, outage: float, seconds: float = 18
) -> None:
    """8 client threads over both servers; the database goes away for ``outage`` seconds
    (0: a plain ``pg_ctl restart -m fast``) a third of the way through."""
    urls = [u for u in demo_urls(servers[0].port) if not u.startswith("/static/")]
    stop = threading.Event()
    log: list[tuple[float, int]] = []  # (time, status or 0 for a socket error)
    health: list[tuple[float, int]] = []

    def worker(index: int) -> None:
        client = Http(servers[index % len(servers)].port, timeout=15)
        n = index
        while not stop.is_set():
            n += 1
            try:
                status = client.get(urls[n % len(urls)]).status
            except OSError:
                status = 0
            log.append((time.monotonic(), status))

    def prober() -> None:
        client = Http(servers[0].port, timeout=5)
        while not stop.is_set():
            try:
                status = client.get("/healthz").status
            except OSError:
                status = 0
            health.append((time.monotonic(), status))
            time.sleep(0.1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=prober))
    start = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    down_at = time.monotonic()
    if outage:
        say(f"stopping PostgreSQL for {outage:.0f}s under load")
        cluster.stop()
        time.sleep(outage)
        cluster.start_again()
    else:
        say("pg_ctl restart -m fast under load")
        cluster.restart()
    up_at = time.monotonic()
    time.sleep(seconds * 2 / 3)
    stop.set()
    for thread in threads:
        thread.join()

    errors = [(t, s) for t, s in log if s != 200]
    first_error = min((t for t, _ in errors), default=None)
    last_error = max((t for t, _ in errors), default=None)
    before = [s for t, s in log if t < down_at]
    after = [s for t, s in log if t > up_at + 1]
    health_down = [s for t, s in health if down_at + 0.3 < t < up_at - 0.3]
    recovered = next((t for t, s in health if t > up_at and s == 200), None)
    label = f"{outage:.0f}s outage" if outage else "fast restart"
    detail = (
        f"{len(log)} requests in {time.monotonic() - start:.0f}s; database down "
        f"{up_at - down_at:.2f}s; non-200 {len(errors)} {dict(Counter(s for _, s in errors))}"
        + (f" from +{first_error - down_at:.2f}s to +{last_error - down_at:.2f}s" if errors else "")
        + f"; /healthz while down {dict(Counter(health_down))};"
        + (f" /healthz 200 again {recovered - up_at:.2f}s after" if recovered else "")
    )
    say(f"{label}: {detail}")
    check(f"{label}: no errors before", all(s == 200 for s in before))
    check(
        f"{label}: errors only while the database was down, each a 503 (none a 500)",
        not errors
        or (
            first_error >= down_at - 0.5
            and last_error <= up_at + 1.0
            and {s for _, s in errors} == {503}
        ),
        detail,
    )
    if health_down:
        check(f"{label}: /healthz answered 503 while down", set(health_down) == {503})
    check(
        f"{label}: recovered by itself (every request after the restart succeeded)",
        bool(after) and all(s == 200 for s in after),
        f"{len(after)} requests after",
    )
    check(
        f"{label}: /healthz is 200 again within 2 s",
        recovered is not None and recovered - up_at < 2,
    )


def main() -> int:
    env = production_env()
    if not env.get("REDIS_URL"):
        sys.exit("error: set REDIS_URL to a Redis database nothing else uses (it is flushed)")
    subprocess.run(
        ["redis-cli", "-u", env["REDIS_URL"], "flushdb"], check=False, capture_output=True
    )
    cluster = PrivateCluster().start()
    workdir = cluster.dir
    servers: list[Gunicorn] = []
    try:
        say(f"private PostgreSQL cluster in {cluster.dir} on port {cluster.port}")
        env = dict(
            env,
            DATABASE_URL=cluster.createdb("digest"),
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
        restart_under_load(cluster, servers, outage=0)
        restart_under_load(cluster, servers, outage=3)
    finally:
        for server in servers:
            server.stop()
        cluster.destroy()
    failed = [name for name, ok, _ in RESULTS if not ok]
    say(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
