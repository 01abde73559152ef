"""The back office speaks the site's language (issue 17, item 5): the site's name in its
header and title, the site's time zone stated once, every string of the project translated."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from papers.models import SiteSettings
from tests import factories
from tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 (the shared fixture)
from tests.workflow_support import change_url, client_for, role_user

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


@pytest.mark.django_db
def test_the_admin_carries_the_sites_name_not_djangos():
    settings = SiteSettings.load()
    settings.site_name = "论文速递"
    settings.save()
    html = client_for(role_user("editor")).get("/admin/").content.decode()
    assert "<title>" in html and "论文速递 后台</title>" in html
    assert re.search(r'<div id="site-name"><a href="/admin/">论文速递 后台</a>', html)
    assert "Django" not in html.split("</header>")[0]


@pytest.mark.django_db
def test_the_third_party_parts_of_the_back_office_speak_chinese_too(admin_client, settings):
    """django-axes and django-tasks-db ship no Chinese: their names, models, columns and
    states come from the project's catalogue (digestsite/vendor_strings.py)."""
    index = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for chinese in ("登录保护", "登录尝试", "登录失败", "登录记录", "后台任务", "任务结果"):
        assert chinese in index, chinese
    for english in ("Axes", "Access attempts", "Tasks Database Backend", "Task Results"):
        assert english not in index, english
    assert "修改或查看列表链接" in index  # the table heading screen readers announce
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    DBTaskResult.objects.create(
        task_path="editorial.analytics.refresh_analytics",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
    )
    tasks = admin_client.get(
        "/admin/django_tasks_database/dbtaskresult/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for chinese in ("入队时间", "开始时间", "完成时间", "队列名称", "优先级", "待运行", "成功"):
        assert chinese in tasks, chinese
    english = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Login protection" in english and "Background tasks" in english


@pytest.mark.django_db
def test_the_sites_time_zone_is_stated_once_on_a_page_full_of_date_fields():
    digest = factories.digest(entries=1, status="draft")
    html = client_for(role_user("editor")).get(change_url(digest)).content.decode()
    assert html.count("日期和时间均为站点时区:Asia/Shanghai(UTC+0800)") == 1
    assert "css/admin-site" in html  # hides the per-field "hours ahead" notes


def _catalogue_entries(text: str):
    """(msgid, msgstr, flags) of each entry of a .po file (continuation lines joined)."""
    for block in text.split("\n\n"):
        fields, flags, current = {}, "", None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
                current, _, rest = line.partition(" ")
                fields[current] = rest.strip('"')
            elif line.startswith('"') and current:
                fields[current] += line.strip('"')
        if fields.get("msgid"):
            strings = [v for k, v in fields.items() if k.startswith("msgstr")]
            yield fields["msgid"], strings, flags, fields.get("msgctxt")


def test_every_string_of_the_project_has_its_chinese():
    entries = list(_catalogue_entries(CATALOGUE.read_text()))
    assert len(entries) > 500
    untranslated = [msgid for msgid, strings, _flags, _ctx in entries if not all(strings)]
    fuzzy = [msgid for msgid, _strings, flags, _ctx in entries if "fuzzy" in flags]
    assert untranslated == [] and fuzzy == []


def test_the_site_speaks_the_catalogue_as_written_not_an_older_compiled_copy():
    """The compiled django.mo is what Django reads: a catalogue edited (or merged) without
    `make messages` leaves readers with English words on a Chinese page."""
    import ast
    import gettext

    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for msgid, strings, _flags, context in _catalogue_entries(CATALOGUE.read_text()):
        source, expected = (ast.literal_eval(f'"{s}"') for s in (msgid, strings[0]))
        if context:
            found = catalogue.pgettext(ast.literal_eval(f'"{context}"'), source)
        else:
            found = catalogue.ngettext(source, source, 1) if len(strings) > 1 else None
            found = found or catalogue.gettext(source)
        if found != expected:
            stale.append(source)
    assert stale == []


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed")
def test_an_editor_abroad_sees_the_zone_once_and_no_warning_under_each_field(
    browser,  # noqa: F811
    live_server,
    transactional_db,
):
    import importlib

    from django.apps import apps

    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    importlib.import_module("papers.migrations.0004_workflow_roles").create_roles(apps, None)
    editor = role_user("editor")
    digest = factories.digest(entries=1, status="draft")
    context = browser.new_context(timezone_id="Europe/Berlin", locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", editor.get_username())
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(live_server.url + change_url(digest))
    page.wait_for_selector(".datetimeshortcuts")  # the admin's date widgets have started
    assert page.locator(".site-time-zone").is_visible()
    warnings = page.locator(".timezonewarning")
    assert warnings.count() > 0  # Django added its notes: seven hours behind Shanghai...
    assert all(not warnings.nth(i).is_visible() for i in range(warnings.count()))
    context.close()
