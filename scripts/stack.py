"""Helpers for the scripted production checks (scripts/loadtest.py, scripts/faultcheck.py,
scripts/proxycheck.py) and the tests that start real servers: run manage.py and gunicorn with
production settings; a throwaway PostgreSQL cluster and a private redis-server, both of which
a check may stop; nginx with deploy/nginx.conf; clients that trickle a request; a small HTTP
client that keeps cookies itself (the production cookies are Secure, which a standard cookie
jar would not send over plain http://127.0.0.1); and mixed reader traffic (pages, lists,
search, feeds, comment posts, a moderator) that records every answer.

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
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


def quote_path(path: str) -> str:
    """``path`` as sent on the wire: non-ASCII characters (Chinese tags, searches)
    percent-encoded, everything already encoded left alone."""
    return urllib.parse.quote(path, safe="/?=&%:;,+#@!$'()*[]~")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_binary(name: str, package: str | None = None) -> str | None:
    """``name`` on PATH or in /usr/sbin; else, running as root on Debian with ``package``
    given, installed from Debian's packages first (as .ci/run does). None when absent."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if found or not package or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    say(f"installing Debian's {package}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", package]
    if subprocess.run(install, env=env, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)
    return shutil.which(name, path=search)


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


COMMENT_PREFIX = "Load-check comment"  # what the traffic's commenters write first


def stop_process(process, *, timeout: float) -> None:
    """SIGTERM (gunicorn's graceful, nginx's fast shutdown), then SIGKILL after ``timeout``."""
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stored_comments(env: dict[str, str]) -> set[str]:
    """The bodies of the traffic's comments that the database holds."""
    stored = manage(
        "shell",
        "-c",
        "import json; from comments.models import Comment; print(json.dumps(list("
        f"Comment.objects.filter(body__startswith={COMMENT_PREFIX!r})"
        ".values_list('body', flat=True))))",
        env=env,
    )
    return set(json.loads(stored.stdout.strip().splitlines()[-1]))


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
        stop_process(self.process, timeout=30)
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
        path = quote_path(path)
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

    def comment_form(self, url: str) -> dict[str, str] | None:
        """The hidden fields of the comment form on ``url`` (its target and signed stamp);
        None when the page did not answer 200 or has no form."""
        page = self.get(url)
        if page.status != 200:
            return None
        fields = {}
        for name in ("target", "stamp"):
            match = re.search(rf'name="{name}" value="([^"]+)"', page.body)
            if not match:
                return None
            fields[name] = match.group(1)
        return fields

    def login(self, username: str, password: str, headers=None) -> Response:
        self.get("/admin/login/", headers=headers)
        return self.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password, "next": "/admin/"},
            headers=headers,
        )


class PrivateCluster:
    """A throwaway PostgreSQL cluster under /tmp on its own port: restarting it disturbs no
    one else (the shared server is never touched)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()  # a fixed one may be some client's ephemeral port
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


def _links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(rf'href="({pattern})"', html.replace("&amp;", "&"))))


def site_urls(port: int) -> dict[str, list[str]]:
    """The readers' URLs of the site on ``port``, by kind: ``page`` (home, digests, papers),
    ``list`` (paper lists, tag, category, affiliation, month and section pages, the indexes),
    ``search`` (searches and comparisons, which the page cache never stores, and filtered
    lists), ``feed``
    (feeds, sitemaps, the API) and ``static``. Found by following the home page's links."""
    client = Http(port)
    pages = demo_urls(port)
    static = [u for u in pages if u.startswith("/static/")]
    pages = [u for u in pages if not u.startswith("/static/")]
    html = "".join(client.get(u).body for u in pages[:3]) + client.get("/papers/").body
    lists = ["/papers/", "/tags/", "/categories/", "/archive/", "/sections/limitations/"]
    for kind in ("tags", "categories", "affiliations"):
        lists += _links(html, rf"/{kind}/[^\"?#]+/")[:4]
    lists += _links(html, r"/archive/\d{4}/\d{1,2}/")[:2]
    if "?page=2" in client.get("/papers/").body:
        lists.append("/papers/?page=2")
    entry_ids = re.findall(r'name="e" value="(\d+)"', client.get("/papers/").body)
    search = [
        "/search/?q=推理",
        "/search/?q=transformer",
        "/search/?q=强化学习",
        "/search/?q=reasoning+distillation",
        "/papers/?q=学习&sort=views",
        "/papers/?category=LG&date_from=2025-01-01",
    ]
    if len(entry_ids) >= 2:
        search.append(f"/compare/?e={entry_ids[0]}&e={entry_ids[1]}")
    feeds = ["/feeds/atom/", "/feeds/rss/", "/sitemap.xml", "/api/v1/entries/", "/api/v1/digests/"]
    return {
        "page": pages,
        "list": list(dict.fromkeys(lists)),
        "search": search,
        "feed": feeds,
        "static": static,
    }


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


class PrivateRedis:
    """A redis-server of the check's own (no persistence, 127.0.0.1, its own port), which
    the check may kill, freeze and start again on the same port; never the system's Redis."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="digest-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=1)

    def start(self) -> PrivateRedis:
        import redis

        binary = find_binary("redis-server", "redis-server")
        if binary is None:
            raise RuntimeError("redis-server is needed (Debian: apt-get install redis-server)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.dir)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return self
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {command}") from None
                time.sleep(0.05)

    def flush(self) -> None:
        self.client().flushall()

    def kill(self) -> None:
        """A crash, not a shutdown: SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)

    def freeze(self) -> None:
        """Hung, not gone: connections open, nothing answers (SIGSTOP)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- nginx in front (deploy/nginx.conf) --------------------------------------------------------

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
# What a check changes in deploy/nginx.conf: its addresses and file paths, nothing else. Each
# line must be there exactly once, so the shipped file and the checks cannot drift apart.
_NGINX_ADDRESSES = {
    "listen 80 default_server;": "listen 127.0.0.1:{port} default_server;",
    "server 127.0.0.1:8000;": "server 127.0.0.1:{upstream};",
    "pid /run/nginx.pid;": "pid {dir}/nginx.pid;",
    "error_log /var/log/nginx/error.log warn;": "error_log {dir}/error.log warn;",
    "access_log /var/log/nginx/digest-access.log digest;": "access_log {dir}/access.log digest;",
}
_NGINX_TEMP_PATHS = "".join(
    f"    {kind}_temp_path {{dir}}/{kind};\n"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
)


def render_nginx_conf(text: str, *, port: int, upstream: int, directory: Path) -> str:
    """deploy/nginx.conf listening on 127.0.0.1:``port`` in front of gunicorn on
    ``upstream``, its pid, logs and temporary files under ``directory`` (so that it runs
    beside any other nginx, and without root)."""
    values = {"port": port, "upstream": upstream, "dir": directory}
    for line, replacement in _NGINX_ADDRESSES.items():
        if text.count(line) != 1:
            raise ValueError(f"deploy/nginx.conf must hold {line!r} exactly once")
        text = text.replace(line, replacement.format(**values))
    if text.count("\nhttp {\n") != 1:
        raise ValueError("deploy/nginx.conf must have one http block")
    return text.replace("\nhttp {\n", "\nhttp {\n" + _NGINX_TEMP_PATHS.format(**values), 1)


@dataclass
class Nginx:
    """nginx with deploy/nginx.conf on 127.0.0.1:``port``, in front of gunicorn on
    ``upstream``."""

    port: int
    upstream: int
    process: subprocess.Popen | None = None
    dir: Path | None = None

    def start(self) -> Nginx:
        binary = find_binary("nginx", "nginx-light")
        if binary is None:
            raise RuntimeError("nginx is needed (Debian: apt-get install nginx-light)")
        self.dir = Path(tempfile.mkdtemp(prefix="digest-nginx-"))
        self.dir.chmod(0o755)  # as root, nginx's workers run as www-data and write here
        conf = self.dir / "nginx.conf"
        conf.write_text(
            render_nginx_conf(
                NGINX_CONF.read_text(), port=self.port, upstream=self.upstream, directory=self.dir
            )
        )
        base = [binary, "-p", f"{self.dir}/", "-e", str(self.dir / "error.log"), "-c", str(conf)]
        test = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True)
        if test.returncode:
            raise RuntimeError(f"nginx -t refused the configuration: {test.stderr.strip()}")
        self.process = subprocess.Popen(
            [*base, "-g", "daemon off;"],
            stdout=(self.dir / "stdout.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"nginx exited: {self.error_log()}") from None
                time.sleep(0.1)
        raise RuntimeError("nginx did not start listening")

    def error_log(self) -> str:
        log = self.dir / "error.log" if self.dir else None
        return log.read_text()[-2000:] if log and log.exists() else ""

    def stop(self) -> None:
        stop_process(self.process, timeout=15)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class SlowClients:
    """``count`` connections that each send a request one header line every ``interval``
    seconds and never finish it (the slow-loris pattern of issue 22); or, with ``body``, send
    whole headers of a POST and then its body a few bytes at a time. A connection the server
    drops is opened again at once, as an attacker would. Use as a context manager."""

    def __init__(self, port: int, count: int = 20, interval: float = 1.0, body: bool = False):
        self.port, self.count, self.interval, self.body = port, count, interval, body
        self.opened = self.dropped = self.lines = 0
        self._sockets: list[socket.socket | None] = [None] * count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowClients:
        self._thread.start()
        time.sleep(min(self.interval, 0.5))  # every connection is open and has begun
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self._sockets:
            if sock is not None:
                sock.close()

    def _open(self, index: int) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            return None
        self.opened += 1
        if self.body:
            head = (
                f"POST /comments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-{index}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            )
        else:
            head = f"GET /?slow={index} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        try:
            sock.sendall(head.encode())
        except OSError:
            sock.close()
            return None
        return sock

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            tick += 1
            for index, sock in enumerate(self._sockets):
                if sock is not None:
                    readable, _, _ = select.select([sock], [], [], 0)
                    closed = False
                    if readable:  # an answer (408, 400...) or the end: the server let go
                        try:
                            closed = True
                            sock.recv(4096)
                        except OSError:
                            pass
                    if not closed:
                        line = b"a=b&" * 2 if self.body else b"X-Trickle-%d: %d\r\n" % (tick, tick)
                        try:
                            sock.sendall(line)
                            self.lines += 1
                        except OSError:
                            closed = True
                    if closed:
                        self.dropped += 1
                        sock.close()
                        sock = None
                if sock is None:
                    sock = self._open(index)
                self._sockets[index] = sock
            self._stop.wait(self.interval)


def probe(
    port: int, path: str = "/healthz", *, seconds: float, every: float = 0.25, timeout: float = 5
) -> list[tuple[int, float]]:
    """GET ``path`` on ``port`` every ``every`` seconds for ``seconds``: (status or 0 for no
    answer within ``timeout``, seconds taken) each."""
    results = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            status = Http(port, timeout=timeout).get(path).status
        except OSError:
            status = 0
        results.append((status, time.monotonic() - started))
        time.sleep(max(0.0, every - (time.monotonic() - started)))
    return results


# --- mixed traffic ----------------------------------------------------------------------------

READ_KINDS = ("page", "list", "search", "feed")
_ADDRESSES = itertools.count()
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@dataclass
class Hit:
    """One request of the traffic: what, when (monotonic), and its answer."""

    kind: str  # page, list, search, feed, static, comment, admin
    url: str
    started: float
    ended: float
    status: int  # 0: no answer (socket error or timeout)
    retry_after: str | None = None
    cache: str | None = None  # X-Page-Cache: hit, miss, bypass

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class Traffic:
    """Readers, commenters and a moderator at once, over the gunicorn instances on ``ports``.

    ``readers`` threads each request the URLs of ``urls`` (site_urls' kinds, in turn, so every
    kind gets the same share). ``posters`` threads each load a page's comment form, wait out
    its minimum fill time and post a comment, each with an address of its own in
    X-Forwarded-For (the servers run with TRUSTED_PROXY_COUNT=1, as behind nginx: readers at
    many addresses, so the per-address limit does not refuse them). With ``moderator`` (a
    logged-in client of a superuser), waiting comments are approved every few seconds, so
    published pages change and the page cache renders them again under load. Every answer
    is a Hit in ``hits``; ``posted`` holds the body of every comment answered "stored" (303
    to its anchor), ``dropped`` every one answered as a bot's is (303, nothing stored)."""

    def __init__(
        self,
        ports: list[int],
        urls: dict[str, list[str]],
        *,
        readers: int = 8,
        posters: int = 2,
        moderator: Http | None = None,
        timeout: float = 15,
    ):
        kinds = [k for k in (*READ_KINDS, "static") if urls.get(k)]
        longest = max(len(urls[k]) for k in kinds)
        self.sequence = [(k, urls[k][i % len(urls[k])]) for i in range(longest) for k in kinds]
        self.comment_pages = [u for u in urls["page"] if u.startswith("/digests/")]
        self.ports, self.readers, self.posters = ports, readers, posters
        self.moderator, self.timeout = moderator, timeout
        self.hits: list[Hit] = []
        self.posted: list[str] = []
        self.dropped: list[tuple[float, str, str, str]] = []  # (time, page, stamp, body)
        self.approved = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        for index in range(self.readers):
            self._threads.append(threading.Thread(target=self._read, args=(index,)))
        for index in range(self.posters if self.comment_pages else 0):
            self._threads.append(threading.Thread(target=self._post, args=(index,)))
        if self.moderator is not None:
            self._threads.append(threading.Thread(target=self._moderate))
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 10)

    def _request(self, client: Http, kind: str, url: str, method="GET", form=None, headers=None):
        started = time.monotonic()
        try:
            response = client.request(method, url, form, headers=headers)
        except OSError:
            self.hits.append(Hit(kind, url, started, time.monotonic(), 0))
            return None
        self.hits.append(
            Hit(
                kind,
                url,
                started,
                time.monotonic(),
                response.status,
                response.headers.get("retry-after"),
                response.headers.get("x-page-cache"),
            )
        )
        return response

    def _read(self, index: int) -> None:
        port = self.ports[index % len(self.ports)]
        step = index * 7
        while not self._stop.is_set():
            kind, url = self.sequence[step % len(self.sequence)]
            step += 1
            self._request(Http(port, timeout=self.timeout), kind, url)  # a new reader each time

    def _post(self, index: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            port = self.ports[(index + n) % len(self.ports)]
            client = Http(port, timeout=self.timeout)
            url = self.comment_pages[(index + n) % len(self.comment_pages)]
            form = None
            try:
                form = client.comment_form(url)
            except OSError:
                pass
            if form is None:
                self._stop.wait(0.5)
                continue
            # The minimum fill time, counted from the end of the answer: its stamp was made
            # while it was rendered, which under load may be long after the request left.
            self._stop.wait(3.2)
            if self._stop.is_set():
                return
            body = f"{COMMENT_PREFIX} {index}-{n} at {time.time():.3f}"
            fields = {**form, "website": "", "name": f"Reader {index}", "email": "", "body": body}
            k = next(_ADDRESSES)  # each post from an address of its own, in every run
            address = f"10.{k // 62500 % 250 + 1}.{k // 250 % 250}.{k % 250 + 1}"
            headers = {"X-Forwarded-For": address, "User-Agent": BROWSER}
            answer = self._request(client, "comment", "/comments/", "POST", fields, headers)
            if answer is not None and answer.status == 303:
                # Stored: back to the comment's anchor. A submission taken for a bot's (no
                # valid stamp, too fast, honeypot) is answered alike, but to "#comments".
                if "#comment-" in answer.headers.get("location", ""):
                    self.posted.append(body)
                else:
                    self.dropped.append((time.monotonic(), url, form["stamp"], body))

    def _moderate(self) -> None:
        client = self.moderator
        while not self._stop.wait(4):
            listing = self._request(
                client, "admin", "/admin/comments/comment/?status__exact=pending"
            )
            if listing is None or listing.status != 200:
                continue
            ids = re.findall(r'name="_selected_action" value="(\d+)"', listing.body)[:20]
            if ids:
                form = {"action": "approve_selected", "_selected_action": ids}
                done = self._request(client, "admin", "/admin/comments/comment/", "POST", form)
                if done is not None and done.status == 302:
                    self.approved += len(ids)


# What a request of each kind answers when all is well.
FINE = {"comment": {303}, "admin": {200, 302}}
NEEDS_DATABASE = (*READ_KINDS, "comment", "admin")


def fine(hit: Hit) -> bool:
    return hit.status in FINE.get(hit.kind, {200})


def statuses(hits: list[Hit]) -> dict:
    """{kind: {status (with "+RA" when Retry-After was sent): count}}."""
    table: dict[str, Counter] = {}
    for hit in hits:
        label = f"{hit.status}+RA" if hit.retry_after else str(hit.status)
        table.setdefault(hit.kind, Counter())[label] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(table.items())}


class Health:
    """/healthz on ``port`` every 100 ms, a probe not waiting for the one before (at most 8
    at once: a slow server still gets probes sent while it is slow): (sent, answered,
    status, its "cache" field) each."""

    def __init__(self, port: int):
        self.port, self.seen = port, []
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(8)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._probes: list[threading.Thread] = []

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        for probe_thread in self._probes:
            probe_thread.join()

    def _run(self):
        while not self._stop.wait(0.1):
            if self._slots.acquire(blocking=False):
                probe_thread = threading.Thread(target=self._probe, daemon=True)
                self._probes.append(probe_thread)
                probe_thread.start()

    def _probe(self):
        sent = time.monotonic()
        try:
            answer = Http(self.port, timeout=10).get("/healthz")
            cache = json.loads(answer.body).get("cache") if answer.body.startswith("{") else ""
            self.seen.append((sent, time.monotonic(), answer.status, cache))
        except (OSError, ValueError):
            self.seen.append((sent, time.monotonic(), 0, ""))
        finally:
            self._slots.release()

    def between(self, start: float, end: float) -> list[tuple[int, str]]:
        """(status, cache) of the probes sent after ``start`` and answered before ``end``."""
        return [(s, c) for sent, done, s, c in self.seen if start < sent and done < end]

    def first_after(self, start: float, status: int, cache: str | None = None):
        """Seconds from ``start`` to the answer of the first probe sent after it with
        ``status`` (and ``cache``); None if none."""
        return next(
            (
                done - start
                for sent, done, s, c in self.seen
                if sent > start and s == status and (cache is None or c == cache)
            ),
            None,
        )


def under_traffic(ports, urls, moderator, fault, *, seconds: float = 15):
    """Traffic over the servers on ``ports`` and /healthz probes of the first; ``fault()``
    a third of the way in, returning its marks ({"down": t, "up": t, ...}). Returns
    (traffic, health, marks)."""
    with Traffic(list(ports), urls, moderator=moderator) as traffic:
        with Health(ports[0]) as health:
            started = time.monotonic()
            time.sleep(seconds / 3)
            marks = fault() if fault else {}
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    marks["start"], marks["end"] = started, time.monotonic()
    return traffic, health, marks


def between(hits: list[Hit], start: float, end: float) -> list[Hit]:
    """The requests made wholly within [start, end]."""
    return [h for h in hits if h.started >= start and h.ended <= end]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(hits: list[Hit], seconds: float | None = None) -> str:
    """One line: requests, rate, statuses, latency; then one per kind."""
    if not hits:
        return "no requests"
    seconds = seconds or (max(h.ended for h in hits) - min(h.started for h in hits)) or 1
    times = [h.seconds * 1000 for h in hits]
    lines = [
        f"{len(hits)} requests, {len(hits) / seconds:.1f}/s, statuses "
        f"{dict(sorted(Counter(h.status for h in hits).items()))}, p50 "
        f"{statistics.median(times):.0f} ms, p90 {percentile(times, 0.9):.0f} ms, p99 "
        f"{percentile(times, 0.99):.0f} ms, max {max(times):.0f} ms"
    ]
    for kind in sorted({h.kind for h in hits}):
        mine = [h for h in hits if h.kind == kind]
        ms = [h.seconds * 1000 for h in mine]
        lines.append(
            f"    {kind}: {len(mine)}, {dict(sorted(Counter(h.status for h in mine).items()))}, "
            f"p50 {statistics.median(ms):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms"
        )
    return "\n".join(lines)
