"""nginx in front of gunicorn (deploy/nginx.conf) holds slow clients (docs/operations.md).

    make proxycheck          # = .venv/bin/python scripts/proxycheck.py

Starts the production stack on 127.0.0.1 only: a throwaway SQLite database, collectstatic,
gunicorn with gunicorn.conf.py (2 sync workers) and nginx with deploy/nginx.conf in front
(only its addresses and file paths changed: scripts/stack.py, ``render_nginx_conf``). Then:

1. without the proxy: 20 clients trickling their headers (one line a second) straight to
   gunicorn stall it (/healthz gets no answer within 3 s): the clients are really slow;
2. through nginx: the same 20 clients, plus 4 sending a POST body a few bytes at a time,
   while /healthz is asked 4 times a second: every answer 200 within 1 s;
3. nginx cuts a client that has not sent its whole header within 10 s (client_header_timeout);
4. the headers the application trusts are the proxy's: a client's X-Forwarded-Proto: https or
   X-Forwarded-Ssl: on through nginx is not believed (no HSTS header, no 400 from gunicorn),
   and five failed logins from one client, each claiming another address in
   X-Forwarded-For, lock that client's address (TRUSTED_PROXY_COUNT=1 takes the address
   nginx appends), where straight to gunicorn the claimed addresses would have been taken;
5. a body over client_max_body_size is refused by nginx (413); pages and the static files
   (whitenoise's, with their far-future caching) pass through.

nginx is Debian's package (`nginx-light` is enough); run as root, the check installs it.
`make faultcheck` runs the same checks against its servers (scripts/faultcheck.py).
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import (  # noqa: E402
    Gunicorn,
    Http,
    Nginx,
    SlowClients,
    free_port,
    manage,
    probe,
    production_env,
    say,
)

SLOW_CLIENTS = 20
WITHIN = 1.0  # seconds /healthz may take while they trickle


def proxy_env(**overrides) -> dict[str, str]:
    """Production settings as behind deploy/nginx.conf: one proxy appends to X-Forwarded-For,
    and X-Forwarded-Proto is trusted (so a client's forged one must never get through)."""
    return production_env(TRUSTED_PROXY_COUNT="1", SECURE_PROXY_SSL_HEADER="1", **overrides)


def stall_without_proxy(direct: int, *, count: int = SLOW_CLIENTS) -> dict:
    """Slow clients straight to gunicorn; /healthz probed with a 3 s timeout."""
    with SlowClients(direct, count, interval=1.0) as slow:
        probes = probe(direct, seconds=4, every=1, timeout=3)
    # The workers are freed as the slow connections close; wait for them before going on.
    recovered = probe(direct, seconds=0.1, timeout=15)
    return {"probes": probes, "opened": slow.opened, "recovered": recovered}


def trickle_through_proxy(
    proxy: int, *, count: int = SLOW_CLIENTS, seconds: float = 12, bodies: int = 4
) -> dict:
    """``count`` header tricklers and ``bodies`` body tricklers through nginx for ``seconds``
    (past its 10 s client_header_timeout), /healthz probed 4 times a second meanwhile."""
    with (
        SlowClients(proxy, count, interval=1.0) as slow,
        SlowClients(proxy, bodies, interval=1.0, body=True) as slow_bodies,
    ):
        probes = probe(proxy, seconds=seconds, every=0.25, timeout=5)
    return {
        "probes": probes,
        "ok": all(status == 200 and took < WITHIN for status, took in probes),
        "slowest": max(took for _, took in probes),
        "opened": slow.opened,
        "dropped": slow.dropped,
        "body_opened": slow_bodies.opened,
    }


def forwarded_headers(direct: int, proxy: int) -> dict:
    """What the application believes about scheme and client address, through nginx and
    straight to gunicorn, from clients that forge the forwarding headers."""
    https = {"X-Forwarded-Proto": "https"}
    seen = {
        "direct_https_hsts": "strict-transport-security"
        in Http(direct).get("/healthz", headers=https).headers,
        "proxy_https_hsts": "strict-transport-security"
        in Http(proxy).get("/healthz", headers=https).headers,
    }
    ssl = Http(proxy).get("/healthz", headers={"X-Forwarded-Ssl": "on"})
    seen["proxy_ssl_status"] = ssl.status
    seen["proxy_ssl_hsts"] = "strict-transport-security" in ssl.headers
    stamp = int(time.time() * 1000) % 10**9

    def failures(port: int, label: str) -> list[int]:
        return [
            Http(port)
            .login(
                f"nobody-{label}-{stamp}-{n}",
                "wrong-password",
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            .status
            for n in range(5)
        ]

    seen["direct_failures"] = failures(direct, "direct")
    seen["proxy_failures"] = failures(proxy, "proxy")
    return seen


def run_checks(check, direct: int, proxy: int) -> None:
    """Every check above, reported through ``check(name, ok, detail)``. Leaves 127.0.0.1
    locked out of the admin login (axes): the caller resets it."""
    say(f"{SLOW_CLIENTS} slow clients straight to gunicorn on {direct} (the control)")
    control = stall_without_proxy(direct)
    stalled = [took for status, took in control["probes"] if status == 0]
    check(
        f"without the proxy, {SLOW_CLIENTS} slow clients stall gunicorn",
        len(stalled) >= 1,
        f"/healthz {[(s, round(t, 2)) for s, t in control['probes']]} (0: no answer in 3 s)",
    )
    say(f"{SLOW_CLIENTS} slow clients and 4 slow bodies through nginx on {proxy}")
    through = trickle_through_proxy(proxy)
    check(
        f"through nginx, /healthz answers 200 within {WITHIN:.0f} s while {SLOW_CLIENTS} "
        "clients trickle headers and 4 trickle bodies",
        through["ok"],
        f"{len(through['probes'])} probes, slowest {through['slowest'] * 1000:.0f} ms, "
        f"statuses {sorted({s for s, _ in through['probes']})}",
    )
    check(
        "nginx drops a client whose header is not complete after 10 s (client_header_timeout)",
        through["dropped"] >= SLOW_CLIENTS,
        f"{through['opened']} slow connections opened, {through['dropped']} dropped by nginx",
    )
    seen = forwarded_headers(direct, proxy)
    check(
        "a client's X-Forwarded-Proto: https is not believed through nginx (no HSTS)",
        seen["direct_https_hsts"] and not seen["proxy_https_hsts"],
        f"straight to gunicorn HSTS {seen['direct_https_hsts']}, "
        f"through nginx {seen['proxy_https_hsts']}",
    )
    check(
        "a client's X-Forwarded-Ssl: on is cleared by nginx (200, no HSTS)",
        seen["proxy_ssl_status"] == 200 and not seen["proxy_ssl_hsts"],
        f"status {seen['proxy_ssl_status']}",
    )
    check(
        "X-Forwarded-For: failed logins claiming other addresses lock the client's own "
        "address through nginx (5th is 429), not straight to gunicorn",
        seen["proxy_failures"][-1] == 429 and 429 not in seen["direct_failures"],
        f"through nginx {seen['proxy_failures']}, straight {seen['direct_failures']}",
    )
    big = Http(proxy).request(
        "POST", "/comments/", None, headers={"Content-Length": str(7 * 1024 * 1024)}
    )
    check("a body over 6 MB is refused by nginx (413)", big.status == 413, f"{big.status}")


def pages_and_static(check, proxy: int) -> None:
    home = Http(proxy).get("/")
    css = re.search(r'href="(/static/css/[^"]+\.css)"', home.body)
    style = Http(proxy).get(css.group(1)) if css else None
    check(
        "pages and static files pass through nginx (whitenoise's caching kept)",
        home.status == 200
        and style is not None
        and style.status == 200
        and "immutable" in style.headers.get("cache-control", ""),
        f"home {home.status}, stylesheet {style.status if style else 'not linked'}, "
        f"{style.headers.get('cache-control') if style else ''}",
    )


RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok, detail))
    say(f"{'PASS' if ok else 'FAIL'}: {name}{' — ' + detail if detail else ''}")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="digest-proxycheck-"))
    env = proxy_env(
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        VAR_DIR=work,
        STATIC_ROOT=work / "static",
        MEDIA_ROOT=work / "media",
        REDIS_URL="",
    )
    server = proxy = None
    try:
        say("migrate, collectstatic")
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", env=env)
        server = Gunicorn(free_port(), env, workers=2).start()
        proxy = Nginx(free_port(), server.port).start()
        say(f"gunicorn (2 sync workers) on {server.port}, nginx on {proxy.port}")
        pages_and_static(check, proxy.port)
        run_checks(check, server.port, proxy.port)
    finally:
        if proxy:
            proxy.stop()
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, ok, _ in RESULTS if not ok]
    say(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
