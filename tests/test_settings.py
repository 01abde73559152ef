"""The settings module reads the environment and refuses unsafe production set-ups."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    inherited = ("PATH", "HOME", "LANG", "DATABASE_URL", "VIRTUAL_ENV")
    clean = {k: os.environ[k] for k in inherited if k in os.environ}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "digestsite.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0")
    assert result.returncode != 0
    assert result.stderr.startswith("error: SECRET_KEY is not set")
    assert "Traceback" not in result.stdout + result.stderr


def test_migration_checks_need_no_secret_key():
    """``makemigrations --check`` reads only the code: it runs in production mode without a
    key, and reports that the models and migrations agree; serving still refuses."""
    result = _manage("makemigrations", "--check", "--dry-run", DEBUG="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    assert "SECRET_KEY is not set" in _manage("migrate", "--plan", DEBUG="0").stderr


def test_deploy_check_is_clean_with_a_real_key_and_hosts():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x7#kq!2v" * 8,
        ALLOWED_HOSTS="digest.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_mode_needs_no_configuration():
    result = _manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_each_worker_keeps_a_sites_worth_of_blocks_and_rows_without_redis():
    """Without Redis, the per-process cache holds the papers' blocks and list rows: Django's
    default of 300 entries would hold fifteen list pages and evict them in turn."""
    result = _manage(
        "shell",
        "-c",
        "from django.core.cache import caches; print(caches['default']._max_entries)",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) >= 5000
    small = _manage(
        "shell",
        "-c",
        "from django.core.cache import caches; print(caches['default']._max_entries)",
        DEBUG="1",
        LOCAL_CACHE_ENTRIES="800",
    )
    assert small.stdout.split()[-1] == "800"


def test_in_development_a_template_edit_shows_on_the_next_reload():
    """`make run` keeps no page and no fragment: an engineer who edits a template (the DOI
    under the authors, say) sees it at once. Production keeps both."""
    show = (
        "from django.conf import settings; from reading.views.pages import fragment_cache; "
        "print(settings.PAGE_CACHE_ENABLED, type(fragment_cache()).__name__)"
    )
    development = _manage("shell", "-c", show, DEBUG="1")
    assert development.returncode == 0, development.stderr
    assert development.stdout.split()[-2:] == ["False", "DummyCache"]
    production = _manage(
        "shell",
        "-c",
        show,
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="digest.example.com",
    )
    assert production.returncode == 0, production.stderr
    assert production.stdout.split()[-2:] == ["True", "LocMemCache"]
