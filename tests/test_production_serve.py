"""Smoke form of the scripted checks (docs/operations.md): gunicorn starts with the
repository's gunicorn.conf.py and production settings, serves the health check with the
security headers, and refuses over-long request lines and headers before Django."""

import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from stack import Gunicorn, Http, manage, production_env  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    var = tmp_path_factory.mktemp("serve")
    (var / "static").mkdir()
    env = production_env(DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}", VAR_DIR=var, REDIS_URL="")
    manage("migrate", "--noinput", env=env)  # error pages read the site settings
    server = Gunicorn(_free_port(), env, workers=1).start()
    yield server
    server.stop()


def _raw(port: int, payload: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        deadline = time.monotonic() + 10
        data = b""
        while b"\r\n" not in data and time.monotonic() < deadline:
            chunk = sock.recv(200)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1").split("\r\n", 1)[0]


def test_gunicorn_serves_the_health_check_with_security_headers(gunicorn):
    response = Http(gunicorn.port).get("/healthz")
    assert response.status == 200
    assert '"database": "ok"' in response.body
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_gunicorn_refuses_an_over_long_request_line(gunicorn):
    line = _raw(gunicorn.port, b"GET /" + b"a" * 6000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert line.startswith("HTTP/1.1 414")


def test_gunicorn_refuses_an_over_long_header(gunicorn):
    payload = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n"
    assert _raw(gunicorn.port, payload).startswith("HTTP/1.1 431")


def test_gunicorn_and_django_log_one_json_object_per_line(gunicorn):
    import json

    response = Http(gunicorn.port).get("/", headers={"Host": "evil.example.com"})
    assert response.status == 400
    assert "Bad request" in response.body
    time.sleep(0.3)
    lines = [line for line in gunicorn.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any(r["logger"] == "gunicorn.error" for r in records)
    assert any(r["logger"] == "django.security.DisallowedHost" for r in records)
