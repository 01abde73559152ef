import datetime
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from editorial.models import AuditRecord
from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind, SiteSettings
from tests import factories

pytestmark = pytest.mark.django_db


def _one_of_each():
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    return {
        Category: Category.objects.first(),
        Paper: entry.paper,
        Digest: digest,
        Entry: entry,
        SectionKind: SectionKind.objects.first(),
        SiteSettings: SiteSettings.load(),
        Figure: entry.figures.first(),
        Section: entry.sections.first(),
    }


def test_every_admin_page_loads_for_a_superuser(admin_client):
    objects = _one_of_each()
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        changelist = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)), follow=True)
        assert changelist.status_code == 200, model
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, (
                model
            )
        obj = objects.get(model) or model.objects.first()
        if obj is not None:
            url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            assert admin_client.get(url).status_code == 200, model


def _csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _post(client, url, data):
    """POST as a browser does: fetch the form first for its CSRF token."""
    client.get(url)
    data = {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return client.post(url, data)


def _paper_data(**overrides):
    data = {
        "arxiv_id": "https://arxiv.org/abs/2509.22445v2",
        "title": "Bridging Kolmogorov Complexity and Deep Learning",
        "authors": "P Shaw\r\nJ Cohan\r\n\r\nJ Eisenstein\r\nK Toutanova",
        "affiliations": "Google DeepMind\r\nGoogle Research",
        "abstract": "The Minimum Description Length principle ...",
        "primary_category": Category.objects.get(code="cs.LG").pk,
        "categories": [Category.objects.get(code="cs.AI").pk],
        "published_on": "2025-09-26",
    }
    data.update(overrides)
    return data


def test_editor_creates_a_paper_from_a_pasted_arxiv_link(admin_user):
    client = _csrf_client(admin_user)
    response = _post(client, reverse("admin:papers_paper_add"), _paper_data())
    assert response.status_code == 302
    paper = Paper.objects.get()
    assert paper.arxiv_id == "2509.22445"
    assert paper.author_list == ["P Shaw", "J Cohan", "J Eisenstein", "K Toutanova"]
    assert paper.affiliation_list == ["Google DeepMind", "Google Research"]
    assert list(paper.categories.values_list("code", flat=True)) == ["cs.AI"]


def test_a_bad_arxiv_id_is_a_form_error_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        reverse("admin:papers_paper_add"), _paper_data(arxiv_id="2509.2244x")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "arxiv_id" in errors
    assert "2509.2244x" in errors["arxiv_id"][0] and "arXiv" in errors["arxiv_id"][0]
    assert not Paper.objects.exists()


def test_a_duplicate_paper_is_a_form_error(admin_client):
    factories.paper(arxiv_id="2509.22445")
    response = admin_client.post(
        reverse("admin:papers_paper_add"), _paper_data(arxiv_id="2509.22445v3")
    )
    assert response.status_code == 200
    assert Paper.objects.count() == 1


def _digest_data(entries, **overrides):
    data = {
        "title": "AI前沿推介(9.30)",
        "slug": "ai-frontier-0930",
        "issue_date": "2025-09-30",
        "summary": "本期摘要",
        "tags": "强化学习, LLM",
        "entries-TOTAL_FORMS": str(len(entries)),
        "entries-INITIAL_FORMS": str(sum(1 for e in entries if e.get("id"))),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for index, entry in enumerate(entries):
        for key, value in entry.items():
            data[f"entries-{index}-{key}"] = value
    data.update(overrides)
    return data


def test_editor_builds_a_digest_with_entries_in_order(admin_client):
    first, second = factories.paper(), factories.paper()
    response = admin_client.post(
        reverse("admin:papers_digest_add"),
        _digest_data(
            [
                {"position": "1", "paper": first.pk, "title_zh": "第一篇", "tags": "推理"},
                {"position": "2", "paper": second.pk, "title_zh": "第二篇", "tags": ""},
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    digest = Digest.objects.get()
    assert digest.status == "draft"
    assert [e.paper for e in digest.entries.all()] == [first, second]
    assert set(digest.tags.names()) == {"强化学习", "LLM"}
    assert list(digest.entries.get(position=1).tags.names()) == ["推理"]


def test_reordering_entries_by_swapping_positions_saves(admin_client):
    digest = factories.digest(entries=2, status="draft")
    one, two = digest.entries.order_by("position")
    response = admin_client.post(
        reverse("admin:papers_digest_change", args=[digest.pk]),
        _digest_data(
            [
                {"id": one.pk, "digest": digest.pk, "position": "2", "paper": one.paper_id},
                {"id": two.pk, "digest": digest.pk, "position": "1", "paper": two.paper_id},
            ],
            slug=digest.slug,
            issue_date=digest.issue_date.isoformat(),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(digest.entries.order_by("position")) == [two, one]


def test_two_entries_at_one_position_is_a_form_error(admin_client):
    first, second = factories.paper(), factories.paper()
    response = admin_client.post(
        reverse("admin:papers_digest_add"),
        _digest_data(
            [
                {"position": "1", "paper": first.pk},
                {"position": "1", "paper": second.pk},
            ]
        ),
    )
    assert response.status_code == 200
    entry_formset = response.context["inline_admin_formsets"][0].formset
    assert any("position" in form.errors for form in entry_formset.forms)
    assert not Digest.objects.exists()


def _entry_form_data(entry, **sections):
    data = {
        "digest": entry.digest_id,
        "position": entry.position,
        "paper": entry.paper_id,
        "title_zh": "中文标题",
        "tags": "",
        "unplaced_text": "",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "1000",
    }
    for kind in SectionKind.objects.all():
        data[f"section_{kind.slug}"] = sections.get(kind.slug.replace("-", "_"), "")
    return data


def test_entry_page_has_one_box_per_section_kind_in_order(admin_client):
    entry = factories.entry(digest=factories.digest(status="draft"), with_sections=False)
    html = admin_client.get(reverse("admin:papers_entry_change", args=[entry.pk])).content.decode()
    positions = [html.index(f'name="section_{kind.slug}"') for kind in SectionKind.objects.all()]
    assert positions == sorted(positions)


def test_editor_writes_sections_of_an_entry(admin_client):
    entry = factories.entry(digest=factories.digest(status="draft"), with_sections=False)
    url = reverse("admin:papers_entry_change", args=[entry.pk])
    response = admin_client.post(
        url,
        _entry_form_data(entry, key_points="• 第一点\r\n• 第二点", gist="一段主旨。"),
    )
    assert response.status_code == 302
    sections = {s.kind.slug: s for s in entry.sections.select_related("kind")}
    assert set(sections) == {"key-points", "gist"}
    assert sections["key-points"].body_html.count("<li>") == 2
    # Clearing a box removes that section.
    admin_client.post(url, _entry_form_data(entry, gist="一段主旨。"))
    assert list(entry.sections.values_list("kind__slug", flat=True)) == ["gist"]


def test_editor_adds_a_figure_with_caption_source_and_licence(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    from editorial.demo import figure_png

    entry = factories.entry(digest=factories.digest(status="draft"), with_sections=False)
    data = _entry_form_data(entry)
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-position": "1",
            "figures-0-caption": "图1:框架示意",
            "figures-0-alt_text": "A bar chart",
            "figures-0-source_url": "https://arxiv.org/abs/2509.22445",
            "figures-0-licence": "CC BY 4.0",
            "figures-0-image": SimpleUploadedFile("fig.png", figure_png("x", 1), "image/png"),
        }
    )
    response = admin_client.post(reverse("admin:papers_entry_change", args=[entry.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    figure = entry.figures.get()
    assert figure.caption == "图1:框架示意" and figure.licence == "CC BY 4.0"
    assert figure.width == 640 and figure.image.name.startswith("figures/")
    assert "fig" not in figure.image.name.rsplit("/", 1)[-1]


def test_a_file_that_is_not_an_image_is_refused(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    entry = factories.entry(digest=factories.digest(status="draft"), with_sections=False)
    data = _entry_form_data(entry)
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-position": "1",
            "figures-0-image": SimpleUploadedFile(
                "evil.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml"
            ),
        }
    )
    response = admin_client.post(reverse("admin:papers_entry_change", args=[entry.pk]), data)
    assert response.status_code == 200
    assert not Figure.objects.exists()


def test_editor_publishes_from_the_change_form(admin_user):
    digest = factories.digest(entries=1, status="draft")
    client = _csrf_client(admin_user)
    url = reverse("admin:papers_digest_change", args=[digest.pk])
    entry = digest.entries.get()
    data = _digest_data(
        [{"id": entry.pk, "digest": digest.pk, "position": "1", "paper": entry.paper_id}],
        slug=digest.slug,
        issue_date=digest.issue_date.isoformat(),
        title=digest.title,
        _publish="1",
    )
    response = _post(client, url, data)
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.status == "published" and digest.is_published
    assert Client().get(digest.get_absolute_url()).status_code == 200


def test_a_digest_without_papers_cannot_be_published(admin_client):
    digest = factories.digest(status="draft")
    response = admin_client.post(
        reverse("admin:papers_digest_changelist"),
        {"action": "publish_selected", "_selected_action": [digest.pk]},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    assert any(digest.title in message for message in shown)
    digest.refresh_from_db()
    assert digest.status == "draft"


def test_staff_without_the_publish_permission_cannot_publish_by_crafted_post():
    digest = factories.digest(entries=1, status="draft")
    writer = factories.user(
        "writer",
        staff=True,
        perms=["papers.view_digest", "papers.change_digest", "papers.view_entry"],
    )
    client = _csrf_client(writer)
    changelist = reverse("admin:papers_digest_changelist")
    _post(client, changelist, {"action": "publish_selected", "_selected_action": [digest.pk]})
    entry = digest.entries.get()
    _post(
        client,
        reverse("admin:papers_digest_change", args=[digest.pk]),
        _digest_data(
            [{"id": entry.pk, "digest": digest.pk, "position": "1", "paper": entry.paper_id}],
            slug=digest.slug,
            issue_date=digest.issue_date.isoformat(),
            _publish="1",
            status="published",
            published_at_0="2025-01-01",
            published_at_1="00:00:00",
        ),
    )
    digest.refresh_from_db()
    assert digest.status == "draft"
    assert digest.published_at is None


def test_the_service_refuses_a_user_without_permission():
    from django.core.exceptions import PermissionDenied

    from editorial import services

    digest = factories.digest(entries=1, status="draft")
    with pytest.raises(PermissionDenied):
        services.digest_publish(digest=digest, by=factories.user("nobody", staff=True))
    digest.refresh_from_db()
    assert digest.status == "draft"


def test_publishing_with_a_future_time_schedules(admin_user):
    from editorial import services

    digest = factories.digest(entries=1, status="draft", issue_date=datetime.date(2025, 9, 30))
    later = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    digest = services.digest_publish(digest=digest, by=admin_user, at=later)
    assert digest.is_scheduled and not digest.is_published
    assert Client().get(digest.get_absolute_url()).status_code == 404


# --- the date drill-down of the large lists (papers/admin/scale.py, SeekingDates) ----


def _drill_down(client, url):
    """The links of the date drill-down above a changelist, as (text, query) pairs."""
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    nav = html.split('<nav class="toplinks">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="\?([^"]*)"[^>]*>([^<]+)</a>', nav)


def test_paper_date_drill_down_offers_exactly_the_years_months_and_days_with_papers(
    admin_client,
):
    for day in ["2019-03-05", "2021-07-01", "2021-11-30", "2021-11-02", "2024-02-29"]:
        factories.paper(published_on=datetime.date.fromisoformat(day))
    factories.paper(published_on=None)

    years = _drill_down(admin_client, "/admin/papers/paper/")
    assert [text for _, text in years] == ["2019", "2021", "2024"]
    assert years[1][0] == "published_on__year=2021"

    months = _drill_down(admin_client, "/admin/papers/paper/?published_on__year=2021")
    assert [text for _, text in months][1:] == ["July 2021", "November 2021"]
    days = _drill_down(
        admin_client, "/admin/papers/paper/?published_on__year=2021&published_on__month=11"
    )
    assert [text for _, text in days][1:] == ["November 2", "November 30"]


def test_date_drill_down_follows_the_search_and_the_filters(admin_client):
    factories.paper(title="Needle in 2020", published_on=datetime.date(2020, 5, 1))
    factories.paper(title="Needle in 2023", published_on=datetime.date(2023, 5, 1))
    factories.paper(title="Hay", published_on=datetime.date(2022, 5, 1))
    other = factories.category("cs.CL", "Computation and Language")
    factories.paper(title="Hay", published_on=datetime.date(2018, 1, 9), primary_category=other)

    found = _drill_down(admin_client, "/admin/papers/paper/?q=Needle")
    assert [text for _, text in found] == ["2020", "2023"]
    assert all("q=Needle" in query for query, _ in found)
    # One year left: Django goes straight to its months, as it does for any list.
    one = _drill_down(admin_client, f"/admin/papers/paper/?primary_category__id__exact={other.pk}")
    assert [text for _, text in one][1:] == ["January 9"]


def test_audit_log_drill_down_counts_days_in_the_site_time_zone(admin_client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    digest = factories.digest()
    # 20:00 UTC on New Year's Eve is already the next year in Shanghai (UTC+8).
    for moment in ["2024-06-30T10:00:00+00:00", "2024-12-31T20:00:00+00:00"]:
        AuditRecord.objects.create(
            digest=digest,
            digest_label=str(digest),
            action=AuditRecord.Action.PUBLISH,
            created_at=datetime.datetime.fromisoformat(moment),
        )
    years = _drill_down(admin_client, "/admin/editorial/auditrecord/")
    assert [text for _, text in years] == ["2024", "2025"]
    days = _drill_down(
        admin_client, "/admin/editorial/auditrecord/?created_at__year=2025&created_at__month=1"
    )
    assert [text for _, text in days][1:] == ["January 1"]
