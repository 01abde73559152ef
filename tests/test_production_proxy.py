"""nginx with deploy/nginx.conf in front of gunicorn (issue 22, item 4): slow clients wait in
nginx, not in a sync worker, and the forwarding headers the application trusts are the
proxy's. The same checks as `make proxycheck` (scripts/proxycheck.py), on a SQLite database.

Skipped only when nginx is not installed, never under CI (.ci/run installs it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from proxycheck import (  # noqa: E402
    SLOW_CLIENTS,
    WITHIN,
    forwarded_headers,
    proxy_env,
    stall_without_proxy,
    trickle_through_proxy,
)
from stack import (  # noqa: E402
    NGINX_CONF,
    Gunicorn,
    Http,
    Nginx,
    find_binary,
    free_port,
    manage,
    render_nginx_conf,
)

NGINX = find_binary("nginx")
if NGINX is None:
    if os.environ.get("CI"):
        pytest.fail("nginx is not installed (under CI it must be: .ci/run installs it)")
    pytestmark = pytest.mark.skip(reason="nginx is not installed (apt-get install nginx-light)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """gunicorn (2 sync workers, production settings) and nginx in front of it."""
    var = tmp_path_factory.mktemp("proxy")
    (var / "static").mkdir()
    env = proxy_env(
        DJANGO_SETTINGS_MODULE="tests.proxy_settings",
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        VAR_DIR=var,
        STATIC_ROOT=var / "static",
        REDIS_URL="",
    )
    manage("migrate", "--noinput", env=env)
    gunicorn = Gunicorn(free_port(), env, workers=2).start()
    try:
        nginx = Nginx(free_port(), gunicorn.port).start()
    except Exception:
        gunicorn.stop()
        raise
    yield gunicorn.port, nginx.port
    nginx.stop()
    gunicorn.stop()


def test_the_shipped_configuration_is_complete_and_only_its_addresses_change(tmp_path):
    shipped = NGINX_CONF.read_text()
    rendered = render_nginx_conf(shipped, port=8080, upstream=8001, directory=tmp_path)
    assert "listen 127.0.0.1:8080 default_server;" in rendered
    assert "server 127.0.0.1:8001;" in rendered
    changed = set(shipped.splitlines()) ^ set(rendered.splitlines())
    assert all(
        any(word in line for word in ("listen", "server 127", "pid", "_log", "temp_path"))
        for line in changed
    ), changed
    for directive in (
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ):
        assert directive in shipped, directive
    if os.geteuid() == 0:  # as shipped: /run and /var/log/nginx are root's
        test = subprocess.run([NGINX, "-t", "-c", str(NGINX_CONF)], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr


def test_without_the_proxy_slow_clients_stall_gunicorn(servers):
    """The control: these clients are slow enough to freeze gunicorn's sync workers."""
    direct, _proxy = servers
    seen = stall_without_proxy(direct)
    assert any(status == 0 for status, _took in seen["probes"]), seen["probes"]
    assert seen["recovered"][0][0] == 200  # and it serves again once they are gone


def test_healthz_answers_within_a_second_while_20_slow_clients_trickle_through_nginx(servers):
    _direct, proxy = servers
    seen = trickle_through_proxy(proxy)
    assert SLOW_CLIENTS == 20
    slow = [(status, round(took, 2)) for status, took in seen["probes"]]
    assert seen["ok"], f"/healthz while slow clients trickle: {slow}"
    assert len(slow) >= 20 and seen["slowest"] < WITHIN
    # nginx gave up on headers that took longer than client_header_timeout (10 s).
    assert seen["dropped"] >= SLOW_CLIENTS


def test_the_forwarding_headers_the_application_trusts_are_the_proxys(servers):
    direct, proxy = servers
    seen = forwarded_headers(direct, proxy)
    # gunicorn and Django do believe X-Forwarded-Proto from 127.0.0.1 (the proxy's address),
    # so nginx must overwrite a client's; and clear X-Forwarded-Ssl, which gunicorn also reads.
    assert seen["direct_https_hsts"] and not seen["proxy_https_hsts"]
    assert seen["proxy_ssl_status"] == 200 and not seen["proxy_ssl_hsts"]
    # TRUSTED_PROXY_COUNT=1 takes the last X-Forwarded-For entry, the one nginx appends: a
    # client naming another address in each of five failed logins still locks its own.
    assert seen["proxy_failures"] == [200, 200, 200, 200, 429]
    assert 429 not in seen["direct_failures"]
    too_big = Http(proxy).request("POST", "/comments/", headers={"Content-Length": "7340032"})
    assert too_big.status == 413
    assert Http(proxy).get("/").status == 200
