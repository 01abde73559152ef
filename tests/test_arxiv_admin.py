"""The paper admin's arXiv box and list action, against the local arXiv stand-in."""

import pytest
from django.test import Client
from django.urls import reverse

from papers.models import Paper
from tests import factories
from tests.arxiv_server import Reply, recorded

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

FETCH = "/admin/papers/paper/fetch-arxiv/"


@pytest.fixture
def editor():
    return factories.user(
        "editor",
        staff=True,
        perms=["papers.add_paper", "papers.change_paper", "papers.view_paper"],
    )


def _client(user):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.get(reverse("admin:papers_paper_changelist"))  # sets the CSRF cookie
    return client


def _post(client, url, data):
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_the_paper_form_has_an_arxiv_box(editor):
    client = _client(editor)
    page = client.get(reverse("admin:papers_paper_add")).content.decode()
    assert 'name="arxiv_lookup"' in page and FETCH in page
    paper = factories.paper(arxiv_id="2509.22445")
    page = client.get(reverse("admin:papers_paper_change", args=[paper.pk])).content.decode()
    assert 'value="2509.22445"' in page and "Refresh from arXiv" in page


def test_a_pasted_link_creates_the_paper_and_opens_it(editor, fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    response = _post(_client(editor), FETCH, {"arxiv_lookup": "https://arxiv.org/abs/2509.22445v2"})
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:papers_paper_change", args=[paper.pk])
    assert paper.author_list[0] == "Peter Shaw"


def test_an_arxiv_failure_is_shown_and_nothing_is_written(editor, fake_arxiv):
    fake_arxiv.add(Reply(recorded("empty.xml")))
    client = _client(editor)
    response = _post(client, FETCH, {"arxiv_lookup": "2509.99999"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "rXiv has no paper 2509.99999" in page
    assert 'value="2509.99999"' in page  # the box keeps what was typed
    assert Paper.objects.count() == 0


def test_corrected_fields_need_a_confirmation_before_they_are_overwritten(editor, fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(recorded("two-papers.xml"))
    client = _client(editor)
    _post(client, FETCH, {"arxiv_lookup": "2509.22445"})
    Paper.objects.filter(arxiv_id="2509.22445").update(title="Corrected", comment="")
    response = _post(client, FETCH, {"arxiv_lookup": "2509.22445"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Corrected" in page and 'value="2509.22445|title"' in page
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert paper.title == "Corrected"
    assert paper.comment == "9 pages, 4 figures"  # empty, so filled without asking
    response = _post(
        client, FETCH, {"ids": "2509.22445", "overwrite": "2509.22445|title", "_confirm": "1"}
    )
    assert response.status_code == 302
    assert Paper.objects.get(arxiv_id="2509.22445").title.startswith("Bridging")


def test_leaving_the_boxes_unticked_keeps_the_corrections(editor, fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(recorded("two-papers.xml"))
    client = _client(editor)
    _post(client, FETCH, {"arxiv_lookup": "2509.22445"})
    Paper.objects.filter(arxiv_id="2509.22445").update(title="Corrected")
    _post(client, FETCH, {"ids": "2509.22445", "_confirm": "1"})
    assert Paper.objects.get(arxiv_id="2509.22445").title == "Corrected"


def test_the_list_action_refreshes_the_selected_papers(editor, fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    one = factories.paper(arxiv_id="2509.22445", abstract="", comment="")
    two = factories.paper(arxiv_id="hep-th/9901001", abstract="")
    client = _client(editor)
    response = _post(
        client,
        reverse("admin:papers_paper_changelist"),
        {"action": "fetch_from_arxiv", "_selected_action": [one.pk, two.pk]},
    )
    assert response.status_code == 200  # the confirmation page: titles were typed by hand
    assert fake_arxiv.requests[0]["ids"] == ["2509.22445", "hep-th/9901001"]
    one.refresh_from_db()
    assert one.abstract.startswith("The Minimum Description Length")
    assert one.comment == "9 pages, 4 figures"


def test_users_who_may_not_change_papers_cannot_fetch(fake_arxiv):
    viewer = factories.user("viewer", staff=True, perms=["papers.view_paper"])
    client = _client(viewer)
    assert _post(client, FETCH, {"arxiv_lookup": "2509.22445"}).status_code == 403
    assert fake_arxiv.requests == []


def test_the_fetch_url_refuses_get_and_posts_without_csrf(editor):
    client = _client(editor)
    assert client.get(FETCH).status_code == 405
    assert client.post(FETCH, {"arxiv_lookup": "2509.22445"}).status_code == 403
