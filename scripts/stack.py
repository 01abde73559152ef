"""Helpers for the scripted production checks (scripts/loadtest.py, scripts/faultcheck.py):
run manage.py and gunicorn with production settings, a throwaway PostgreSQL cluster, and a
small HTTP client that keeps cookies itself (the production cookies are Secure, which a
standard cookie jar would not send over plain http://127.0.0.1).

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PG_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/usr/bin")
)


def say(message: str) -> None:
    print(f"== {message}", flush=True)


def production_env(**overrides) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a real key, our host only."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    env.update(
        DJANGO_SETTINGS_MODULE="digestsite.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    for key in ("DATABASE_URL", "REDIS_URL", "VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def manage(*args: str, env: dict[str, str], check: bool = True, **kwargs):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 600),
        **kwargs,
    )


@dataclass
class Gunicorn:
    port: int
    env: dict[str, str]
    workers: int = 2
    process: subprocess.Popen | None = None
    log: Path | None = None

    def start(self) -> Gunicorn:
        self.log = Path(tempfile.mkstemp(prefix=f"gunicorn-{self.port}-", suffix=".log")[1])
        env = dict(self.env, WEB_CONCURRENCY=str(self.workers), GUNICORN_ACCESS_LOG="")
        self.process = subprocess.Popen(
            [GUNICORN, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if Http(self.port).get("/healthz").status == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn on {self.port} exited: {self.log.read_text()[-2000:]}"
                )
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn on {self.port} did not become healthy")

    def stop(self, *, keep_log: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log and not keep_log:
            self.log.unlink(missing_ok=True)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Http:
    """One browser-like client: cookies kept by name, CSRF token sent with forms."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 10

    def request(self, method: str, path: str, form: dict | None = None, headers=None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = dict(form)
            if "csrftoken" in self.cookies:
                form.setdefault("csrfmiddlewaretoken", self.cookies["csrftoken"])
            body = urllib.parse.urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            payload = raw.read().decode("utf-8", errors="replace")
            for header, value in raw.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if cookie_value in ("", '""'):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = cookie_value
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, payload)
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs) -> Response:
        if "csrftoken" not in self.cookies:
            self.get(path)
        return self.request("POST", path, form, **kwargs)

    def login(self, username: str, password: str) -> Response:
        self.get("/admin/login/")
        return self.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password, "next": "/admin/"},
        )


class PrivateCluster:
    """A throwaway PostgreSQL cluster under /tmp on its own port: restarting it disturbs no
    one else (the shared server is never touched)."""

    def __init__(self, port: int = 55439):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="digest-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str, check=True):
        command = [str(a) for a in args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PrivateCluster:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        self._ctl("start")
        return self

    def _ctl(self, action: str, *extra: str):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        return self._run(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.dir / "log",
            "-w",
            "-o",
            options,
            action,
            *extra,
        )

    def start_again(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def createdb(self, name: str) -> str:
        self._run(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", name)
        return self.url(name)

    def destroy(self) -> None:
        self._ctl("stop", "-m", "immediate") if (self.data / "postmaster.pid").exists() else None
        shutil.rmtree(self.dir, ignore_errors=True)


def demo_urls(port: int) -> list[str]:
    """The public pages of the demo: home, each digest and each paper page, and the CSS."""
    client = Http(port)
    home = client.get("/").body
    urls = ["/"]
    for digest in sorted(set(re.findall(r'href="(/digests/\d{4}-\d\d-\d\d/[^/"]+/)"', home))):
        urls.append(digest)
        page = client.get(digest).body
        urls += sorted(set(re.findall(rf'href="({re.escape(digest)}[^"#]+/)"', page)))
    css = re.search(r'href="(/static/css/[^"]+\.css)"', home)
    if css:
        urls.append(css.group(1))
    return urls
