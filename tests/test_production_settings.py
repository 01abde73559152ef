"""Production behaviour a reader, an attacker or a load balancer notices: the security headers
and Content-Security-Policy, the error pages, the health check, admin login lockout and
unlock, the client address behind proxies, and logs as JSON lines."""

import json
import logging
import re
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from digestsite.client_ip import client_ip
from digestsite.logformat import JsonFormatter
from tests import factories
from tests.login_support import admin_login

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_public_pages_carry_a_policy_without_inline_scripts_or_styles(client):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    for url in ("/", digest.get_absolute_url(), entry.get_absolute_url(), "/no-such-page/"):
        response = client.get(url)
        policy = _csp(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_public_templates_have_no_inline_script_or_style_attribute(client):
    digest = factories.digest(entries=2)
    for url in ("/", digest.get_absolute_url(), digest.entries.first().get_absolute_url()):
        html = client.get(url).content.decode()
        # Scripts are files; the one inline element is JSON-LD, data no browser executes.
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert set(inline) <= {'<script type="application/ld+json">'}, url
        assert " style=" not in html and "<style" not in html, url


def test_admin_pages_render_under_the_same_policy(admin_client):
    digest = factories.digest(entries=1)
    for url in (
        reverse("admin:papers_digest_changelist"),
        reverse("admin:papers_digest_change", args=[digest.pk]),
        reverse("admin:papers_digest_add"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        html = response.content.decode()
        # Everything the admin runs comes from files: no inline script body anywhere.
        assert "<script>" not in html, url


def test_production_sets_hsts_and_secure_cookies_over_https(client):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response.cookies["csrftoken"]["secure"]
    assert response.cookies["csrftoken"]["httponly"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        ({"path": "/digests/2025-01-01/nothing-here/"}, 404, "Page not found"),
        ({"path": "/", "HTTP_HOST": "evil.example.com"}, 400, "Bad request"),
    ],
)
def test_error_pages_are_ours_and_leak_nothing(client, request_kwargs, status, words):
    path = request_kwargs.pop("path")
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en", **request_kwargs)
    assert response.status_code == status
    html = response.content.decode()
    assert words in html
    for leak in ("Traceback", "DisallowedHost", "settings.py", "ALLOWED_HOSTS", "Django"):
        assert leak not in html


def test_a_forged_csrf_token_gets_our_403_page_not_djangos():
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    response = client.post(
        reverse("set_language"), {"language": "en", "csrfmiddlewaretoken": "x" * 64}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "security token" in html or "安全令牌" in html
    assert "CSRF" not in html and "Referer" not in html


def test_the_server_error_page_is_static_and_says_nothing_technical(client):
    client.raise_request_exception = False
    with mock.patch("reading.views.pages.HomeView.get_queryset", side_effect=RuntimeError("boom")):
        response = client.get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Server error" in html
    assert "boom" not in html and "RuntimeError" not in html and " style=" not in html


def test_health_check_reports_database_and_cache(client, django_assert_num_queries):
    with django_assert_num_queries(2):  # the database, and the tasks waiting for a worker
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "worker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_check_answers_503_when_the_database_is_down(client):
    with mock.patch("digestsite.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["cache"] == "ok"


def test_health_check_reports_a_failing_cache_as_degraded_not_the_app_as_down(client):
    # A cache is only a cache: a load balancer must keep the app server while the site
    # answers from the database.
    with mock.patch("digestsite.health.cache.set", side_effect=ConnectionError("no redis")):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "degraded",
        "worker": "ok",
    }


def test_health_check_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


# --- Admin login lockout (django-axes) -------------------------------------------------------


def test_repeated_failed_admin_logins_lock_the_account_even_with_the_right_password(axes_on):
    factories.user("editor", staff=True)
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):
        assert (
            admin_login(client, "editor", "wrong").status_code == 200
        )  # the form again, with an error
    assert admin_login(client, "editor", "wrong").status_code == 429  # the third failure locks
    locked = admin_login(client, "editor", "pw-for-tests-only")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode() or "登录失败次数过多" in (
        locked.content.decode()
    )
    # Another address cannot get in either: the lock is per user as well as per address.
    elsewhere = Client(enforce_csrf_checks=True)
    assert admin_login(elsewhere, "editor", "pw-for-tests-only", "198.51.100.9").status_code == 429
    assert "_auth_user_id" not in elsewhere.session


def test_an_address_guessing_many_usernames_is_locked_out(axes_on):
    factories.user("editor", staff=True)
    client = Client(enforce_csrf_checks=True)
    for name in ("alice", "bob", "carol"):
        admin_login(client, name, "guess")
    assert admin_login(client, "editor", "pw-for-tests-only").status_code == 429


def test_a_superuser_unlocks_an_account_from_the_command_line(axes_on):
    factories.user("editor", staff=True)
    client = Client(enforce_csrf_checks=True)
    for _ in range(3):
        admin_login(client, "editor", "wrong", ip="203.0.113.8")
    assert admin_login(client, "editor", "pw-for-tests-only", "198.51.100.1").status_code == 429
    call_command("axes_reset_username", "editor", stdout=StringIO())
    response = admin_login(
        Client(enforce_csrf_checks=True), "editor", "pw-for-tests-only", "198.51.100.1"
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_superuser_sees_and_clears_lockouts_in_the_admin(axes_on):
    from axes.models import AccessAttempt

    factories.user("editor", staff=True)
    for _ in range(3):
        admin_login(Client(enforce_csrf_checks=True), "editor", "wrong")
    assert AccessAttempt.objects.filter(username="editor").exists()
    admin = factories.user("boss", superuser=True)
    boss = Client()
    boss.force_login(admin)
    listing = boss.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "editor" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="editor")
    boss.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert not AccessAttempt.objects.filter(username="editor").exists()
    assert (
        admin_login(Client(enforce_csrf_checks=True), "editor", "pw-for-tests-only").status_code
        == 302
    )


def test_a_successful_login_works_with_lockout_protection_on(axes_on):
    get_user_model().objects.create_user("chief", password="pw-for-tests-only", is_staff=True)
    response = admin_login(Client(enforce_csrf_checks=True), "chief", "pw-for-tests-only")
    assert response.status_code == 302


# --- Client address and logs ----------------------------------------------------------------


def test_client_address_ignores_forwarded_for_unless_proxies_are_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; our one proxy saw 198.51.100.20.
    assert client_ip(request) == "198.51.100.20"


def test_logs_are_one_json_object_per_line():
    record = logging.makeLogRecord(
        {"name": "papers", "levelname": "WARNING", "msg": "import of %s failed", "args": ("x",)}
    )
    record.digest_id = 7
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "import of x failed"
    assert payload["level"] == "WARNING"
    assert payload["digest_id"] == 7
    assert "\n" not in line


def test_a_message_of_django_is_logged_once_in_development(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import logging, django; django.setup(); "
        "logging.getLogger('django.utils.autoreload').info('Watching for file changes')"
    )
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "VAR_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "digestsite.settings"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.stdout + done.stderr).count("Watching for file changes") == 1


def test_a_database_outage_answers_503_with_retry_after_not_500(client):
    client.raise_request_exception = False
    broken = mock.patch(
        "reading.views.pages.HomeView.get_queryset",
        side_effect=OperationalError("connection to server at 127.0.0.1 refused"),
    )
    with broken:
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    html = response.content.decode()
    assert "Temporarily unavailable" in html
    assert "refused" not in html and "127.0.0.1" not in html


def test_media_can_move_to_s3_compatible_object_storage_by_environment():
    from tests.test_settings import _manage

    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; import json; "
        "print(json.dumps([s.STORAGES['default'], s.SERVE_MEDIA, "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']]))",
        DEBUG="0",
        SECRET_KEY="x7#kq!2v" * 8,
        ALLOWED_HOSTS="digest.example.com",
        MEDIA_STORAGE="s3",
        S3_BUCKET="digest-media",
        S3_ENDPOINT_URL="https://s3.example.com",
        CSP_MEDIA_ORIGIN="https://media.example.com",
        LOG_LEVEL="ERROR",
    )
    assert result.returncode == 0, result.stderr
    storage, serve_media, img_src = json.loads(result.stdout.strip().splitlines()[-1])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "digest-media"
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.example.com"
    assert storage["OPTIONS"]["file_overwrite"] is False
    assert serve_media is False
    assert "https://media.example.com" in img_src


def test_a_request_without_a_socket_address_has_no_client_address(settings):
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None


def test_staff_without_rights_get_our_403_page():
    digest = factories.digest(entries=1, status="draft")
    intern = Client()
    intern.force_login(factories.user("intern", staff=True))
    response = intern.get(
        reverse("admin:papers_digest_change", args=[digest.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "Access denied" in html or "无权访问" in html
    assert digest.title not in html


def test_the_server_error_page_renders_even_without_the_static_manifest(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path  # collectstatic never ran: no manifest
    client.raise_request_exception = False
    with mock.patch("reading.views.pages.HomeView.get_queryset", side_effect=RuntimeError("x")):
        response = client.get("/")
    assert response.status_code == 500
    assert 'href="/static/css/site.css"' in response.content.decode()


def test_policy_header_is_django_csps_own_and_follows_a_settings_change(client, settings):
    """The header is built once per process (digestsite/csp.py): it must be exactly what
    django-csp writes, and a changed policy must show on the next response."""
    from csp.utils import build_policy

    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    assert client.get(url)["Content-Security-Policy"] == build_policy()
    assert client.get("/papers/")["Content-Security-Policy"] == build_policy()
    policy = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]}}
    policy["DIRECTIVES"]["img-src"] = ["'self'", "https://images.example"]
    settings.CONTENT_SECURITY_POLICY = policy
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    response = client.get("/papers/?sort=views")
    assert _csp(response)["img-src"] == ["'self'", "https://images.example"]
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"
