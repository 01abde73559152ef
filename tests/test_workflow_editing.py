"""Two editors on one digest: a save based on an older version is refused with who changed
it and when, nothing typed is lost, and the page says who else has it open."""

import datetime

import pytest
from django.urls import reverse

from editorial import services
from tests import factories
from tests.workflow_support import change_url, client_for, csrf_post, digest_form_data, role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def digest():
    result = factories.digest(entries=1, status="draft", title="原来的标题")
    services.revision_record(digest=result, by=None, message="imported")
    return result


def test_a_save_based_on_an_older_version_is_refused_and_the_input_is_kept(time_machine, digest):
    alice, bob = role_user("editor"), role_user("author")
    bob.first_name, bob.last_name = "Bob", "Li"
    bob.save()
    time_machine.move_to(datetime.datetime(2030, 4, 2, 1, 30, tzinfo=datetime.UTC), tick=False)
    # Alice opens the page (revision 1), then Bob saves.
    alice_form = digest_form_data(digest)
    assert alice_form["base_revision"] == "1"
    bob_response = csrf_post(
        client_for(bob), change_url(digest), digest_form_data(digest, summary="Bob 的摘要")
    )
    assert bob_response.status_code == 302

    alice_form.update(title="Alice 的新标题", summary="Alice 写了很久的一段摘要")
    alice_client = client_for(alice)
    response = csrf_post(alice_client, change_url(digest), alice_form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Bob Li" in html and "2030-04-02 09:30 (Asia/Shanghai)" in html
    assert "Alice 写了很久的一段摘要" in html and "Alice 的新标题" in html
    digest.refresh_from_db()
    assert digest.summary == "Bob 的摘要" and digest.title == "原来的标题"
    assert digest.revisions.count() == 2

    # Having seen the warning, saving again replaces Bob's version knowingly.
    form = response.context["adminform"].form
    assert form["base_revision"].value() == "2"
    alice_form["base_revision"] = "2"
    assert csrf_post(alice_client, change_url(digest), alice_form).status_code == 302
    digest.refresh_from_db()
    assert digest.summary == "Alice 写了很久的一段摘要"


def test_an_entry_save_based_on_an_older_digest_version_is_refused(digest):
    entry = digest.entries.get()
    editor = role_user("editor")
    services.revision_record(digest=digest, by=editor, message="someone else saved")
    data = {
        "digest": digest.pk,
        "position": "1",
        "paper": entry.paper_id,
        "title_zh": "我改的中文标题",
        "tags": "",
        "unplaced_text": "",
        "base_revision": "1",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "1000",
    }
    url = reverse("admin:papers_entry_change", args=[entry.pk])
    response = csrf_post(client_for(editor), url, data)
    assert response.status_code == 200
    assert "我改的中文标题" in response.content.decode()
    entry.refresh_from_db()
    assert entry.title_zh != "我改的中文标题"


def test_the_edit_page_names_who_else_opened_it_recently(time_machine, digest):
    start = datetime.datetime(2030, 4, 2, 1, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    alice, bob = role_user("editor"), role_user("author")
    client_for(bob).get(change_url(digest))
    time_machine.move_to(start + datetime.timedelta(minutes=2), tick=False)
    alice_client = client_for(alice)
    html = alice_client.get(change_url(digest)).content.decode()
    assert "author (2030-04-02 09:00 (Asia/Shanghai))" in html
    time_machine.move_to(start + datetime.timedelta(minutes=30), tick=False)
    alice_client = client_for(alice)
    html = alice_client.get(change_url(digest)).content.decode()
    assert "author (" not in html


def test_the_edit_page_carries_the_version_it_was_based_on(digest):
    html = client_for(role_user("editor")).get(change_url(digest)).content.decode()
    assert 'name="base_revision" value="1"' in html


def test_a_read_only_visit_is_not_announced_as_editing():
    digest = factories.digest(entries=1, status="published")
    author, editor = role_user("author"), role_user("editor")
    client_for(author).get(change_url(digest))
    html = client_for(editor).get(change_url(digest)).content.decode()
    assert "workflow-presence" not in html
