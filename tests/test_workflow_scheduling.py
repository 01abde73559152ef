"""Scheduling needs no cron job: a digest with a future go-live time appears on every
public page at that time and disappears at its expiry, with the clock frozen around both.
`publish_scheduled` only does side effects, once per go-live time."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from editorial import services
from editorial.models import AuditRecord
from editorial.signals import digest_went_live
from papers.models import Digest
from tests import factories

pytestmark = pytest.mark.django_db

GO_LIVE = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=datetime.UTC)  # 08:00 in Shanghai
EXPIRY = datetime.datetime(2030, 3, 8, 0, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


def _scheduled_digest(time_machine):
    time_machine.move_to(GO_LIVE - datetime.timedelta(days=2), tick=False)
    editor = factories.user("editor", superuser=True)
    digest = factories.digest(entries=2, status="draft", title="定时发布的一期")
    services.digest_schedule(digest=digest, by=editor, at=GO_LIVE, expires_at=EXPIRY)
    digest.refresh_from_db()
    return digest


def _public_pages(digest):
    entry = digest.entries.first()
    return [
        reverse("reading:home"),
        digest.get_absolute_url(),
        entry.get_absolute_url(),
        reverse("reading:feed-atom"),
        reverse("reading:feed-rss"),
        reverse("reading:sitemap-section", args=["digests"]),
        reverse("reading:sitemap-section", args=["entries"]),
        "/api/v1/digests/",
        "/api/v1/entries/",
    ]


def _shows(url, title, digest):
    """The digest's own pages answer 200; lists, feeds, sitemap and API link to it."""
    response = Client().get(url)
    if url in (digest.get_absolute_url(), digest.entries.first().get_absolute_url()):
        return response.status_code == 200
    assert response.status_code == 200, url
    return digest.get_absolute_url() in response.content.decode()


@pytest.mark.parametrize(
    ("moment", "visible"),
    [
        (GO_LIVE - MINUTE, False),
        (GO_LIVE, True),
        (GO_LIVE + datetime.timedelta(days=3), True),
        (EXPIRY - MINUTE, True),
        (EXPIRY, False),
        (EXPIRY + datetime.timedelta(days=30), False),
    ],
)
def test_a_scheduled_digest_is_visible_exactly_between_go_live_and_expiry(
    time_machine, moment, visible
):
    digest = _scheduled_digest(time_machine)
    time_machine.move_to(moment, tick=False)
    for url in _public_pages(digest):
        assert _shows(url, "定时发布的一期", digest) is visible, (url, moment)


def test_no_job_has_to_run_for_a_scheduled_digest_to_go_live(time_machine):
    digest = _scheduled_digest(time_machine)
    time_machine.move_to(GO_LIVE + MINUTE, tick=False)
    assert Client().get(digest.get_absolute_url()).status_code == 200
    assert not AuditRecord.objects.filter(action="went_live").exists()


def test_a_scheduled_page_is_not_served_from_an_earlier_staff_preview(time_machine):
    digest = _scheduled_digest(time_machine)
    staff = Client()
    staff.force_login(factories.user("staffer", staff=True, perms=["papers.view_digest"]))
    preview = staff.get(digest.get_absolute_url())
    assert preview.status_code == 200
    assert "no-store" in preview["Cache-Control"] and "private" in preview["Cache-Control"]
    assert Client().get(digest.get_absolute_url()).status_code == 404


def test_publish_scheduled_handles_each_go_live_once_and_dry_run_changes_nothing(
    time_machine, django_capture_on_commit_callbacks
):
    digest = _scheduled_digest(time_machine)
    received = []

    def listener(sender, digest, **kwargs):
        received.append(digest.pk)

    digest_went_live.connect(listener)
    try:
        time_machine.move_to(GO_LIVE - MINUTE, tick=False)
        out = io.StringIO()
        call_command("publish_scheduled", stdout=out)
        assert "Nothing to do" in out.getvalue()

        time_machine.move_to(GO_LIVE + MINUTE, tick=False)
        out = io.StringIO()
        call_command("publish_scheduled", "--dry-run", stdout=out)
        assert "would handle" in out.getvalue() and digest.title in out.getvalue()
        assert "Asia/Shanghai" in out.getvalue()
        assert not AuditRecord.objects.filter(action="went_live").exists()

        with django_capture_on_commit_callbacks(execute=True):
            call_command("publish_scheduled", stdout=io.StringIO())
            call_command("publish_scheduled", stdout=io.StringIO())
        assert received == [digest.pk]
        assert AuditRecord.objects.filter(action="went_live", digest=digest).count() == 1
    finally:
        digest_went_live.disconnect(listener)


def test_rescheduling_a_digest_that_went_live_is_handled_again(time_machine):
    digest = _scheduled_digest(time_machine)
    time_machine.move_to(GO_LIVE + MINUTE, tick=False)
    call_command("publish_scheduled", stdout=io.StringIO())
    editor = factories.user("editor2", superuser=True)
    later = GO_LIVE + datetime.timedelta(days=1)
    services.digest_unpublish(digest=digest, by=editor)
    services.digest_schedule(digest=digest, by=editor, at=later)
    time_machine.move_to(later + MINUTE, tick=False)
    call_command("publish_scheduled", stdout=io.StringIO())
    assert AuditRecord.objects.filter(action="went_live", digest=digest).count() == 2


def test_scheduling_needs_a_future_time_and_an_expiry_after_it(time_machine):
    time_machine.move_to(GO_LIVE, tick=False)
    editor = factories.user("editor", superuser=True)
    digest = factories.digest(entries=1, status="draft")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.digest_schedule(digest=digest, by=editor, at=GO_LIVE - MINUTE)
    with pytest.raises(ValidationError):
        services.digest_schedule(
            digest=digest, by=editor, at=GO_LIVE + MINUTE, expires_at=GO_LIVE + MINUTE
        )
    digest.refresh_from_db()
    assert digest.status == "draft" and digest.published_at is None


def test_the_admin_names_the_site_time_zone_for_go_live_times(time_machine):
    digest = _scheduled_digest(time_machine)
    admin_client = Client()
    admin_client.force_login(factories.user("boss", superuser=True))
    html = admin_client.get(reverse("admin:papers_digest_change", args=[digest.pk])).content
    assert "2030-03-01 08:00 (Asia/Shanghai)" in html.decode()


def test_caches_are_told_when_the_next_go_live_or_expiry_happens(time_machine):
    # The page cache keeps no page past this moment (tests/test_pagecache.py shows it on time).
    digest = _scheduled_digest(time_machine)
    now = GO_LIVE - datetime.timedelta(minutes=10)
    time_machine.move_to(now, tick=False)
    assert Digest.objects.next_visibility_change() == GO_LIVE
    time_machine.move_to(GO_LIVE + MINUTE, tick=False)
    assert Digest.objects.next_visibility_change() == EXPIRY
    services.digest_unpublish(digest=digest, by=factories.user("e3", superuser=True))
    assert Digest.objects.next_visibility_change() is None


@pytest.mark.parametrize(
    ("status", "shift", "expected"),
    [
        ("draft", None, "Draft: not published"),
        ("review", None, "In review"),
        ("published", datetime.timedelta(days=1), "Scheduled: readers see it from"),
    ],
)
def test_the_staff_preview_banner_says_what_state_the_digest_is_in(status, shift, expected):
    fields = {"published_at": GO_LIVE + shift} if shift else {}
    digest = factories.digest(entries=1, status=status, **fields)
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(factories.user("staffer", staff=True, perms=["papers.view_digest"]))
    for url in (digest.get_absolute_url(), digest.entries.get().get_absolute_url()):
        response = staff.get(url)
        banner = response.content.decode().split('class="preview-banner"')[1][:400]
        assert expected in banner, url
    if shift:
        assert "2030-03-02 08:00 (Asia/Shanghai)" in banner


def test_the_preview_banner_says_when_a_digest_expired(time_machine):
    digest = _scheduled_digest(time_machine)
    time_machine.move_to(EXPIRY + MINUTE, tick=False)
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(factories.user("staffer", staff=True, perms=["papers.view_digest"]))
    html = staff.get(digest.get_absolute_url()).content.decode()
    assert "Expired on 2030-03-08 08:00 (Asia/Shanghai)" in html


def test_the_digest_list_filters_scheduled_live_and_expired_apart(time_machine):
    digest = _scheduled_digest(time_machine)
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(factories.user("boss", superuser=True))
    url = reverse("admin:papers_digest_changelist")

    def listed(state):
        response = staff.get(url, {"state": state})
        return [d.pk for d in response.context["cl"].result_list]

    time_machine.move_to(GO_LIVE - MINUTE, tick=False)
    assert listed("scheduled") == [digest.pk] and listed("live") == []
    time_machine.move_to(GO_LIVE + MINUTE, tick=False)
    staff.force_login(factories.user("boss2", superuser=True))
    assert listed("live") == [digest.pk] and listed("scheduled") == []
    time_machine.move_to(EXPIRY + MINUTE, tick=False)
    staff.force_login(factories.user("boss3", superuser=True))
    assert listed("expired") == [digest.pk] and listed("live") == []


def test_an_editor_moving_the_go_live_time_of_a_live_digest_is_audited_as_a_schedule():
    from tests.workflow_support import (
        change_url,
        client_for,
        csrf_post,
        digest_form_data,
        role_user,
    )

    digest = factories.digest(entries=1, status="published")
    editor = role_user("editor")
    client = client_for(editor)
    copy = services.working_copy_start(digest=digest, by=editor)  # times change there too
    data = digest_form_data(
        copy, published_at_0="2099-01-02", published_at_1="16:00:00", _publish="1"
    )
    assert csrf_post(client, change_url(copy), data).status_code == 302
    digest.refresh_from_db()
    assert digest.is_scheduled
    record = AuditRecord.objects.filter(digest=digest).first()
    assert record.action == "publish_changes" and record.effective_at == digest.published_at


def test_an_expiry_in_the_past_is_a_form_error_pointing_to_unpublish():
    from tests.workflow_support import (
        change_url,
        client_for,
        csrf_post,
        digest_form_data,
        role_user,
    )

    digest = factories.digest(entries=1, status="published")
    editor = role_user("editor")
    client = client_for(editor)
    copy = services.working_copy_start(digest=digest, by=editor)
    data = digest_form_data(copy, expires_at_0="2020-01-01", expires_at_1="00:00:00")
    response = csrf_post(client, change_url(copy), data)
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    digest.refresh_from_db()
    assert digest.expires_at is None and digest.is_published
