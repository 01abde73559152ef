"""Hostile addresses in the back office, and the admin login (issue 22, items 2, 7 and 10).

Each case of ``CASES`` is a list, search or autocomplete address a staff member (or a script
holding their session) might send, and the answer it must get: the list with what it finds,
Django's redirect for a filter it cannot apply (``?e=1``), never a 500. The NUL byte, the
inet column and the error a driver raises before a query leaves are PostgreSQL's, so the
table runs on both databases (``DATABASE_URL``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from editorial.demo import figure_png
from papers.models import Figure
from tests import factories
from tests.login_support import admin_login

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"
BAD_LOOKUP = "?e=1"  # Django's answer to a filter it cannot apply: the unfiltered list
LISTED = "200"  # the list (or the autocomplete's answer), with what it finds
TOO_BIG = "99999999999"  # past any year or month a date can hold


@dataclass(frozen=True)
class AdminCase:
    description: str
    path: str
    expect: str = LISTED  # or BAD_LOOKUP
    finds: str | None = None  # what the answer must show...
    hides: str | None = None  # ...and must not
    sqlite_expect: str | None = None  # where SQLite answers otherwise (it has no inet type)


CASES = [
    # --- searches --------------------------------------------------------------------------
    AdminCase(
        "an entry search with an unclosed double quote is searched as text",
        "/admin/papers/entry/?q=%22Quoted",
        finds="Paper with a &quot;Quoted&quot; title",
        hides="A Study of Things",
    ),
    AdminCase(
        "an entry search with an unclosed single quote is searched as text",
        "/admin/papers/entry/?q=%27Quoted",
        hides="A Study of Things",
    ),
    AdminCase(
        "an entry autocomplete with an unclosed quote",
        "/admin/autocomplete/?app_label=papers&model_name=figure&field_name=entry&term=%22Quoted",
        finds='Paper with a \\"Quoted\\" title',
    ),
    AdminCase(
        "a NUL byte in a category autocomplete is dropped",
        "/admin/autocomplete/?app_label=papers&model_name=paper&field_name=primary_category"
        "&term=Machine%00",
        finds="Machine Learning",
    ),
    # --- list filters ----------------------------------------------------------------------
    AdminCase("a NUL byte in a digest filter", "/admin/papers/digest/?title=%00", BAD_LOOKUP),
    AdminCase(
        "a NUL byte in the entry list's status filter",
        "/admin/papers/entry/?digest__status__exact=%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a NUL byte in the comment list's status filter",
        "/admin/comments/comment/?status__exact=%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a NUL byte in a commenter's history link",
        "/admin/comments/comment/?email_hash=ab%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a NUL byte in the comment list's address filter",
        "/admin/comments/comment/?ip_address=%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "an address filter that is no address in the comment list",
        "/admin/comments/comment/?ip_address=not-an-ip",
        BAD_LOOKUP,
        sqlite_expect=LISTED,
        hides="198.51.100.7",
    ),
    AdminCase(
        "a NUL byte in the lockout list's address filter",
        "/admin/axes/accessattempt/?ip_address=%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a NUL byte in the lockout list's username filter",
        "/admin/axes/accessattempt/?username=%00",
        BAD_LOOKUP,
    ),
    AdminCase(
        "an address filter that is no address in the lockout list",
        "/admin/axes/accessattempt/?ip_address=not-an-ip",
        BAD_LOOKUP,
        sqlite_expect=LISTED,
        hides="locked-name",
    ),
    AdminCase(
        "an address filter that is no address in the login log",
        "/admin/axes/accesslog/?ip_address=not-an-ip",
        BAD_LOOKUP,
        sqlite_expect=LISTED,
    ),
    AdminCase(
        "an address filter that is no address in the failed-login log",
        "/admin/axes/accessfailurelog/?ip_address=not-an-ip",
        BAD_LOOKUP,
        sqlite_expect=LISTED,
    ),
    # --- dates -----------------------------------------------------------------------------
    AdminCase(
        "a year past any date in the digest drill-down",
        f"/admin/papers/digest/?issue_date__year={TOO_BIG}",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a month past any date in the digest drill-down",
        f"/admin/papers/digest/?issue_date__year=2025&issue_date__month={TOO_BIG}",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a year past any date in the paper drill-down",
        f"/admin/papers/paper/?published_on__year={TOO_BIG}",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a year past any date on a field with no drill-down",
        f"/admin/papers/digest/?published_at__year={TOO_BIG}",
        BAD_LOOKUP,
    ),
    AdminCase(
        "a year past any date in the audit log",
        f"/admin/editorial/auditrecord/?created_at__year={TOO_BIG}",
        BAD_LOOKUP,
    ),
]


@pytest.fixture
def staff_client(db):
    from axes.models import AccessAttempt

    digest = factories.digest(entries=1)
    quoted = factories.paper(arxiv_id="2501.00042", title='Paper with a "Quoted" title')
    factories.entry(digest=digest, paper=quoted, position=2, with_sections=False)
    factories.comment(on=digest)
    AccessAttempt.objects.create(
        username="locked-name",
        ip_address="203.0.113.7",
        user_agent="test",
        path_info="/admin/login/",
        failures_since_start=1,
    )
    client = Client(raise_request_exception=False)
    client.force_login(factories.user("chief", superuser=True))
    return client


@pytest.mark.parametrize("case", CASES, ids=[c.description for c in CASES])
def test_a_hostile_admin_address_gets_the_list_or_a_bad_filter_answer(case, staff_client, caplog):
    response = staff_client.get(case.path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code < 500, case.description
    expect = case.sqlite_expect if case.sqlite_expect and not POSTGRESQL else case.expect
    if expect == BAD_LOOKUP:
        assert response.status_code == 302
        assert response["Location"] == case.path.split("?")[0] + BAD_LOOKUP
        # ...which the list then answers.
        assert staff_client.get(response["Location"]).status_code == 200
    else:
        assert response.status_code == 200
        text = response.content.decode()
        if case.finds is not None:
            assert case.finds in text
        if case.hides is not None:
            assert case.hides not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _text_field(model):
    return next(
        (
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ),
        None,
    )


def test_every_list_of_the_site_answers_a_nul_byte_as_a_bad_filter(staff_client):
    """Ours, the comments' and the libraries' (auth, taggit, axes) alike: a NUL byte in any
    text filter is Django's bad-filter redirect, where PostgreSQL's driver raised a 500."""
    checked = []
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        url = reverse("admin:{}_{}_changelist".format(*info))
        field = _text_field(model)
        if field is None or staff_client.get(url).status_code != 200:
            continue  # no text to filter on, or no list (site settings open their page)
        response = staff_client.get(f"{url}?{field}=x%00y")
        assert response.status_code == 302, (model, response.status_code)
        assert response["Location"] == url + BAD_LOOKUP, model
        checked.append(model._meta.label)
    assert {"auth.User", "taggit.Tag", "axes.AccessAttempt", "comments.BlockedTerm"} <= set(checked)


@pytest.mark.parametrize("model", ["digest", "entry"])
def test_an_id_that_only_looks_like_a_number_opens_no_change_page(staff_client, model):
    """ "²" is a digit to str.isdigit(), not to int(): Django's "does not exist" answer."""
    response = staff_client.get(f"/admin/papers/{model}/%C2%B2/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_autocomplete_answer_is_json_with_the_nul_byte_dropped(staff_client):
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "papers", "model_name": "entry", "field_name": "paper", "term": "Quo\x00ted"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in json.loads(response.content)["results"]] == [
        '2501.00042 Paper with a "Quoted" title'
    ]


# --- The admin login under django-axes (item 2) --------------------------------------------


@pytest.mark.parametrize("length", [256, 5000])
def test_a_username_longer_than_the_lockout_records_is_a_failed_login_counted_as_any(
    axes_on, caplog, length
):
    """The lockout records hold 255 characters: PostgreSQL refused a longer name, and the
    login page answered 500 (with a traceback in the log) as often as anyone asked."""
    from axes.models import AccessAttempt

    get_user_model().objects.create_user("chief", password="pw-for-tests-only", is_staff=True)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    name = "名" * length
    for attempt in (1, 2):
        response = admin_login(client, name)
        assert response.status_code == 200  # the form again, with its error
        assert response.context["form"].non_field_errors().as_data()[0].code == "invalid_login"
        record = AccessAttempt.objects.get()
        assert record.username == name[:255]
        assert record.failures_since_start == attempt
    assert admin_login(client, name).status_code == 429  # the third failure locks, as any does
    # The address is locked: the right password from it does not get in.
    assert admin_login(client, "chief", "pw-for-tests-only").status_code == 429
    assert "_auth_user_id" not in client.session
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- The figure preview under the site's CSP (item 10) -------------------------------------


def test_the_figure_preview_is_sized_by_a_stylesheet_not_an_inline_style(
    admin_client, settings, tmp_path
):
    """The policy (``style-src 'self'``) blocks every ``style=""``: the thumbnail showed at
    full size."""
    settings.MEDIA_ROOT = tmp_path
    entry = factories.entry(digest=factories.digest(status="draft"), with_sections=False)
    Figure.objects.create(
        entry=entry,
        position=1,
        image=SimpleUploadedFile("fig.png", figure_png("x", 1), "image/png"),
    )
    html = admin_client.get(reverse("admin:papers_entry_change", args=[entry.pk])).content.decode()
    assert 'class="figure-preview"' in html
    assert " style=" not in html
    assert "css/admin-figures.css" in html
    stylesheet = django_settings.BASE_DIR / "static" / "css" / "admin-figures.css"
    assert ".figure-preview { max-height: 60px; }" in stylesheet.read_text()
